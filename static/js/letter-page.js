// One of my letters (templates/letters/show.html).
//
// The timeline is the server's. The letter and the facilitator's note are fetched
// (GET /api/letters/{id}) when the page loads, but opened and shown only when the person asks:
// someone may be looking over their shoulder. Both are checked by openLetter: my letter is
// granted by me to me; the note is granted by the facilitator (feedback.sender_public_key).
// A message with recordings, pages or files (media/open.js isMediaObject) is opened with
// media/open.js and shown with its players (media/message-view.js); nothing plays by itself.
// Withdrawing and deleting ask first, then POST /api/letters/{id}/withdraw or .../delete, and
// the page is loaded again (its timeline changes).

import { openSealed } from "./client/content.js";
import { loadSecretKey } from "./client/session.js";
import { KeysUnavailable, protocol } from "./crypto/keys.js";
import { reveal, showText } from "./lib/dom.js";
import { ApiError, COULD_NOT_CHECK } from "./lib/errors.js";
import { isBusy, setBusy, showAlert } from "./lib/forms.js";
import { getJSON, postJSON } from "./lib/http.js";
import { showOpenedMessage } from "./media/message-view.js";
import { isMediaObject, openMessage } from "./media/open.js";

const root = document.getElementById("letter-page");
const messageId = root.dataset.messageId;
const statusRegion = document.getElementById("letter-status");
const alertRegion = document.getElementById("letter-alert");

const letterButton = document.getElementById("show-letter");
const letterText = document.getElementById("letter-text");
const letterMedia = document.getElementById("letter-media");
const feedbackSection = document.getElementById("feedback-section");
const feedbackButton = document.getElementById("show-feedback");
const feedbackText = document.getElementById("feedback-text");

let answerPromise = null;
let keysPromise = null;
let mediaView = null; // media/message-view.js, once my media message is shown

function letterAnswer() {
  if (answerPromise === null) {
    answerPromise = getJSON(`/api/letters/${encodeURIComponent(messageId)}`);
    answerPromise.catch(() => {
      answerPromise = null; // try again on the next click
    });
  }
  return answerPromise;
}

function keys() {
  if (keysPromise === null) {
    keysPromise = loadSecretKey();
    keysPromise.catch(() => {
      keysPromise = null;
    });
  }
  return keysPromise;
}

// Only to know whether there is a note from the facilitator; nothing is opened yet.
letterAnswer()
  .then((answer) => {
    if (answer.feedback) feedbackSection.hidden = false;
  })
  .catch(() => {});

/**
 * A "Show …" button: the first press opens and checks the text, then it shows and hides it.
 * `pick(answer)` -> [sealed object, sender public key (bytes) given the protocol and my keys].
 * With `mediaTarget`, a media message is shown there instead (with its players).
 */
function attachReveal(button, target, showLabel, hideLabel, pick, mediaTarget = null) {
  if (!button) return; // not on the page (a deleted message has nothing to show)
  let opened = false;
  let shown = target;
  button.addEventListener("click", async () => {
    if (isBusy(button)) return;
    if (opened) {
      const showing = shown.hidden;
      shown.hidden = !showing;
      if (!showing && mediaView) mediaView.pause(); // hiding it stops the sound too
      button.textContent = showing ? hideLabel : showLabel;
      button.setAttribute("aria-expanded", String(showing));
      return;
    }
    const restore = setBusy(button, "Opening…");
    alertRegion.textContent = "";
    statusRegion.textContent = "Opening…";
    try {
      // One request at a time: a session's requests are not meant to race each other.
      const answer = await letterAnswer();
      const mine = await keys();
      const p = await protocol();
      const [sealed, senderPk] = pick(answer, p, mine);
      if (sealed && sealed.content_deleted === true) {
        throw new ApiError(
          "This message was deleted, so what it said no longer exists. What happened to it is still listed above.",
        );
      }
      const media = mediaTarget !== null && isMediaObject(sealed);
      let content;
      try {
        content = media
          ? await openMessage(p, mine.secretKey, senderPk, sealed)
          : await openSealed(p, mine.secretKey, senderPk, sealed);
      } catch (error) {
        if (error instanceof p.ProtocolError) throw new ApiError(COULD_NOT_CHECK);
        throw error;
      }
      if (media) {
        shown = mediaTarget;
        mediaView = showOpenedMessage(mediaTarget, content, { headingLevel: 3 });
      } else {
        showText(target, content);
      }
      opened = true;
      restore();
      button.textContent = hideLabel;
      button.setAttribute("aria-expanded", "true");
      shown.hidden = false;
      statusRegion.textContent = "";
    } catch (error) {
      restore();
      statusRegion.textContent = "";
      showAlert(
        alertRegion,
        error instanceof ApiError || error instanceof KeysUnavailable
          ? error.message
          : "This could not be opened just now. Please try again in a moment.",
      );
    }
  });
}

attachReveal(
  letterButton,
  letterText,
  "Show my letter",
  "Hide my letter",
  (answer, p, mine) => [
    answer,
    p.publicKeyFromSecret(mine.secretKey), // my own copy: granted by me, to me
  ],
  letterMedia,
);

window.addEventListener("pagehide", () => {
  if (mediaView) mediaView.destroy(); // stops playing, revokes object URLs, wipes the key
});

attachReveal(
  feedbackButton,
  feedbackText,
  "Show what your facilitator said",
  "Hide what your facilitator said",
  (answer, p) => [answer.feedback, p.b64decode(answer.feedback.sender_public_key)],
);

// --- withdrawing or deleting this letter ------------------------------------------------------

/**
 * A button that opens a confirmation panel; its "Yes" posts to `path` and loads the page again.
 * Ids: `${name}-letter` (the button), `${name}-actions`, `${name}-confirm` (the panel),
 * `${name}-confirm-button`, `${name}-cancel`, `${name}-alert`.
 */
function confirmedAction(name, path, { busy, notDone }) {
  const button = document.getElementById(`${name}-letter`);
  if (!button) return;
  const actions = document.getElementById(`${name}-actions`);
  const panel = document.getElementById(`${name}-confirm`);
  const confirmButton = document.getElementById(`${name}-confirm-button`);
  const cancelButton = document.getElementById(`${name}-cancel`);
  const alert = document.getElementById(`${name}-alert`);

  button.addEventListener("click", () => {
    actions.hidden = true;
    alert.textContent = "";
    reveal(panel);
  });

  cancelButton.addEventListener("click", () => {
    if (isBusy(confirmButton)) return;
    panel.hidden = true;
    actions.hidden = false;
    button.focus();
  });

  confirmButton.addEventListener("click", async () => {
    if (isBusy(confirmButton)) return;
    const restore = setBusy(confirmButton, busy);
    try {
      await postJSON(`/api/letters/${encodeURIComponent(messageId)}/${path}`, {});
      location.replace(location.pathname);
    } catch (error) {
      restore();
      showAlert(
        alert,
        error instanceof ApiError
          ? `${error.message} ${notDone}`
          : `Something went wrong. ${notDone} Please try again.`,
      );
    }
  });
}

confirmedAction("withdraw", "withdraw", {
  busy: "Withdrawing…",
  notDone: "The letter has not been withdrawn.",
});
confirmedAction("delete", "delete", {
  busy: "Deleting…",
  notDone: "Nothing has been deleted.",
});
