// One referral (templates/referrals/show.html): unlocked in this browser with the referral key
// from my grant (client/referrals.js); each [data-referral-field] gets what was written, through
// textContent only, and a choice's words come from the page's data-choices (the server's words).

import { openReferral } from "../client/referrals.js";
import { loadSecretKey } from "../client/session.js";
import { showText } from "../lib/dom.js";
import { sentenceFor } from "../lib/errors.js";
import { showAlert } from "../lib/forms.js";
import { registerPage } from "../lib/pages.js";

async function mount(root) {
  const status = root.querySelector("[data-referral-status]");
  try {
    const form = await openReferral(
      await loadSecretKey(),
      root.dataset.keyId,
      root.dataset.ciphertext,
    );
    for (const holder of root.querySelectorAll("[data-referral-field]")) {
      const value = form[holder.dataset.referralField];
      const choices = holder.dataset.choices ? JSON.parse(holder.dataset.choices) : {};
      const text = typeof value === "string" && value !== "" ? value : root.dataset.empty;
      showText(holder, Object.hasOwn(choices, text) ? choices[text] : text);
    }
    status.textContent = "Unlocked in your browser.";
  } catch (error) {
    status.textContent = "";
    showAlert(root.querySelector("[data-referral-alert]"), sentenceFor(error));
  }
}

registerPage("referral", mount);
