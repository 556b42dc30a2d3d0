// Something passed on to me (templates/inbox/show.html).
//
// First only what helps the person choose: the neutral notice, the kind and the length (from
// the server's page), and the facilitator's note if there is one (GET /api/inbox/{id}/note,
// opened with the note's grant from the facilitator). Then the choices:
//   Open it now   POST /api/inbox/{id}/open {author_may_see} -> the grant, made by the
//                 approving facilitator (sender_public_key); openLetter checks the grant, the
//                 manifest hash and every chunk hash before a single word is decrypted. If any
//                 check fails, nothing at all is shown.
//   Not yet       POST .../not-yet -> next (nothing changes)
//   Hold          POST .../hold -> next
//   Decline       asks first, then POST .../decline -> next
// An item opened before can be read again ("Read it again": the same open call).
//
// A message with recordings, scanned pages or files (media/open.js isMediaObject): the grant,
// the manifest and the written part are checked when it is opened, every other chunk as it is
// played or shown (media/player.js, media/viewer.js); a part that fails is removed and a calm
// sentence takes its place. A transcript or translation from the facilitator (in the open
// answer, granted to me) is shown first, so it can be read instead of listening. Nothing plays by
// itself.

import { openSealed } from "./client/content.js";
import { loadSecretKey } from "./client/session.js";
import { KeysUnavailable, protocol } from "./crypto/keys.js";
import { reveal, showText } from "./lib/dom.js";
import { ApiError } from "./lib/errors.js";
import { isBusy, setBusy, showAlert } from "./lib/forms.js";
import { getJSON, postJSON, safeNext } from "./lib/http.js";
import { showOpenedMessage } from "./media/message-view.js";
import { isMediaObject, openMessage } from "./media/open.js";

const root = document.getElementById("inbox-item");
const itemId = root.dataset.itemId;
const base = `/api/inbox/${encodeURIComponent(itemId)}`;

const statusRegion = document.getElementById("inbox-status");
const alertRegion = document.getElementById("inbox-alert");
const noteSection = document.getElementById("note-section");
const noteText = document.getElementById("note-text");
const choices = document.getElementById("choices");
const declineConfirm = document.getElementById("decline-confirm");
const declineAlert = document.getElementById("decline-alert");
const openedSection = document.getElementById("opened-section");
const openedText = document.getElementById("opened-text");
const openedMedia = document.getElementById("opened-media");
const lengthText = document.getElementById("item-length");
const mediaHelp = document.getElementById("open-now-media-help");

const NOT_CHECKED =
  "This could not be shown, because this page could not confirm that it is exactly what your " +
  "facilitator passed on. Nothing from it has been shown. Please contact your facilitator: " +
  "they can look into it with you.";
let keysPromise = null;
let mediaView = null; // media/message-view.js, once a media message is shown

function keys() {
  if (keysPromise === null) {
    keysPromise = loadSecretKey();
    keysPromise.catch(() => {
      keysPromise = null;
    });
  }
  return keysPromise;
}

function problemText(error, fallback) {
  return error instanceof ApiError || error instanceof KeysUnavailable ? error.message : fallback;
}

// --- the facilitator's note --------------------------------------------------------------------

async function loadNote() {
  try {
    const answer = await getJSON(`${base}/note`);
    const format = typeof answer.format === "string" ? answer.format : null;
    // The server's own words for the length ("about 3 minutes", "2 pages"): all it knows.
    if (typeof answer.size_hint === "string" && answer.size_hint && lengthText) {
      lengthText.textContent = answer.size_hint;
    }
    if (format !== null && format !== "letter" && mediaHelp) {
      mediaHelp.hidden = false;
      const openNowButton = document.getElementById("open-now");
      if (openNowButton) openNowButton.setAttribute("aria-describedby", "open-now-help open-now-media-help");
    }
    if (!answer.note) return;
    const mine = await keys();
    const p = await protocol();
    try {
      const senderPk = p.b64decode(answer.note.sender_public_key);
      showText(noteText, await openSealed(p, mine.secretKey, senderPk, answer.note));
    } catch (error) {
      if (!(error instanceof p.ProtocolError)) throw error;
      noteText.textContent =
        "Your facilitator left a note, but it could not be shown, because this page could not " +
        "confirm that it is exactly what they wrote. You can ask your facilitator about it.";
    }
    noteSection.hidden = false;
  } catch (error) {
    // The choices still work without the note; say so plainly.
    statusRegion.textContent = problemText(
      error,
      "Your facilitator's note, if there is one, could not be loaded just now.",
    );
  }
}

if (root.dataset.state !== "held") loadNote();

// --- opening -----------------------------------------------------------------------------------

/** The facilitator's transcript or translation, if any: {label, text} | {label, failed} | null. */
async function openTranscript(p, mine, answer) {
  const sealed = answer.transcript;
  if (!sealed) return null;
  const label = answer.transcript_label === "translation" ? "translation" : "transcript";
  try {
    const senderPk = p.b64decode(sealed.sender_public_key);
    return { label, text: await openSealed(p, mine.secretKey, senderPk, sealed) };
  } catch (error) {
    if (!(error instanceof p.ProtocolError)) throw error;
    return { label, failed: true };
  }
}

async function openItem(button, authorMaySee) {
  if (isBusy(button)) return;
  const restore = setBusy(button, "Opening…");
  alertRegion.textContent = "";
  statusRegion.textContent = "Opening…";
  let answer;
  try {
    // The key first: if it is missing, nothing should change on the server.
    const mine = await keys();
    const p = await protocol();
    answer = await postJSON(`${base}/open`, { author_may_see: authorMaySee });
    const media = isMediaObject(answer);
    let content;
    try {
      const senderPk = p.b64decode(answer.sender_public_key);
      content = media
        ? await openMessage(p, mine.secretKey, senderPk, answer)
        : await openSealed(p, mine.secretKey, senderPk, answer);
    } catch (error) {
      if (!(error instanceof p.ProtocolError)) throw error;
      // Opened on the server, but not shown here: the choices no longer apply.
      choices.hidden = true;
      statusRegion.textContent = "";
      showAlert(alertRegion, NOT_CHECKED);
      return;
    }
    if (media) {
      const transcript = await openTranscript(p, mine, answer);
      if (mediaView) mediaView.destroy();
      openedText.hidden = true;
      mediaView = showOpenedMessage(openedMedia, content, { headingLevel: 3, transcript });
      openedMedia.hidden = false;
    } else {
      showText(openedText, content);
      const transcript = await openTranscript(p, mine, answer);
      if (transcript) {
        // Not expected for a written letter, but never dropped silently.
        const extra = document.createElement("div");
        extra.className = "letter-text note-text";
        if (transcript.failed) extra.textContent = "A written version from your facilitator could not be shown.";
        else showText(extra, transcript.text);
        openedMedia.replaceChildren(extra);
        openedMedia.hidden = false;
      }
    }
    choices.hidden = true;
    declineConfirm.hidden = true;
    statusRegion.textContent = "";
    reveal(openedSection);
  } catch (error) {
    restore();
    statusRegion.textContent = "";
    showAlert(
      alertRegion,
      problemText(error, "This could not be opened just now. Please try again in a moment."),
    );
  }
}

const openNow = document.getElementById("open-now");
if (openNow) {
  const tellWriter = document.getElementById("tell-writer");
  openNow.addEventListener("click", () => openItem(openNow, tellWriter.checked === true));
}

const openAgain = document.getElementById("open-again");
if (openAgain) {
  // The writer was told (or not) the first time; reading again changes nothing for them.
  openAgain.addEventListener("click", () => openItem(openAgain, false));
}

// --- not yet, hold, decline --------------------------------------------------------------------

async function choose(button, path, busyText, region) {
  if (isBusy(button)) return;
  const restore = setBusy(button, busyText);
  region.textContent = "";
  try {
    const answer = await postJSON(`${base}/${path}`, {});
    location.replace(safeNext(answer.next, "/home"));
  } catch (error) {
    restore();
    showAlert(
      region,
      `${problemText(error, "Something went wrong.")} Nothing has changed. You can try again.`,
    );
  }
}

const notYet = document.getElementById("not-yet");
if (notYet) {
  notYet.addEventListener("click", () => choose(notYet, "not-yet", "One moment…", alertRegion));
}

const hold = document.getElementById("hold");
if (hold) {
  hold.addEventListener("click", () => choose(hold, "hold", "Asking…", alertRegion));
}

const decline = document.getElementById("decline");
if (decline) {
  const confirmButton = document.getElementById("decline-confirm-button");
  const cancelButton = document.getElementById("decline-cancel");
  decline.addEventListener("click", () => {
    choices.hidden = true;
    declineAlert.textContent = "";
    reveal(declineConfirm);
  });
  cancelButton.addEventListener("click", () => {
    if (isBusy(confirmButton)) return;
    declineConfirm.hidden = true;
    choices.hidden = false;
    decline.focus();
  });
  confirmButton.addEventListener("click", () =>
    choose(confirmButton, "decline", "Sending your choice…", declineAlert),
  );
}

window.addEventListener("pagehide", () => {
  if (mediaView) mediaView.destroy(); // stops playing, revokes object URLs, wipes the key
});
