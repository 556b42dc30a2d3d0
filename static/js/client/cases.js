// A case's keys, for its facilitators.

import { holdSecret, protocol } from "../crypto/keys.js";
import { ApiError, ShowableError } from "../lib/errors.js";
import { getJSON } from "../lib/http.js";

/** The case key could not be unlocked (no grant for us, or one that does not open). */
export class CaseKeyUnavailable extends ShowableError {
  constructor(message) {
    super(message);
    this.name = "CaseKeyUnavailable";
  }
}

/**
 * Open this case's secret key: GET /api/cases/{id}/key, then openCaseGrant with my secret key.
 * The grant names the facilitator who made it; it must open for exactly this case. The secret
 * must also match the case public key the server lists, so that letters sealed by participants
 * to that public key are ones we can read (and so that a mismatch is noticed here, not later).
 * Returns {caseSk (held: wiped on quick exit), casePk, epoch}.
 */
export async function openCaseKey(keys, caseId) {
  const p = await protocol();
  let answer;
  try {
    answer = await getJSON(`/api/cases/${encodeURIComponent(caseId)}/key`);
  } catch (error) {
    if (error instanceof ApiError && error.status >= 400 && error.status < 500) {
      throw new CaseKeyUnavailable(
        "You do not hold this case's key yet. A facilitator who works on this case can give it to you.",
      );
    }
    throw error;
  }
  let caseSk;
  try {
    caseSk = holdSecret(
      p.openCaseGrant(
        keys.secretKey,
        p.b64decode(answer.sender_public_key),
        caseId,
        p.b64decode(answer.grant),
      ),
    );
  } catch (error) {
    if (error instanceof p.ProtocolError) {
      throw new CaseKeyUnavailable(
        "This case's key could not be unlocked, so names and letters cannot be shown. Nothing was changed. Please tell your service manager.",
      );
    }
    throw error;
  }
  const casePk = p.publicKeyFromSecret(caseSk);
  if (p.b64encode(casePk) !== answer.case_public_key) {
    caseSk.fill(0);
    throw new CaseKeyUnavailable(
      "This case's keys do not match each other, so nothing can be sealed for it safely. Please tell your service manager.",
    );
  }
  return { caseSk, casePk, epoch: answer.epoch };
}
