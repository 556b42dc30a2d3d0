// Referral triage (docs/api-referrals.md "Triage"): notes on a referral and sharing one opened
// referral with the facilitator it is accepted to, on the referral's page.
//
//   sealTriageNote(keys, text)   a note sealed to the referral key (as a form {note}), or null
//                                when nothing was written
//   openTriageNote(keys, keyId, sealedB64)    the note's words
//   shareReferral(keys, referralId, form, facilitatorId)   {share}: the opened form boxed to
//                                the facilitator's box key from the trust log (a certified
//                                facilitator only), never from the server's record
//   openSharedReferral(keys, {referralId, share, senderAccountId, senderPublicKey})   the form,
//                                once the share's sender checks out as trusted staff

import { protocol } from "../crypto/keys.js";
import { ShowableError } from "../lib/errors.js";
import { openMyReferralKey, openReferral, ReferralTooLong } from "./referrals.js";
import { loadTrust } from "./trust.js";

export class NotAFacilitator extends ShowableError {
  constructor() {
    super(
      "Your browser could not find this facilitator's certificate in the service's trust log, " +
        "so it did not share the referral with them. Choose a certified facilitator.",
    );
    this.name = "NotAFacilitator";
  }
}

export class ShareNotGenuine extends ShowableError {
  constructor() {
    super(
      "Your browser could not confirm this referral as shared by a certified colleague, so it " +
        "did not open it. Please tell your service manager.",
    );
    this.name = "ShareNotGenuine";
  }
}

export async function sealTriageNote(keys, text) {
  const words = (text ?? "").trim();
  if (words === "") return null;
  const p = await protocol();
  const opened = await openMyReferralKey(keys);
  try {
    return p.b64encode(p.sealReferral(opened.publicKey, opened.keyId, { note: words }));
  } catch (error) {
    if (error instanceof p.MalformedInput) throw new ReferralTooLong();
    throw error;
  } finally {
    opened.secretKey.fill(0);
  }
}

export async function openTriageNote(keys, keyId, sealedB64) {
  const form = await openReferral(keys, keyId, sealedB64);
  return typeof form.note === "string" ? form.note : "";
}

export async function shareReferral(keys, referralId, form, facilitatorId) {
  const p = await protocol();
  const view = await loadTrust(keys, { audience: "staff" });
  const colleague = view.staff.find(
    (person) => person.account_id === facilitatorId && person.role === "facilitator",
  );
  if (!colleague || typeof colleague.box_public_key !== "string") throw new NotAFacilitator();
  const share = p.makeReferralShare(
    keys.secretKey,
    p.b64decode(colleague.box_public_key),
    referralId,
    form,
  );
  return { share: p.b64encode(share) };
}

export async function openSharedReferral(keys, shared) {
  const p = await protocol();
  const view = await loadTrust(keys, { audience: "staff" });
  try {
    if (!view.isTrustedBoxKey(shared.senderAccountId, shared.senderPublicKey)) {
      throw new p.WrongContext("the share's sender is not trusted staff");
    }
    return p.openReferralShare(
      keys.secretKey,
      p.b64decode(shared.senderPublicKey),
      shared.referralId,
      p.b64decode(shared.share),
    );
  } catch (error) {
    if (error instanceof p.ProtocolError) throw new ShareNotGenuine();
    throw error;
  }
}
