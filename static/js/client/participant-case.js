// The participant's case as their own browser can confirm it (GET /api/me/case).
//
// The case public key, which letters are sealed to, comes from a grant made by a facilitator
// (makeCasePublicGrant) and is opened here with the participant's secret key. The grant only
// opens if the facilitator whose public key is named (grant_sender_public_key) really made it
// for this participant and this case. So the facilitator's security number is shown only when
// the grant opens; the server's own `facilitator_fingerprint` is never shown, because the
// server could claim any number.
//
// A grant that opens is not enough: the server could have made the "facilitator" account
// itself. So (docs/api-trust.md, "Signed case keys") the grant's sender must be trusted staff
// (client/trust.js: certified in the trust log, or the inviter pinned when I joined), checked
// before the grant is opened, and a case-key statement signed by trusted staff must name the
// same key for this case. The key is then pinned per case: a later, unexplained change is
// refused.

import { protocol } from "../crypto/keys.js";
import { getJSON } from "../lib/http.js";
import { NotGenuine, refuse } from "./security-events.js";
import { checkCaseKey, loadTrust, pinCaseKey } from "./trust.js";

export { NotGenuine } from "./security-events.js";

/**
 * {me, status, casePublicKey, facilitatorPublicKey, problem}. status is
 *   "confirmed"  the grant opened and the trust chain vouches for it: casePublicKey and
 *                facilitatorPublicKey are set;
 *   "missing"    no grant yet (the facilitator has not finished setting up the case);
 *   "failed"     a grant is there but does not open for this person, case and facilitator;
 *   "refused"    the trust chain does not vouch for the grant's sender or the case key:
 *                problem is the NotGenuine to show (already reported), nothing is set.
 * Throws what the trust check cannot decide (TrustNotSetUp, VaultUnreadable, ApiError).
 */
export async function loadCaseContext(p, keys) {
  const me = await getJSON("/api/me/case");
  const result = {
    me,
    status: "missing",
    casePublicKey: null,
    facilitatorPublicKey: null,
    facilitatorSigningPublicKey: null,
    problem: null,
  };
  if (!me.case_public_grant || !me.grant_sender_public_key) return result;
  try {
    const casePublicKey = await confirmedCaseKey(p, keys, me);
    if (casePublicKey === null) {
      result.status = "failed";
      return result;
    }
    result.casePublicKey = casePublicKey;
    result.facilitatorPublicKey = p.b64decode(me.grant_sender_public_key);
    // The facilitator's signing key for their security number: from the trust chain only.
    const view = await loadTrust(keys, { audience: "participant" });
    const signing = view.signingKeysOf(me.grant_sender_account_id);
    result.facilitatorSigningPublicKey = signing.length === 1 ? p.b64decode(signing[0]) : null;
    result.status = "confirmed";
  } catch (error) {
    if (!(error instanceof NotGenuine)) throw error;
    result.status = "refused";
    result.problem = error;
  }
  return result;
}

/** The case public key once every check holds; null when the grant does not open. */
async function confirmedCaseKey(p, keys, me) {
  const caseId = me.case_id;
  const refusal = { audience: "participant", caseId };
  const view = await loadTrust(keys, { audience: "participant" });
  if (!view.isTrustedBoxKey(me.grant_sender_account_id, me.grant_sender_public_key)) {
    throw refuse("case-grant-not-genuine", refusal);
  }
  let casePublicKey;
  try {
    if (me.account_id && me.account_id !== keys.accountId) {
      throw new p.WrongContext("case answer is for another account");
    }
    const senderPk = p.b64decode(me.grant_sender_public_key);
    const grant = p.b64decode(me.case_public_grant);
    casePublicKey = p.openCasePublicGrant(keys.secretKey, senderPk, caseId, grant);
  } catch (error) {
    if (!(error instanceof p.ProtocolError)) throw error;
    return null;
  }
  const signed = me.case_key_statement;
  const fields = checkCaseKey(p, view, { caseId, signed, casePublicKey, ...refusal });
  await pinCaseKey(keys, { caseId, fields, ...refusal });
  return casePublicKey;
}

/**
 * {status, problem}: whether the case key can be used here, and the refusal to show when it is
 * "refused" (null otherwise), for a page that need not see the key.
 */
export async function caseKeyCheck(keys) {
  const { status, problem } = await loadCaseContext(await protocol(), keys);
  return { status, problem };
}

/** Only the status above ("confirmed", "missing", "failed", "refused"). */
export async function caseKeyStatus(keys) {
  return (await caseKeyCheck(keys)).status;
}
