// Writing a letter (templates/letters/compose.html): /letters/new, and /letters/{id}/revise.
//
// 1. Load this tab's key, the case (case-context.js: the case public key from the facilitator's
//    grant) and the saved drafts (drafts.js); when revising, also the letter as sent and the
//    facilitator's feedback (GET /api/letters/{id}; both checked by openLetter).
// 2. If there are saved drafts, offer them first (by date only: no words are shown until the
//    person chooses); otherwise open the composer (empty, or with the letter as sent).
// 3. Every change is sealed and autosaved (drafts.js). Nothing leaves the page unsealed.
// 4. "Send to your facilitator" asks first. Then: save the draft, GET /api/me/case again (the
//    key must still come from a facilitator's grant that opens), POST /api/letters/objects for
//    an id (new letters), sealLetter, POST /api/letters or /api/letters/{id}/revise, delete the
//    draft, location.replace(next).
// 5. Recordings and files (static/js/media/compose-media.js): offered only in the formats the
//    recipient accepts. A message with any of them is uploaded first (progress bar, Cancel),
//    then submitted with its manifest; a text-only letter is sent exactly as before.
//    A message that was not sent (reload, crash, lost connection) is kept on this device,
//    sealed to the author's own key, and offered first when the page opens again.

import { letterFields, openSealed } from "./client/content.js";
import { DraftKeeper, listDrafts } from "./client/drafts.js";
import { loadCaseContext } from "./client/participant-case.js";
import { loadSecretKey } from "./client/session.js";
import { forget, KeysUnavailable, protocol } from "./crypto/keys.js";
import { formatDayTime } from "./lib/dates.js";
import { reveal, showText } from "./lib/dom.js";
import { ApiError } from "./lib/errors.js";
import { isBusy, setBusy, showAlert, showFieldError } from "./lib/forms.js";
import { getJSON, postJSON, safeNext } from "./lib/http.js";
import { countCharacters, formatNumber, LETTER_LIMIT } from "./lib/text.js";
import {
  MediaComposer,
  UploadCancelled,
  formatBytes,
  formatTimeLeft,
} from "./media/compose-media.js";

const root = document.getElementById("composer");
const revising = root.dataset.revising === "true";
const messageId = root.dataset.messageId || null;

const pageStatus = document.getElementById("composer-status");
const pageAlert = document.getElementById("composer-alert");
const retryActions = document.getElementById("composer-retry");
const retryButton = document.getElementById("composer-retry-button");

const draftsOffer = document.getElementById("drafts-offer");
const draftsList = document.getElementById("drafts-list");
const startFresh = document.getElementById("start-fresh");

const feedbackSection = document.getElementById("feedback-section");
const feedbackText = document.getElementById("feedback-text");

const area = document.getElementById("composer-area");
const form = document.getElementById("compose-form");
const textarea = document.getElementById("letter-text");
const counter = document.getElementById("letter-text-count");
const saveStatus = document.getElementById("save-status");
const recipientChoice = document.getElementById("recipient-choice");
const recipientOptions = document.getElementById("recipient-options");
const recipientSingle = document.getElementById("recipient-single");
const recipientLabel = document.getElementById("recipient-label");
const cannotSend = document.getElementById("cannot-send");
const sendActions = document.getElementById("send-actions");
const sendButton = document.getElementById("send-button");

const resumeOffer = document.getElementById("resume-offer");
const resumeWhat = document.getElementById("resume-what");
const resumeAlert = document.getElementById("resume-alert");
const resumeContinue = document.getElementById("resume-continue");
const resumeDiscard = document.getElementById("resume-discard");

const summaryBox = document.getElementById("send-summary");
const summaryList = document.getElementById("send-summary-list");
const summarySize = document.getElementById("send-summary-size");
const progressPanel = document.getElementById("upload-progress");
const progressBar = document.getElementById("upload-bar");
const progressFigures = document.getElementById("upload-figures");
const progressStatus = document.getElementById("upload-status");
const progressAlert = document.getElementById("upload-alert");
const progressCancel = document.getElementById("upload-cancel");
const progressRetry = document.getElementById("upload-retry");

const confirmPanel = document.getElementById("confirm-send");
const confirmButton = document.getElementById("confirm-send-button");
const cancelButton = document.getElementById("cancel-send");
const sendStatus = document.getElementById("send-status");
const sendAlert = document.getElementById("send-alert");

const NOT_CONFIRMED =
  "This page could not confirm who set up your case, so your letter cannot be sent from here " +
  "for now. Please tell your facilitator.";
const NOT_SENT = "Your letter has not been sent. Your words are still here and saved.";

const state = {
  p: null,
  keys: null,
  me: null, // GET /api/me/case
  recipients: [],
  previous: null, // revising: GET /api/letters/{id}
  previousText: "",
  keeper: null,
  objectId: null, // new letters: issued once, reused if sending has to be tried again
  wasOver: false,
  media: null, // MediaComposer
  pending: [], // messages not sent, kept on this device
  sending: false,
  lastAnnounced: -1,
};

retryButton.addEventListener("click", () => {
  retryActions.hidden = true;
  pageAlert.textContent = "";
  init();
});

init();

async function init() {
  pageStatus.textContent = "Getting things ready…";
  try {
    if (!state.keys) state.keys = await loadSecretKey();
    state.p = await protocol();
    const { p, keys } = state;
    // One request at a time: a session's requests are not meant to race each other.
    const context = await loadCaseContext(p, keys);
    const drafts = await listDrafts(p, keys, messageId);
    if (revising) await loadPrevious();
    state.me = context.me;
    showGuidance(context.me.side);
    setUpMedia(context);
    setUpSending(context);
    state.pending = await MediaComposer.findPending(p, keys, messageId);
    pageStatus.textContent = "";
    state.drafts = drafts;
    if (state.pending.length > 0) {
      offerPending(state.pending[0]);
    } else if (drafts.length > 0) {
      offerDrafts(drafts);
    } else {
      openComposer(revising ? state.previousText : "", null, { focus: false });
    }
  } catch (error) {
    pageStatus.textContent = "";
    showAlert(
      pageAlert,
      error instanceof KeysUnavailable || error instanceof ApiError
        ? error.message
        : "This page could not be made ready. Nothing has been lost. Please try again in a moment.",
    );
    if (!(error instanceof KeysUnavailable)) retryActions.hidden = false;
  }
}

/** Revising: the letter as it was sent, and what the facilitator said about it. */
async function loadPrevious() {
  const { p, keys } = state;
  const answer = await getJSON(`/api/letters/${encodeURIComponent(messageId)}`);
  if (answer.state !== "returned") {
    throw new ApiError(
      "This letter is not waiting for changes at the moment. You can go back to it from your home page.",
    );
  }
  state.previous = answer;
  const myPk = p.publicKeyFromSecret(keys.secretKey);
  try {
    try {
      state.previousText = await openSealed(p, keys.secretKey, myPk, answer);
    } catch (error) {
      // A message with recordings or files: show its written part (its media are not carried
      // over into the new version; the person adds them again if they want them).
      if (!(error instanceof p.WrongContext)) throw error;
      state.previousText = openTextPart(p, keys.secretKey, myPk, answer);
      state.previousHadMedia = true;
    }
  } catch (error) {
    if (!(error instanceof p.ProtocolError)) throw error;
    state.previousText = "";
    showAlert(
      pageAlert,
      "Your letter as you sent it could not be shown, because this page could not confirm that it " +
        "is exactly what you wrote. You can write your letter again below, or tell your facilitator.",
    );
  }
  if (answer.feedback && feedbackSection) {
    try {
      const senderPk = p.b64decode(answer.feedback.sender_public_key);
      showText(feedbackText, await openSealed(p, keys.secretKey, senderPk, answer.feedback));
    } catch (error) {
      if (!(error instanceof p.ProtocolError)) throw error;
      feedbackText.textContent =
        "Your facilitator's note could not be shown, because this page could not confirm that it " +
        "is exactly what they wrote. Please ask your facilitator about it.";
    }
  }
}

/**
 * The written part (part 0) of a message with recordings or files, checked like openContent
 * does: the grant, the manifest hash, then every chunk of part 0 against the manifest before it
 * is decrypted. Only part 0 travels inline, so nothing else is fetched.
 */
function openTextPart(p, secretKey, senderPk, sealed) {
  const { object_id: objectId, version } = sealed;
  const [key, granted] = p.openContentGrant(secretKey, senderPk, objectId, version,
    p.b64decode(sealed.grant));
  try {
    const blob = p.b64decode(sealed.manifest);
    const digest = p.manifestHash(blob);
    if (digest.length !== granted.length || !digest.every((b, i) => b === granted[i])) {
      throw new p.DecryptionFailed("manifest does not match the granted hash");
    }
    const manifest = p.decryptManifest(key, objectId, version, blob);
    const entry = Array.isArray(manifest.parts) ? manifest.parts[0] : null;
    if (!entry || entry.kind !== "letter" || manifest.object_id !== objectId ||
      manifest.version !== version || !Array.isArray(entry.hashes)) {
      throw new p.MalformedInput("no written part");
    }
    const chunks = (sealed.chunks || []).map((c) => p.b64decode(typeof c === "string" ? c : c.data));
    if (chunks.length !== entry.hashes.length) throw new p.MalformedInput("missing chunks");
    const pieces = chunks.map((chunk, index) => {
      if (p.b64encode(p.chunkHash(chunk)) !== entry.hashes[index]) {
        throw new p.DecryptionFailed("chunk does not match the manifest");
      }
      return p.decryptChunk(key, objectId, version, 0, index, index === chunks.length - 1, chunk);
    });
    const bytes = new Uint8Array(pieces.reduce((n, x) => n + x.length, 0));
    let at = 0;
    for (const piece of pieces) {
      bytes.set(piece, at);
      at += piece.length;
    }
    if (bytes.length !== entry.size) throw new p.MalformedInput("wrong size");
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } finally {
    key.fill(0);
  }
}

// --- recordings and files ----------------------------------------------------------------------

function setUpMedia(context) {
  const { p, keys } = state;
  if (state.media) return;
  state.media = new MediaComposer(p, keys, {
    caseId: context.me.case_id,
    revisesMessageId: messageId,
    form,
    newIdentity: async () => {
      if (revising) {
        return { objectId: state.previous.object_id, version: state.previous.version + 1 };
      }
      if (!state.objectId) {
        state.objectId = (await postJSON("/api/letters/objects", {})).object_id;
      }
      return { objectId: state.objectId, version: 1 };
    },
    onChange: () => {
      document.getElementById("letter-text-error").textContent = "";
    },
  });
  updateFormats();
}

/**
 * The formats the chosen recipient accepts (GET /api/me/case: recipients[].accepted_formats;
 * absent means letters only), narrowed by the author's own, when the server lists them.
 */
function formatsFor(recipientId) {
  const me = state.me || {};
  const recipients = Array.isArray(me.recipients) ? me.recipients : [];
  let recipient = recipients.find((r) => r.participant_id === recipientId) || null;
  if (!recipient && revising && state.previous && state.previous.recipient_participant_id) {
    recipient = recipients.find(
      (r) => r.participant_id === state.previous.recipient_participant_id) || null;
  }
  if (!recipient && recipients.length === 1) recipient = recipients[0];
  let formats = recipient && Array.isArray(recipient.accepted_formats)
    ? recipient.accepted_formats
    : ["letter"];
  if (Array.isArray(me.accepted_formats)) {
    formats = formats.filter((f) => me.accepted_formats.includes(f));
  }
  return formats;
}

function updateFormats() {
  if (state.media) state.media.setFormats(formatsFor(chosenRecipient()));
}

if (recipientOptions) recipientOptions.addEventListener("change", updateFormats);

function offerPending(found) {
  resumeWhat.textContent = MediaComposer.describe(found.state);
  resumeAlert.textContent = "";
  reveal(resumeOffer, { focus: false });
}

resumeContinue.addEventListener("click", async () => {
  if (isBusy(resumeContinue)) return;
  const restore = setBusy(resumeContinue, "Opening…");
  try {
    const found = state.pending[0];
    const draft = state.drafts.find((d) => d.draftId === found.state.draft_id) || null;
    const { text, recipientId } = await state.media.restore(found);
    resumeOffer.hidden = true;
    openComposer(text, draft ? { ...draft, text } : null, { focus: true });
    if (recipientId) {
      const radio = document.getElementById(`recipient-${recipientId}`);
      if (radio && radio.name === "recipient") radio.checked = true;
    }
    updateFormats();
  } catch {
    showAlert(resumeAlert, "This message could not be opened on this device. You can delete it and start again.");
  } finally {
    restore();
  }
});

resumeDiscard.addEventListener("click", async () => {
  if (isBusy(resumeDiscard)) return;
  const restore = setBusy(resumeDiscard, "Deleting…");
  try {
    const found = state.pending.shift();
    await MediaComposer.discardPending(state.p, state.keys, found, {
      caseId: state.me.case_id, newIdentity: async () => ({}) });
  } catch {
    // Nothing more to do: the server removes unsent uploads by itself after a while.
  } finally {
    restore();
  }
  resumeOffer.hidden = true;
  pageStatus.textContent = "The message was deleted from this device.";
  if (state.pending.length > 0) offerPending(state.pending[0]);
  else if (state.drafts.length > 0) offerDrafts(state.drafts);
  else openComposer(revising ? state.previousText : "", null, { focus: true });
});

function showGuidance(side) {
  const responsible = document.getElementById("guidance-responsible");
  const harmed = document.getElementById("guidance-harmed");
  responsible.hidden = side !== "person_responsible";
  harmed.hidden = side !== "person_harmed";
}

/** Whether this letter can be sent now, and to whom. Writing and saving work either way. */
function setUpSending(context) {
  const { me } = context;
  let reason = null;
  if (context.status === "failed") {
    reason = NOT_CONFIRMED;
  } else if (!me.can_write) {
    reason = me.why_not || "Letters cannot be sent at the moment. Your facilitator can tell you more.";
  } else if (!revising && (!Array.isArray(me.recipients) || me.recipients.length === 0)) {
    reason = "Nobody can receive a letter at the moment. Your facilitator can tell you more.";
  }
  if (reason) {
    cannotSend.textContent = `${reason} You can still write: your words are saved as you go.`;
    cannotSend.hidden = false;
    sendActions.hidden = true;
    return;
  }
  cannotSend.hidden = true;
  sendActions.hidden = false;
  if (!revising) showRecipients(me.recipients);
}

function showRecipients(recipients) {
  state.recipients = recipients;
  recipientOptions.replaceChildren();
  if (recipients.length === 1) {
    recipientLabel.textContent = String(recipients[0].side_label || "").toLowerCase();
    recipientSingle.hidden = false;
    recipientChoice.hidden = true;
    return;
  }
  recipientSingle.hidden = true;
  const seen = new Map();
  for (const r of recipients) seen.set(r.side_label, (seen.get(r.side_label) || 0) + 1);
  const numbered = new Map();
  recipients.forEach((r) => {
    const wrapper = document.createElement("div");
    wrapper.className = "choice";
    const input = document.createElement("input");
    input.type = "radio";
    input.name = "recipient";
    input.id = `recipient-${r.participant_id}`;
    input.value = r.participant_id;
    const label = document.createElement("label");
    label.htmlFor = input.id;
    let text = `The ${String(r.side_label || "").toLowerCase()}`;
    if (seen.get(r.side_label) > 1) {
      const n = (numbered.get(r.side_label) || 0) + 1;
      numbered.set(r.side_label, n);
      text += ` (${n})`;
    }
    label.textContent = text;
    input.addEventListener("change", () => {
      document.getElementById("recipient-choice-error").textContent = "";
    });
    wrapper.append(input, label);
    recipientOptions.append(wrapper);
  });
  recipientChoice.hidden = false;
}

function chosenRecipient() {
  if (revising) return null;
  if (state.recipients.length === 1) return state.recipients[0].participant_id;
  const checked = recipientOptions.querySelector('input[name="recipient"]:checked');
  return checked ? checked.value : null;
}

// --- drafts ------------------------------------------------------------------------------------

function offerDrafts(drafts) {
  draftsList.replaceChildren();
  drafts.forEach((draft) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button secondary";
    const when = formatDayTime(draft.savedAt);
    const what = revising ? "Continue the changes" : "Continue the letter";
    button.textContent = when ? `${what} saved on ${when}` : what;
    button.addEventListener("click", () => openComposer(draft.text, draft, { focus: true }));
    item.append(button);
    draftsList.append(item);
  });
  reveal(draftsOffer, { focus: false });
}

startFresh.addEventListener("click", () => {
  openComposer(revising ? state.previousText : "", null, { focus: true });
});

// --- the composer ------------------------------------------------------------------------------

function openComposer(text, draft, { focus }) {
  const { p, keys } = state;
  draftsOffer.hidden = true;
  if (state.keeper) state.keeper.close();
  state.keeper = new DraftKeeper(p, keys, {
    revisesMessageId: messageId,
    onStatus: (sentence) => {
      saveStatus.textContent = sentence;
    },
  });
  if (draft) {
    state.keeper.resume(draft.draftId, draft.text);
    if (draft.recipientId) {
      const radio = document.getElementById(`recipient-${draft.recipientId}`);
      if (radio && radio.name === "recipient") radio.checked = true;
    }
  }
  saveStatus.textContent = "";
  textarea.value = text;
  updateCount();
  if (feedbackSection && state.previous && state.previous.feedback) feedbackSection.hidden = false;
  area.hidden = false;
  if (focus) textarea.focus();
}

textarea.addEventListener("input", () => {
  updateCount();
  if (state.keeper) state.keeper.changed(textarea.value, { recipientId: chosenRecipient() });
});

function updateCount() {
  const n = countCharacters(textarea.value);
  const over = n > LETTER_LIMIT;
  counter.textContent = over
    ? `${formatNumber(n)} characters: ${formatNumber(n - LETTER_LIMIT)} more than the limit of ${formatNumber(LETTER_LIMIT)}`
    : `${formatNumber(n)} of ${formatNumber(LETTER_LIMIT)} characters`;
  counter.classList.toggle("over", over);
  if (over && !state.wasOver) {
    showFieldError(textarea, tooLong(n), { focus: false });
  } else if (!over && state.wasOver) {
    document.getElementById("letter-text-error").textContent = "";
    textarea.removeAttribute("aria-invalid");
  }
  state.wasOver = over;
}

function tooLong(n) {
  const extra = n - LETTER_LIMIT;
  const characters = extra === 1 ? "character" : "characters";
  return `Your letter is longer than ${formatNumber(LETTER_LIMIT)} characters. Please shorten it by ${formatNumber(extra)} ${characters} before sending it. Everything you have written is kept.`;
}

/** The problems that stop sending, shown next to their fields. True when there are none. */
function readyToSend() {
  const text = textarea.value;
  const n = countCharacters(text);
  const media = state.media && state.media.hasMedia();
  if (text.trim() === "" && !media) {
    showFieldError(textarea, "Your letter is empty. Write your letter before sending it.");
    return false;
  }
  if (n > LETTER_LIMIT) {
    showFieldError(textarea, tooLong(n));
    return false;
  }
  if (!revising && !chosenRecipient()) {
    document.getElementById("recipient-choice-error").textContent =
      "Choose who this letter is for.";
    const first = recipientOptions.querySelector('input[name="recipient"]');
    if (first) first.focus();
    return false;
  }
  const problem = media ? state.media.problem(text) : null;
  if (problem) {
    showAlert(document.getElementById("media-alert"), problem);
    document.getElementById("media-heading").focus();
    return false;
  }
  document.getElementById("media-alert").textContent = "";
  return true;
}

/** The summary of what will be sent (only for messages with recordings or files). */
function showSummary() {
  const media = state.media && state.media.hasMedia();
  summaryBox.hidden = !media;
  if (!media) return;
  const { items, size } = state.media.summary(textarea.value);
  summaryList.replaceChildren(...items.map((text) => {
    const li = document.createElement("li");
    li.textContent = text;
    return li;
  }));
  summarySize.textContent = size;
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (!state.keeper || !readyToSend()) return;
  state.keeper.flush(); // keep the words safe while the person reads the question
  sendAlert.textContent = "";
  showSummary();
  sendActions.hidden = true;
  reveal(confirmPanel);
});

cancelButton.addEventListener("click", () => {
  if (isBusy(confirmButton)) return;
  confirmPanel.hidden = true;
  sendActions.hidden = false;
  textarea.focus();
});

confirmButton.addEventListener("click", () => {
  if (isBusy(confirmButton)) return;
  if (state.media && state.media.hasMedia()) sendMessage();
  else sendLetter();
});

/**
 * The start both ways of sending share: back to the form if something is missing; else the
 * text and recipient as they are now, the Yes button busy, and `restore` to undo that.
 */
function startSending(statusText) {
  if (!readyToSend()) {
    confirmPanel.hidden = true;
    sendActions.hidden = false;
    return null;
  }
  const text = textarea.value;
  const recipient = chosenRecipient();
  const restore = setBusy(confirmButton, "Sending…");
  cancelButton.setAttribute("aria-disabled", "true");
  sendAlert.textContent = "";
  sendStatus.textContent = statusText;
  return { text, recipient, restore };
}

/** Save the draft as sent, then the case as it is now: it must still let this person write. */
async function writableCase(text, recipient) {
  const { p, keys, keeper } = state;
  keeper.changed(text, { recipientId: recipient });
  await keeper.flush();
  const context = await loadCaseContext(p, keys);
  if (context.status !== "confirmed") throw new ApiError(NOT_CONFIRMED);
  if (!context.me.can_write) {
    throw new ApiError(context.me.why_not || "Letters cannot be sent at the moment.");
  }
  return context;
}

async function sendLetter() {
  const { p, keys, keeper } = state;
  const started = startSending("Locking your letter and sending it to your facilitator…");
  if (!started) return;
  const { text, recipient, restore } = started;
  let sealed = null;
  try {
    const context = await writableCase(text, recipient);
    const myPk = p.publicKeyFromSecret(keys.secretKey);
    const createdAt = new Date().toISOString();
    const draftId = keeper.draftId || undefined;
    let answer;
    if (revising) {
      const objectId = state.previous.object_id;
      const version = state.previous.version + 1;
      sealed = p.sealLetter(
        keys.secretKey,
        myPk,
        context.casePublicKey,
        objectId,
        version,
        text,
        createdAt,
        keys.accountId,
      );
      answer = await postJSON(`/api/letters/${encodeURIComponent(messageId)}/revise`, {
        ...letterFields(p, sealed, objectId, version),
        draft_id: draftId,
      });
    } else {
      if (!state.objectId) {
        state.objectId = (await postJSON("/api/letters/objects", {})).object_id;
      }
      sealed = p.sealLetter(
        keys.secretKey,
        myPk,
        context.casePublicKey,
        state.objectId,
        1,
        text,
        createdAt,
        keys.accountId,
      );
      answer = await postJSON("/api/letters", {
        recipient_participant_id: recipient,
        ...letterFields(p, sealed, state.objectId, 1),
        draft_id: draftId,
      });
    }
    sendStatus.textContent = "Sent to your facilitator.";
    await keeper.discard();
    // A recording made and then deleted may have left a record on this device.
    if (state.media) await state.media.sent().catch(() => {});
    location.replace(safeNext(answer.next, "/home"));
  } catch (error) {
    restore();
    cancelButton.removeAttribute("aria-disabled");
    sendStatus.textContent = "";
    const reason =
      error instanceof ApiError || error instanceof KeysUnavailable
        ? error.message
        : "Something went wrong while sending.";
    showAlert(sendAlert, `${reason} ${NOT_SENT}`);
  } finally {
    if (sealed) forget(sealed.contentKey);
  }
}

// --- sending a message with recordings or files ------------------------------------------------

const NOT_SENT_MEDIA =
  "Your message has not been sent yet. Everything is still here, kept safely on this device.";
const WAITING =
  "Waiting for the connection… nothing is lost. Sending goes on by itself when the connection is back.";

function warnBeforeLeaving(event) {
  event.preventDefault();
  event.returnValue = "";
}

function showProgress({ sentBytes, totalBytes, percent, bytesPerSecond, secondsLeft }) {
  progressBar.value = percent;
  const bits = [`${percent}% sent`, `${formatBytes(sentBytes)} of ${formatBytes(totalBytes)}`];
  if (bytesPerSecond) bits.push(`${formatBytes(bytesPerSecond)} a second`);
  if (secondsLeft !== null && secondsLeft !== undefined && percent < 100) {
    bits.push(`${formatTimeLeft(secondsLeft)} left`);
  }
  progressFigures.textContent = bits.join(" · ");
  // Announce every quarter, not every chunk: a screen reader would talk without a pause.
  const quarter = Math.floor(percent / 25);
  if (quarter > state.lastAnnounced && percent < 100) {
    state.lastAnnounced = quarter;
    if (quarter > 0) progressStatus.textContent = `${percent}% sent.`;
  }
}

async function sendMessage() {
  const { keeper, media } = state;
  const started = startSending("Getting ready to send…");
  if (!started) return;
  const { text, recipient, restore } = started;
  state.sending = true;
  state.lastAnnounced = 0;
  window.addEventListener("beforeunload", warnBeforeLeaving);
  try {
    const context = await writableCase(text, recipient);
    restore();
    cancelButton.removeAttribute("aria-disabled");
    sendStatus.textContent = "";
    confirmPanel.hidden = true;
    progressAlert.textContent = "";
    progressRetry.hidden = true;
    progressCancel.hidden = false;
    progressBar.value = 0;
    progressFigures.textContent = "0% sent";
    progressStatus.textContent = "Locking your message and sending it…";
    reveal(progressPanel);
    const draftId = keeper.draftId || undefined;
    const fields = await media.send({
      text,
      casePk: context.casePublicKey,
      recipientId: recipient,
      draftId: draftId || null,
      onProgress: showProgress,
      onWaiting: (waiting) => {
        progressStatus.textContent = waiting
          ? WAITING
          : "The connection is back. Sending…";
      },
    });
    progressCancel.hidden = true;
    progressStatus.textContent = "Everything is sent. Handing your message to your facilitator…";
    const answer = revising
      ? await postJSON(`/api/letters/${encodeURIComponent(messageId)}/revise`, {
        ...fields,
        draft_id: draftId,
      })
      : await postJSON("/api/letters", {
        recipient_participant_id: recipient,
        ...fields,
        draft_id: draftId,
      });
    progressStatus.textContent = "Sent to your facilitator.";
    window.removeEventListener("beforeunload", warnBeforeLeaving);
    await media.sent();
    await keeper.discard();
    location.replace(safeNext(answer.next, "/home"));
  } catch (error) {
    restore();
    cancelButton.removeAttribute("aria-disabled");
    sendStatus.textContent = "";
    window.removeEventListener("beforeunload", warnBeforeLeaving);
    if (error instanceof UploadCancelled) return; // the Cancel button has said what happened
    const reason =
      error instanceof ApiError || error instanceof KeysUnavailable
        ? error.message
        : "Something went wrong while sending.";
    if (progressPanel.hidden) {
      showAlert(sendAlert, `${reason} ${NOT_SENT_MEDIA}`);
    } else {
      progressStatus.textContent = "";
      progressCancel.hidden = false;
      progressRetry.hidden = false;
      showAlert(progressAlert, `${reason} ${NOT_SENT_MEDIA}`);
    }
  } finally {
    state.sending = false;
  }
}

progressRetry.addEventListener("click", () => {
  if (state.sending) return;
  progressPanel.hidden = true;
  sendMessage();
});

progressCancel.addEventListener("click", async () => {
  if (isBusy(progressCancel)) return;
  const restore = setBusy(progressCancel, "Cancelling…");
  try {
    await state.media.cancel();
  } finally {
    restore();
  }
  window.removeEventListener("beforeunload", warnBeforeLeaving);
  progressPanel.hidden = true;
  sendActions.hidden = false;
  showAlert(
    pageAlert,
    "Sending was cancelled and nothing was sent. Everything you wrote, recorded or added is still here.",
  );
  sendButton.focus();
});
