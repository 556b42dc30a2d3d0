// A case's team of facilitators: every protocol call of adding a colleague (templates/cases/
// _team.html, static/js/pages/case.js).
//
//   grantToColleague(opened, accountId) -> {grant}: the case secret key boxed from me to the
//     colleague's box key, taken from the trust log (client/trust.js), never from the server's
//     account record: a colleague the log does not hold as a certified, unrevoked facilitator
//     gets nothing (NotCertifiedColleague), so a breached server cannot slip its own key in.
//
// `opened` is client/cases.js openCase's {caseId, keys, caseKey}.

import { protocol } from "../crypto/keys.js";
import { ShowableError } from "../lib/errors.js";
import { loadTrust } from "./trust.js";

/** The chosen account is not a facilitator the trust log vouches for. */
export class NotCertifiedColleague extends ShowableError {
  constructor() {
    super(
      "Your browser could not find this colleague's certificate in the service's trust log, so it did not give them the case's key. A service manager can certify them first.",
    );
    this.name = "NotCertifiedColleague";
  }
}

export async function grantToColleague(opened, accountId) {
  const { caseId, keys, caseKey } = opened;
  const view = await loadTrust(keys, { audience: "staff" });
  const colleague = view.staff.find(
    (person) => person.account_id === accountId && person.role === "facilitator",
  );
  if (!colleague || typeof colleague.box_public_key !== "string") {
    throw new NotCertifiedColleague();
  }
  const p = await protocol();
  const grant = p.makeCaseGrant(
    keys.secretKey,
    p.b64decode(colleague.box_public_key),
    caseId,
    caseKey.caseSk,
  );
  return { grant: p.b64encode(grant) };
}
