// Entering a letter, scanned pages or a recording for a participant who cannot use the portal
// (templates/cases/enter.html). The server rendered whether it can be entered now, for whom,
// in which formats, and how the confirmation is recorded; this page only opens the case key,
// opens the participant's name, and seals (sealer "enter-letter"):
//   - a typed letter alone: client/entered.js sealEntered, the letter and the note on the
//     confirmation sealed to the case key;
//   - with scanned pages or a recording: the participants' own media modules record or take
//     the files (media/compose-media.js, in the formats the chosen recipient and the
//     participant both agreed to), upload them sealed (media/message.js, with the panel of
//     media/upload-progress.js), and the note is sealed beside them (sealEnteredNote).
// Revising a returned one for them (data-revises, GET /review/{id}/revise-for-them): the next
// version of the same object (client/entered.js revisionIdentity), the feedback and the typed
// words as they were opened with the case key (client/review.js), and a fresh confirmation.
// The plain choices (recipient, how, date) travel as the form's own fields (hx-params); the
// answer is HX-Redirect to the review page, followed once the copy of the recording kept on
// this device is let go.

import { forgetCase, openCase, openParticipantName } from "../client/cases.js";
import {
  enteredIdentity,
  identityOf,
  revisionIdentity,
  sealEntered,
  sealEnteredNote,
} from "../client/entered.js";
import { closeReview, openContent, openFeedback, openReview } from "../client/review.js";
import { loadSecretKey } from "../client/session.js";
import { ShowableError, sentenceFor } from "../lib/errors.js";
import { InputProblem, isBusy, setBusy, showAlert } from "../lib/forms.js";
import { safeNext } from "../lib/http.js";
import { browserLocation } from "../lib/navigation.js";
import { registerPage } from "../lib/pages.js";
import { registerOpener } from "../lib/placeholders.js";
import { registerCheck, registerSealer } from "../lib/sealed-forms.js";
import { MediaComposer, UploadCancelled } from "../media/compose-media.js";
import { uploadPanel } from "../media/upload-progress.js";

const MAX_NOTE = 2000;
const WENT_WRONG = "Something went wrong while sending.";
const NOT_SENT =
  "Nothing has been sent for review. The recording and files are still here: you can send again.";
const CANCELLED = "Sending was cancelled and nothing was sent. Everything is still here.";
// Sent: the page goes on to the review once the copy kept on this device is let go, or after
// this long in any case.
const LET_GO_MS = 3000;

function mount(root) {
  const { caseId, participantId, revises } = root.dataset;
  const form = document.getElementById("enter-form");
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
    if (form) form.hidden = true;
  });
  window.addEventListener("pagehide", () => forgetCase(held), { once: true });

  registerOpener("participant-name", async (element) => {
    const opened = await caseReady;
    const { participantId: id, sealedName } = element.dataset;
    element.textContent = await openParticipantName(opened, id, sealedName);
  });
  if (!form) return; // the server said why nothing can be entered now

  const identity = revises ? revisionIdentity(revises) : enteredIdentity(caseId, participantId);
  if (revises) showWhatWasReturned(revises, caseId);
  // The media parts wait for the case key (and so for this tab's key); sealing waits for them.
  const mediaReady = caseReady.then(({ keys }) => startMedia(form, keys, identity, revises));
  const progress = uploadPanel(form);

  /** What is wrong before anything is asked or sent: [input, sentence] pairs, or a sentence. */
  function problems(media) {
    const textInput = form.querySelector("#enter-text");
    const noteInput = form.querySelector("#enter-note");
    const found = [];
    if (!textInput.value.trim() && !media.hasMedia()) {
      found.push([textInput, textInput.dataset.missing]);
    }
    if (noteInput.value.trim().length > MAX_NOTE) {
      found.push([noteInput, `Use at most ${MAX_NOTE} characters.`]);
    }
    if (found.length) throw new InputProblem(found);
    const why = media.problem(textInput.value);
    if (why) throw new ShowableError(why);
  }

  registerCheck("enter-letter", async () => {
    problems(await mediaReady);
    return null;
  });

  registerSealer("enter-letter", async () => {
    const media = await mediaReady;
    problems(media); // again: a recording may have started while the question was open
    const opened = await caseReady;
    const text = form.querySelector("#enter-text").value;
    const note = form.querySelector("#enter-note").value.trim();
    if (!media.hasMedia()) return sealEntered(opened, identity, { text, note });
    const fields = await upload(media, { text, casePk: opened.caseKey.casePk });
    if (fields === null) return null; // stopped: the panel says why
    return { ...fields, ...(await sealEnteredNote(opened, fields.letter.object_id, note)) };
  });

  async function upload(media, message) {
    form.querySelector("#enter-actions").hidden = true;
    progress.begin("Locking what you entered and sending it…");
    try {
      const fields = await media.send({
        ...message,
        recipientId: chosenRecipient(form)?.value ?? null,
        onProgress: progress.show,
        onWaiting: (waiting) => {
          progress.status.textContent = waiting
            ? "Waiting for the connection… nothing is lost. Sending goes on by itself."
            : "The connection is back. Sending…";
        },
      });
      progress.cancel.hidden = true;
      progress.status.textContent = "Everything is sent. Handing it over for review…";
      return fields;
    } catch (error) {
      if (error instanceof UploadCancelled) return null; // Cancel says what happened
      progress.status.textContent = "";
      progress.retry.hidden = false;
      showAlert(progress.alert, `${sentenceFor(error, WENT_WRONG)} ${NOT_SENT}`);
      return null;
    }
  }

  const send = () => form.requestSubmit();
  progress.retry.addEventListener("click", () => {
    progress.panel.hidden = true;
    form.querySelector("#enter-actions").hidden = false;
    send(); // asks again: nothing is sent before "Yes"
  });

  progress.cancel.addEventListener("click", async () => {
    if (isBusy(progress.cancel)) return;
    const restore = setBusy(progress.cancel, "Cancelling…");
    try {
      await (await mediaReady).cancel();
    } finally {
      restore();
    }
    progress.panel.hidden = true;
    form.querySelector("#enter-actions").hidden = false;
    showAlert(form.querySelector("#enter-alert"), CANCELLED);
  });

  form.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.xhr?.getResponseHeader("HX-Redirect")) return;
    // Refused (its sentence is in the form's alert), or the portal could not be reached.
    progress.panel.hidden = true;
    form.querySelector("#enter-actions").hidden = false;
  });

  form.addEventListener("htmx:beforeOnLoad", (event) => {
    const next = event.detail.xhr?.getResponseHeader("HX-Redirect");
    if (!next) return;
    // Sent: the copy of the recording kept on this device is let go before leaving (lib/
    // responses.js would leave at once), so it is never offered again as unsent.
    event.preventDefault();
    event.stopPropagation();
    const leave = () => browserLocation.replace(safeNext(next));
    mediaReady
      .then((media) => Promise.race([media.sent(), pause(LET_GO_MS)]))
      .catch(() => {})
      .then(leave);
  });
}

const pause = (ms) => new Promise((resolve) => window.setTimeout(resolve, ms));

function chosenRecipient(form) {
  return (
    form.querySelector('input[name="recipient_participant_id"]:checked') ||
    form.querySelector('input[type="hidden"][name="recipient_participant_id"]')
  );
}

/**
 * Revising: the feedback (an opener, `entered-feedback`) and the typed words as they were,
 * in the letter box to change; both opened with the case key. Scans and recordings are added
 * again (the hint says so).
 */
function showWhatWasReturned(messageId, caseId) {
  const opened = openReview(messageId, caseId).then(async (review) => {
    try {
      const feedback = await openFeedback(review).catch(() => null);
      const content = await openContent(review).catch(() => null);
      return { feedback, text: typeof content?.text === "string" ? content.text : null };
    } finally {
      closeReview(review);
    }
  });
  registerOpener("entered-feedback", async (element) => {
    const { feedback } = await opened;
    if (feedback === null) {
      element.textContent = element.dataset.failedText;
      throw new Error("the feedback did not open here");
    }
    element.textContent = feedback;
  });
  opened
    .then(({ text }) => {
      const box = document.getElementById("enter-text");
      if (text !== null && !box.value) box.value = text;
    })
    .catch(() => {}); // the box stays empty: the review page shows the words as they were
}

/** The recording and file parts, in the formats the chosen recipient can receive. */
async function startMedia(form, keys, identity, revisesMessageId) {
  const media = await MediaComposer.start(keys, {
    caseId: form.closest("[data-case-id]").dataset.caseId,
    revisesMessageId: revisesMessageId || null,
    newIdentity: () => identityOf(identity),
    form,
  });
  const offer = () => {
    const chosen = chosenRecipient(form);
    const formats = (chosen ? chosen.dataset.formats : form.dataset.formats) || "letter";
    media.setFormats(formats.split(" ").filter(Boolean));
  };
  form.addEventListener("change", (event) => {
    if (event.target.name === "recipient_participant_id") offer();
  });
  offer();
  return media;
}

registerPage("enter", mount);
