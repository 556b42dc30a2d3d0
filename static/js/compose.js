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

import {
  ApiError,
  getJSON,
  isBusy,
  postJSON,
  safeNext,
  setBusy,
  showAlert,
  showFieldError,
} from "./api.js";
import { loadCaseContext } from "./case-context.js";
import { DraftKeeper, listDrafts } from "./drafts.js";
import { KeysUnavailable, forget, loadSecretKey, protocol } from "./keys.js";
import {
  LETTER_LIMIT,
  countCharacters,
  formatNumber,
  letterFields,
  openSealed,
  reveal,
  showText,
  whenText,
} from "./letter-common.js";

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
    setUpSending(context);
    pageStatus.textContent = "";
    if (drafts.length > 0) {
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
    state.previousText = await openSealed(p, keys.secretKey, myPk, answer);
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
    const when = whenText(draft.savedAt);
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
  if (text.trim() === "") {
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
  return true;
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (!state.keeper || !readyToSend()) return;
  state.keeper.flush(); // keep the words safe while the person reads the question
  sendAlert.textContent = "";
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
  if (!isBusy(confirmButton)) sendLetter();
});

async function sendLetter() {
  const { p, keys, keeper } = state;
  if (!readyToSend()) {
    confirmPanel.hidden = true;
    sendActions.hidden = false;
    return;
  }
  const text = textarea.value;
  const recipient = chosenRecipient();
  const restore = setBusy(confirmButton, "Sending…");
  cancelButton.setAttribute("aria-disabled", "true");
  sendAlert.textContent = "";
  sendStatus.textContent = "Locking your letter and sending it to your facilitator…";
  let sealed = null;
  try {
    keeper.changed(text, { recipientId: recipient });
    await keeper.flush();
    const context = await loadCaseContext(p, keys);
    if (context.status !== "confirmed") throw new ApiError(NOT_CONFIRMED);
    if (!context.me.can_write) {
      throw new ApiError(context.me.why_not || "Letters cannot be sent at the moment.");
    }
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
