// Anonymous feedback's free text (docs/api-feedback.md): sealed in a participant's or
// supporter's browser to the service's referral key, as a referral form of its own kind
// ({form: "feedback", text}), and opened in a service manager's browser with their grant of it.
//
//   sealFeedbackText(key, text)        {key_id, ciphertext}, or {} for no text; `key` from
//                                      client/referrals.js loadReferralKey()
//   openFeedbackTexts(keys, items)     for each {keyId, ciphertext}: the text, or null when it
//                                      does not open as feedback to the key I hold (so a
//                                      referral moved here by the server is never shown as one)

import { protocol } from "../crypto/keys.js";
import { openMyReferralKey, sealReferralForm } from "./referrals.js";

export const FEEDBACK_FORM = "feedback";

export async function sealFeedbackText(key, text) {
  const words = typeof text === "string" ? text.trim() : "";
  if (words === "") return {};
  return sealReferralForm(key, { form: FEEDBACK_FORM, text: words });
}

export async function openFeedbackTexts(keys, items) {
  const p = await protocol();
  const opened = await openMyReferralKey(keys);
  try {
    return items.map(({ keyId, ciphertext }) => {
      if (keyId !== opened.keyId) return null;
      try {
        const form = p.openReferral(opened.secretKey, keyId, p.b64decode(ciphertext));
        return form.form === FEEDBACK_FORM && typeof form.text === "string" ? form.text : null;
      } catch (error) {
        if (error instanceof p.ProtocolError) return null;
        throw error;
      }
    });
  } finally {
    opened.secretKey.fill(0);
  }
}
