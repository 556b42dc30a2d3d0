// Entering a letter for a participant who cannot use the portal (templates/cases/enter.html).
// The server rendered whether it can be entered now, for whom, and how the confirmation is
// recorded; this page only opens the case key, opens the participant's name, and seals the
// letter and the note on the confirmation (client/entered.js, sealer "enter-letter"). The plain
// choices (recipient, how, date) travel as the form's own fields; the answer is HX-Redirect to
// the review page.

import { forgetCase, openCase, openParticipantName } from "../client/cases.js";
import { enteredIdentity, sealEntered } from "../client/entered.js";
import { loadSecretKey } from "../client/session.js";
import { sentenceFor } from "../lib/errors.js";
import { InputProblem, showAlert } from "../lib/forms.js";
import { registerPage } from "../lib/pages.js";
import { registerOpener } from "../lib/placeholders.js";
import { registerSealer } from "../lib/sealed-forms.js";

const MAX_NOTE = 2000;

function mount(root) {
  const { caseId, participantId } = root.dataset;
  const held = { keys: null, caseKey: null }; // forgotten when the page is left
  const caseReady = loadSecretKey().then(async (keys) => {
    held.keys = keys;
    const opened = await openCase(keys, caseId);
    held.caseKey = opened.caseKey;
    return opened;
  });
  caseReady.catch((error) => {
    // Nothing can be sealed here: say why once, and take away the form that would fail.
    showAlert(document.getElementById("enter-page-alert"), sentenceFor(error));
    const form = document.getElementById("enter-form");
    if (form) form.hidden = true;
  });
  window.addEventListener("pagehide", () => forgetCase(held), { once: true });

  registerOpener("participant-name", async (element) => {
    const opened = await caseReady;
    const { participantId: id, sealedName } = element.dataset;
    element.textContent = await openParticipantName(opened, id, sealedName);
  });

  const identity = enteredIdentity(caseId, participantId);
  registerSealer("enter-letter", async (form) => {
    const textInput = form.querySelector("#enter-text");
    const noteInput = form.querySelector("#enter-note");
    const text = textInput.value;
    const note = noteInput.value.trim();
    const problems = [];
    if (!text.trim()) problems.push([textInput, textInput.dataset.missing]);
    if (note.length > MAX_NOTE) problems.push([noteInput, `Use at most ${MAX_NOTE} characters.`]);
    if (problems.length) throw new InputProblem(problems);
    return sealEntered(await caseReady, identity, { text, note });
  });
}

registerPage("enter", mount);
