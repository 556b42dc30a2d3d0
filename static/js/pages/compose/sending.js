// Sending from the compose page (templates/letters/_sending.html).
//
// The send button asks first (its data-confirm-* words, lib/confirm.js), after the checks that
// would stop it. Then the form's htmx request starts (hx-trigger="send"), and its sealer
// ("letter", lib/sealed-forms.js) seals the letter to the case key, or, for a message with
// recordings or files, uploads them first with the progress bar, Cancel and "Try sending
// again". htmx posts ciphertext and grants only; the server answers HX-Redirect to the letter
// page. Before going there, the draft and the copy kept on this device are let go, so that
// nothing sent is ever offered again as unsent.

import { caseKeyForSending, sealLetterBody } from "../../client/letters.js";
import { confirmFromMarkup, confirmStep } from "../../lib/confirm.js";
import { el, part } from "../../lib/dom.js";
import { ShowableError, sentenceFor } from "../../lib/errors.js";
import { isBusy, setBusy, showAlert } from "../../lib/forms.js";
import { safeNext } from "../../lib/http.js";
import { browserLocation } from "../../lib/navigation.js";
import { registerSealer } from "../../lib/sealed-forms.js";
import { UploadCancelled } from "../../media/compose-media.js";
import { uploadPanel } from "../../media/upload-progress.js";

const NOT_SENT = "Your letter has not been sent. Your words are still here and saved.";
const NOT_SENT_MEDIA =
  "Your message has not been sent yet. Everything is still here, kept safely on this device.";
const CANCELLED =
  "Sending was cancelled and nothing was sent. Everything you wrote, recorded or added is still here.";
const WAITING =
  "Waiting for the connection… nothing is lost. Sending goes on by itself when the connection is back.";
const WENT_WRONG = "Something went wrong while sending.";
// Sent: the page goes on to the letter after letting go of the draft and the copy kept on this
// device, or after this long in any case.
const LET_GO_MS = 3000;

const pause = (ms) => new Promise((resolve) => window.setTimeout(resolve, ms));

function warnBeforeLeaving(event) {
  event.preventDefault();
  event.returnValue = "";
}

/**
 * Wire sending for the compose form. `box`: the LetterBox; `media`: the MediaComposer;
 * `identity`: client/letters.js letterIdentity; `pageAlert`: where a cancel is said.
 */
export function startSending(form, { box, media, keys, identity, pageAlert }) {
  const sendButton = form.querySelector("#send-button");
  if (!sendButton) return { update() {} }; // the server said why it cannot be sent now
  const $ = (id) => part(form, id);
  const sendActions = $("send-actions");
  const sendStatus = $("send-status");
  const summary = { box: $("send-summary"), list: $("send-summary-list"), size: $("send-summary-size") };
  const progress = uploadPanel(form);

  const send = () => form.dispatchEvent(new Event("send")); // hx-trigger="send"

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (isBusy(sendButton) || !box.readyToSend()) return;
    box.keepNow(); // keep the words safe while the person reads the question
    sendStatus.textContent = "";
    if (await confirmStep(confirmFromMarkup(sendButton))) send();
    else box.focus();
  });

  registerSealer("letter", async () => {
    // Checked again: a recording may have started while the question was open.
    if (!box.readyToSend()) {
      sendActions.hidden = false;
      return null;
    }
    const withMedia = media.hasMedia();
    const text = box.text;
    const recipientId = box.recipientId();
    sendStatus.textContent = withMedia
      ? "Getting ready to send…"
      : "Locking your letter and sending it to your facilitator…";
    try {
      await box.keepNow();
      // The case as it is now: it must still let this person send.
      const casePublicKey = await caseKeyForSending(keys);
      const draftId = box.draftId;
      const body = withMedia
        ? await upload({ text, casePk: casePublicKey, recipientId, draftId })
        : await sealLetterBody(keys, identity, { text, casePublicKey });
      return body && { ...body, draft_id: draftId || undefined };
    } catch (error) {
      sendStatus.textContent = "";
      sendActions.hidden = false;
      const kept = withMedia ? NOT_SENT_MEDIA : NOT_SENT;
      throw new ShowableError(`${sentenceFor(error, WENT_WRONG)} ${kept}`);
    }
  });

  // --- recordings and files: the upload ------------------------------------------------------

  /** Upload and seal; the submit fields, or null when it stopped (said in the panel). */
  async function upload(message) {
    sendStatus.textContent = "";
    sendActions.hidden = true;
    progress.begin("Locking your message and sending it…");
    window.addEventListener("beforeunload", warnBeforeLeaving);
    try {
      const fields = await media.send({
        ...message,
        onProgress: progress.show,
        onWaiting: (waiting) => {
          progress.status.textContent = waiting ? WAITING : "The connection is back. Sending…";
        },
      });
      progress.cancel.hidden = true;
      progress.status.textContent = "Everything is sent. Handing your message to your facilitator…";
      return fields;
    } catch (error) {
      window.removeEventListener("beforeunload", warnBeforeLeaving);
      if (error instanceof UploadCancelled) return null; // Cancel says what happened
      progress.status.textContent = "";
      progress.cancel.hidden = false;
      progress.retry.hidden = false;
      showAlert(progress.alert, `${sentenceFor(error, WENT_WRONG)} ${NOT_SENT_MEDIA}`);
      return null;
    }
  }

  progress.retry.addEventListener("click", () => {
    if (isBusy(sendButton)) return;
    progress.panel.hidden = true;
    send(); // asked already: trying again does not ask again
  });

  progress.cancel.addEventListener("click", async () => {
    if (isBusy(progress.cancel)) return;
    const restore = setBusy(progress.cancel, "Cancelling…");
    try {
      await media.cancel();
    } finally {
      restore();
    }
    window.removeEventListener("beforeunload", warnBeforeLeaving);
    progress.panel.hidden = true;
    sendActions.hidden = false;
    showAlert(pageAlert, CANCELLED);
    sendButton.focus();
  });

  // --- the server's answer -------------------------------------------------------------------

  form.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.xhr?.getResponseHeader("HX-Redirect")) return;
    // Refused, or the portal could not be reached: its sentence is in the form's alert.
    window.removeEventListener("beforeunload", warnBeforeLeaving);
    progress.panel.hidden = true;
    sendActions.hidden = false;
    sendStatus.textContent = media.hasMedia() ? NOT_SENT_MEDIA : NOT_SENT;
  });

  form.addEventListener("htmx:beforeOnLoad", (event) => {
    const next = event.detail.xhr?.getResponseHeader("HX-Redirect");
    if (!next) return;
    // Sent. lib/responses.js would leave at once; first the draft and the copy of the message
    // kept on this device are let go (a recording made and deleted may have left one too).
    event.preventDefault();
    event.stopPropagation();
    window.removeEventListener("beforeunload", warnBeforeLeaving);
    (progress.panel.hidden ? sendStatus : progress.status).textContent = "Sent to your facilitator.";
    const leave = () => browserLocation.replace(safeNext(next));
    Promise.race([Promise.allSettled([box.sent(), media.sent()]), pause(LET_GO_MS)]).then(leave);
  });

  /** What will be sent, shown before sending whenever there is a recording or a file. */
  function update() {
    const shown = media.hasMedia();
    summary.box.hidden = !shown;
    if (!shown) return;
    const { items, size } = media.summary(box.text);
    summary.list.replaceChildren(...items.map((text) => el("li", {}, text)));
    summary.size.textContent = size;
  }

  return { update };
}
