// The anonymous feedback form (templates/feedback/form.html), when the service has a referral
// key: the free text is sealed in this browser to that key (client/feedback.js) before the
// form's request leaves; the replies (yes, partly, no) go as the form's named fields.

import { loadReferralKey } from "../client/referrals.js";
import { sealFeedbackText } from "../client/feedback.js";
import { sentenceFor } from "../lib/errors.js";
import { showAlert } from "../lib/forms.js";
import { registerPage } from "../lib/pages.js";
import { registerSealer } from "../lib/sealed-forms.js";

function mount(root) {
  const key = loadReferralKey();
  // Said at once, so nobody writes words this page could not lock.
  key.catch((error) => showAlert(root.querySelector("#feedback-alert"), sentenceFor(error)));
  registerSealer("feedback", async (form) => {
    const text = form.querySelector('[data-field="text"]')?.value ?? "";
    if (text.trim() === "") return {};
    return sealFeedbackText(await key, text);
  });
}

registerPage("feedback", mount);
