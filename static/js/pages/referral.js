// One referral (templates/referrals/show.html): unlocked in this browser, either with the
// referral key from my grant (client/referrals.js openReferral) or, for the facilitator it was
// accepted to, from the share made for them (openSharedReferral). Each [data-referral-field]
// gets what was written, through textContent only, and a choice's words come from the page's
// data-choices (the server's words).
//
// Triage (templates/referrals/_triage.html): the server renders the state and only the moves
// allowed now; this page only seals. Sealers: "referral-ask-more" and "referral-decline" seal
// the optional note to the referral key; "referral-accept" boxes the opened referral to the
// chosen facilitator's key from the trust log (a share). Notes already written are opened as
// placeholders (data-sealed="referral-note").

import {
  openSharedReferral,
  openTriageNote,
  sealTriageNote,
  shareReferral,
} from "../client/referral-triage.js";
import { openReferral } from "../client/referrals.js";
import { loadSecretKey } from "../client/session.js";
import { showText } from "../lib/dom.js";
import { ShowableError, sentenceFor } from "../lib/errors.js";
import { showAlert } from "../lib/forms.js";
import { registerPage } from "../lib/pages.js";
import { registerOpener } from "../lib/placeholders.js";
import { registerSealer } from "../lib/sealed-forms.js";

class NotOpenYet extends ShowableError {
  constructor() {
    super(
      "Your browser has not unlocked this referral yet, so it cannot share it. Please wait a " +
        "moment or reload the page.",
    );
    this.name = "NotOpenYet";
  }
}

async function opened(root) {
  const keys = await loadSecretKey();
  if (root.dataset.share) {
    return openSharedReferral(keys, {
      referralId: root.dataset.referralId,
      share: root.dataset.share,
      senderAccountId: root.dataset.senderAccountId,
      senderPublicKey: root.dataset.senderPublicKey,
    });
  }
  return openReferral(keys, root.dataset.keyId, root.dataset.ciphertext);
}

function noteOf(form) {
  return form.querySelector("[data-note]")?.value ?? "";
}

async function sealedNote(form) {
  const note = await sealTriageNote(await loadSecretKey(), noteOf(form));
  return note === null ? {} : { note };
}

async function mount(root) {
  const status = root.querySelector("[data-referral-status]");
  let form = null;
  registerOpener("referral-note", async (element) => {
    const words = await openTriageNote(
      await loadSecretKey(),
      element.dataset.keyId,
      element.dataset.ciphertext,
    );
    showText(element, words);
  });
  registerSealer("referral-ask-more", sealedNote);
  registerSealer("referral-decline", sealedNote);
  registerSealer("referral-accept", async (element) => {
    const facilitatorId = element.querySelector("[name=facilitator_id]")?.value ?? "";
    if (facilitatorId === "") return {}; // the server says to choose one, under the field
    if (form === null) throw new NotOpenYet();
    return shareReferral(await loadSecretKey(), root.dataset.referralId, form, facilitatorId);
  });
  try {
    form = await opened(root);
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
