// The participant's case as their own browser can confirm it (GET /api/me/case).
//
// The case public key, which letters are sealed to, comes from a grant made by a facilitator
// (makeCasePublicGrant) and is opened here with the participant's secret key. The grant only
// opens if the facilitator whose public key is named (grant_sender_public_key) really made it
// for this participant and this case. So the facilitator's security number is shown only when
// the grant opens; the server's own `facilitator_fingerprint` is never shown, because the
// server could claim any number.

import { protocol } from "../crypto/keys.js";
import { getJSON } from "../lib/http.js";

/**
 * {me, status, casePublicKey, facilitatorPublicKey}. status is
 *   "confirmed"  the grant opened: casePublicKey and facilitatorPublicKey are set;
 *   "missing"    no grant yet (the facilitator has not finished setting up the case);
 *   "failed"     a grant is there but does not open for this person, case and facilitator.
 */
export async function loadCaseContext(p, keys) {
  const me = await getJSON("/api/me/case");
  const result = { me, status: "missing", casePublicKey: null, facilitatorPublicKey: null };
  if (!me.case_public_grant || !me.grant_sender_public_key) return result;
  try {
    if (me.account_id && me.account_id !== keys.accountId) {
      throw new p.WrongContext("case answer is for another account");
    }
    const senderPk = p.b64decode(me.grant_sender_public_key);
    const grant = p.b64decode(me.case_public_grant);
    result.casePublicKey = p.openCasePublicGrant(keys.secretKey, senderPk, me.case_id, grant);
    result.facilitatorPublicKey = senderPk;
    result.status = "confirmed";
  } catch (error) {
    if (!(error instanceof p.ProtocolError)) throw error;
    result.status = "failed";
  }
  return result;
}

/** Only the status above, for a page that just needs to know ("confirmed", "missing", "failed"). */
export async function caseKeyStatus(keys) {
  return (await loadCaseContext(await protocol(), keys)).status;
}
