// "What participants said" (templates/feedback/texts.html): each free text opened in this
// browser with the referral key from my grant (client/feedback.js), shown through textContent.

import { openFeedbackTexts } from "../client/feedback.js";
import { loadSecretKey } from "../client/session.js";
import { showText } from "../lib/dom.js";
import { sentenceFor } from "../lib/errors.js";
import { showAlert } from "../lib/forms.js";
import { registerPage } from "../lib/pages.js";

const NOT_FEEDBACK = "This could not be opened as feedback locked to the service's key.";

async function mount(root) {
  const status = root.querySelector("[data-feedback-status]");
  const holders = [...root.querySelectorAll("[data-feedback-text]")];
  try {
    const texts = await openFeedbackTexts(
      await loadSecretKey(),
      holders.map((holder) => ({
        keyId: holder.dataset.keyId,
        ciphertext: holder.dataset.ciphertext,
      })),
    );
    holders.forEach((holder, index) => {
      showText(holder.querySelector("[data-feedback-words]"), texts[index] ?? NOT_FEEDBACK);
    });
    status.textContent = "Unlocked in your browser.";
  } catch (error) {
    status.textContent = "";
    showAlert(root.querySelector("[data-feedback-alert]"), sentenceFor(error));
  }
}

registerPage("feedback-texts", mount);
