// The case page's records (templates/cases/_risk.html, _notes.html, _agreement.html), for
// static/js/pages/case.js: seals what a facilitator writes before its form is sent (sealers
// "risk-assessment", "case-note", "agreement-item") and opens what was written in place
// (openers "risk-answers", "case-note", "agreement-item"). Every protocol call is
// client/casework.js's; decrypted words reach the page through textContent only.

import { ANSWERS, openAssessment, openRecord, sealAssessment, sealItem, sealNote } from "../../client/casework.js";
import { showText } from "../../lib/dom.js";
import { sentenceFor } from "../../lib/errors.js";
import { InputProblem } from "../../lib/forms.js";
import { registerOpener } from "../../lib/placeholders.js";
import { registerSealer } from "../../lib/sealed-forms.js";

const MAX_ANSWER = 4000;
const MAX_NOTE = 8000;
const MAX_DESCRIPTION = 1000;

/** The trimmed text of a textarea, or an InputProblem naming it. */
function typed(input, { required, most }) {
  const text = input.value.trim();
  if (required && !text) throw new InputProblem([[input, "Please write something first."]]);
  if (text.length > most) throw new InputProblem([[input, `Use at most ${most} characters.`]]);
  return text;
}

/** `caseReady()`: the opened case (a promise), or a rejection the page already explains. */
export function registerRecords(caseReady) {
  const opened = () => caseReady().catch(() => null);

  registerSealer("risk-assessment", async (form) => {
    const answers = {};
    for (const name of ANSWERS) {
      answers[name] = typed(form.querySelector(`#risk-${name}`), { required: false, most: MAX_ANSWER });
    }
    return sealAssessment(await opened(), answers);
  });

  registerSealer("case-note", async (form) => {
    const text = typed(form.querySelector("#note-text"), { required: true, most: MAX_NOTE });
    return sealNote(await opened(), text);
  });

  registerSealer("agreement-item", async (form) => {
    const description = typed(form.querySelector("#agreement-description"), {
      required: true,
      most: MAX_DESCRIPTION,
    });
    return sealItem(await opened(), description);
  });

  registerOpener("risk-answers", async (element) => {
    const { recordId, sealedText } = element.dataset;
    const waiting = element.querySelector("[data-sealed-waiting]");
    try {
      const answers = await openAssessment(await caseReady(), recordId, sealedText);
      for (const name of ANSWERS) {
        const holder = element.querySelector(`[data-answer="${name}"]`);
        if (answers[name]) showText(holder, answers[name]);
        else holder.textContent = "Not answered.";
      }
    } catch (error) {
      waiting.textContent = sentenceFor(error);
      throw error;
    }
    waiting.hidden = true;
    element.querySelector("[data-sealed-shown]").hidden = false;
  });

  for (const kind of ["note", "item"]) {
    registerOpener(kind === "note" ? "case-note" : "agreement-item", async (element) => {
      const { recordId, sealedText } = element.dataset;
      try {
        showText(element, await openRecord(await caseReady(), kind, recordId, sealedText));
      } catch (error) {
        element.textContent = sentenceFor(error);
        throw error;
      }
    });
  }
}
