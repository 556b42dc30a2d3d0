// The public referral pages (templates/referrals/refer.html and refer_self.html), no account:
// the browser fetches the service's referral key, checks its statement against the trust log
// (client/referrals.js), shows the service's security number to compare, and seals the form
// (data-seal="referral"). Only {channel, source, key_id, ciphertext} leaves the browser; the
// inputs that hold what the person writes have no name attribute.

import { loadReferralKey, sealReferralForm } from "../client/referrals.js";
import { sentenceFor } from "../lib/errors.js";
import { InputProblem, showAlert } from "../lib/forms.js";
import { registerPage } from "../lib/pages.js";
import { registerSealer } from "../lib/sealed-forms.js";

/** What the person wrote: every [data-field] input, select and textarea, by its field name. */
export function readForm(form) {
  const values = {};
  const missing = [];
  for (const input of form.querySelectorAll("[data-field]")) {
    const value = input.value.trim();
    values[input.dataset.field] = value;
    if (input.dataset.required !== undefined && value === "") {
      missing.push([input, input.dataset.required || "Please fill this in."]);
    }
  }
  if (missing.length) throw new InputProblem(missing, "Please fill in the parts marked above.");
  return values;
}

function mount(root) {
  const channel = root.dataset.channel;
  const number = root.querySelector("[data-root-number]");
  const key = loadReferralKey();
  key.then(
    (loaded) => {
      number.textContent = loaded.rootNumber;
      root.querySelector("[data-root-check]").hidden = false;
    },
    (error) => showAlert(root.querySelector("[data-key-alert]"), sentenceFor(error)),
  );
  registerSealer("referral", async (form) => {
    const values = readForm(form);
    return sealReferralForm(await key, { form: channel, ...values });
  });
}

registerPage("refer", mount);
