// Reviewing one letter (templates/queue/review.html).
//
//   1. GET /api/messages/{id}/review; if nobody is reviewing it, claim it
//      (POST .../claim; a no-op when it is already mine).
//   2. Open the case secret key (client/cases.js) and, with it, the letter: openLetter checks the
//      grant (made by the author's key to the case key), the manifest hash and every chunk hash
//      before decrypting. If anything fails, the page says so and Approve is switched off.
//      A message with recordings, scanned pages or files (media/open.js isMediaObject) is opened
//      with media/open.js: the grant, the manifest and the written part are checked at once,
//      every other chunk when it is played or shown (media/player.js, media/viewer.js). A chunk
//      that fails its check removes that player and switches Approve off. The format and length
//      the writer declared (`format`, `length`) are compared with the manifest; a difference is
//      shown as a warning.
//   3. Decide, with a confirmation step:
//        Approve: first the recipient's current key is compared with the key pinned in my vault
//          when we compared security numbers in person. Unverified or changed keys are shown
//          as a warning, and approving then needs "I understand" ticked. The browser then makes
//          the recipient's grant (from my key to theirs) for exactly this version, and seals the
//          optional content note to the recipient (notes.js), and for media the optional
//          transcript or translation (a note of kind "transcript", sealed the same way).
//        Return for changes (feedback required) / Withhold (reason required): the text is sealed
//          as a note granted to the author.
//      POST .../approve | return | withhold, then location.replace(next).
//   "Stop reviewing" releases the claim (POST .../release).
//
// Decrypted text (the letter, names, earlier feedback) only ever goes into the page through
// textContent, and nothing decrypted or typed here is logged or sent except sealed.

import { openCaseKey } from "./client/cases.js";
import { openNote, sealedObjectBody, sealNote } from "./client/notes.js";
import { loadSecretKey } from "./client/session.js";
import { keyStatus, loadVault, pinFor } from "./client/vault.js";
import { forget, protocol } from "./crypto/keys.js";
import { formatDateTime } from "./lib/dates.js";
import { focusOn, say } from "./lib/dom.js";
import { ApiError, sentenceFor } from "./lib/errors.js";
import { clearErrors, isBusy, setBusy, showAlert, showFieldError } from "./lib/forms.js";
import { getJSON, postJSON, safeNext } from "./lib/http.js";
import { openMessage, formatFromManifest, isMediaObject, lengthFromManifest } from "./media/open.js";
import { showOpenedMessage } from "./media/message-view.js";

const root = document.getElementById("review");
const messageId = root.dataset.messageId;
const queueUrl = root.dataset.queueUrl || "/queue";
const api = (what = "") => `/api/messages/${encodeURIComponent(messageId)}${what}`;

const $ = (id) => document.getElementById(id);
const stateText = $("review-state");
const fromText = $("review-from");
const toText = $("review-to");
const sentText = $("review-sent");
const authorKeyNote = $("author-key-note");
const statusRegion = $("review-status");
const pageAlert = $("review-alert");
const verifyFailed = $("verify-failed");

const letterLoading = $("letter-loading");
const letterLength = $("letter-length");
const letterText = $("letter-text");
const letterMedia = $("letter-media");
const mediaMismatch = $("media-mismatch");
const mediaReviewHint = $("media-review-hint");
const feedbackSection = $("feedback-section");
const feedbackText = $("feedback-text");

const heldSection = $("held-section");
const resumeButton = $("resume-held");
const nothingSection = $("nothing-section");
const nothingText = $("nothing-text");

const decisionSection = $("decision-section");
const form = $("decision-form");
const decisionError = $("decision-error");
const radios = Array.from(form.querySelectorAll('input[name="decision"]'));
const approveRadio = $("decision-approve");
const approveUnavailable = $("approve-unavailable");
const panels = {
  approve: $("approve-fields"),
  return: $("return-fields"),
  withhold: $("withhold-fields"),
};
const keyStatusBox = $("recipient-key-status");
const understoodField = $("key-understood-field");
const understood = $("key-understood");
const understoodLabel = $("key-understood-label");
const noteInput = $("approve-note");
const transcriptFields = $("transcript-fields");
const transcriptInput = $("approve-transcript");
const feedbackInput = $("return-feedback");
const reasonInput = $("withhold-reason");
const decisionAlert = $("decision-alert");
const continueButton = $("decision-continue");
const stopButton = $("stop-reviewing");

const confirmPanel = $("decision-confirm");
const confirmHeading = $("confirm-heading");
const confirmText = $("confirm-text");
const confirmStatus = $("confirm-status");
const confirmAlert = $("confirm-alert");
const confirmButton = $("confirm-decision");
const backButton = $("confirm-back");

const VERIFY_FAILED =
  "This letter could not be verified: it may have been changed. Do not approve it.";

const STATE_WORDS = {
  submitted: "Waiting for review",
  in_review: "Being reviewed",
  returned: "Returned for changes",
  awaiting_recipient: "Approved, waiting for the recipient",
  held: "Held at the recipient's request",
  opened: "Opened by the recipient",
  declined: "Declined by the recipient",
  withheld: "Withheld",
  withdrawn: "Withdrawn",
};

const state = {
  p: null,
  keys: null,
  caseKey: null,
  review: null,
  letterOk: false, // every check passed: only then may it be approved
  isMedia: false, // recordings, pages or files: opened with media/open.js
  view: null, // media/message-view.js, destroyed when the page is left
  mediaFailed: false, // a chunk failed its check while playing or showing
  recipientName: "the recipient",
  authorName: "the writer",
  recipientKey: "unverified", // vault.keyStatus of the recipient's current key
  reviewing: false, // claimed by me
};

// ---- loading ------------------------------------------------------------------------------------

async function start() {
  try {
    state.p = await protocol();
    state.keys = await loadSecretKey();
    state.review = await getJSON(api("/review"));
  } catch (error) {
    letterLoading.textContent = "The letter cannot be shown.";
    showAlert(pageAlert, sentenceFor(error));
    return;
  }
  const review = state.review;
  if (review.case_id !== root.dataset.caseId) {
    letterLoading.textContent = "The letter cannot be shown.";
    showAlert(
      pageAlert,
      "This letter does not belong to the case it is listed under. Nothing was changed. Please tell your service manager.",
    );
    return;
  }
  sentText.textContent = formatDateTime(review.submitted_at) || "Unknown";
  await claimIfFree();

  try {
    state.caseKey = await openCaseKey(state.keys, review.case_id);
  } catch (error) {
    letterLoading.textContent = "The letter cannot be shown.";
    showAlert(pageAlert, sentenceFor(error));
    // Without the case key nothing can be sealed: every decision is off, Stop reviewing stays.
    showDecisions({ withoutCaseKey: true });
    return;
  }

  await showPeople();
  await showLetter();
  await showFeedback();
  showDecisions();
}

/** Claim the letter when nobody is reviewing it; say so when someone else is. */
async function claimIfFree() {
  const review = state.review;
  const caseStatus = root.dataset.caseStatus || "open";
  if (review.state === "submitted" && caseStatus !== "open") {
    // The server would refuse the claim: say why without asking it.
    showAlert(
      pageAlert,
      caseStatus === "paused"
        ? "This case is paused, so letters cannot be reviewed until it is resumed."
        : "This case is closed, so letters in it can no longer be reviewed.",
    );
  } else if (review.state === "submitted") {
    try {
      const answer = await postJSON(api("/claim"), {});
      review.state = answer.state || "in_review";
      review.claimed_by_me = true;
    } catch (error) {
      showAlert(pageAlert, sentenceFor(error));
    }
  }
  state.reviewing = review.state === "in_review" && review.claimed_by_me === true;
  stateText.textContent = state.reviewing
    ? "Being reviewed by you"
    : review.state === "in_review"
      ? "Being reviewed by another facilitator"
      : STATE_WORDS[review.state] || review.state;
}

/** Who wrote it and who it is for: names opened with the case key, keys checked against my vault. */
async function showPeople() {
  const p = state.p;
  const review = state.review;
  let participants = [];
  try {
    participants = await getJSON(`/api/cases/${encodeURIComponent(review.case_id)}/participants`);
  } catch {
    participants = [];
  }
  const nameOf = (participant) => {
    try {
      return p.openCaseText(
        state.caseKey.caseSk,
        review.case_id,
        `participant-name:${participant.participant_id}`,
        p.b64decode(participant.sealed_name),
      );
    } catch {
      return null;
    }
  };
  const describe = (participant, fallbackSide) => {
    const side = participant ? participant.side_label : fallbackSide;
    const name = participant ? nameOf(participant) : null;
    return {
      line: name ? `${name} (${(side || "").toLowerCase()})` : side || "Unknown",
      call: name || (side ? `the ${side.toLowerCase()}` : "the writer"),
    };
  };

  const recipient = participants.find(
    (pt) => pt.participant_id === review.recipient.participant_id,
  );
  const to = describe(recipient, review.recipient.side_label);
  toText.textContent = to.line;
  state.recipientName = to.call;

  // The author is the participant whose key made the grant to the case key.
  const author = participants.find((pt) => pt.account_public_key === review.author_public_key);
  const from = describe(author, null);
  fromText.textContent = author
    ? from.line
    : "The writer (not found among this case's participants)";
  state.authorName = author ? from.call : "the writer";

  let vault = { data: {}, readable: true };
  try {
    vault = await loadVault(state.keys);
  } catch {
    vault = { data: {}, readable: false };
  }
  const r = review.recipient;
  state.recipientKey = keyStatus(
    pinFor(vault.data, r.account_id, `participant:${r.participant_id}`),
    r.public_key,
    r.verified_public_key,
  );
  if (!vault.readable)
    state.recipientKey = state.recipientKey === "changed" ? "changed" : "unverified";

  const authorKey = author
    ? keyStatus(
        pinFor(vault.data, author.account_id, `participant:${author.participant_id}`),
        review.author_public_key,
        author.verified_public_key,
      )
    : "unknown";
  if (authorKey === "changed" || authorKey === "unknown") {
    authorKeyNote.textContent =
      authorKey === "changed"
        ? `Warning: the writer's security number has changed since it was compared in person, so this letter may not come from ${from.call}. Talk to them before you approve it.`
        : "Warning: the key that sealed this letter does not belong to any participant of this case, so it may not come from them. Do not approve it before you have checked.";
    authorKeyNote.className = "notice error";
    authorKeyNote.hidden = false;
  } else if (authorKey !== "verified") {
    authorKeyNote.textContent = `The writer's security number has not been compared in person from your account, so your browser cannot confirm that this letter comes from ${from.call}.`;
    authorKeyNote.className = "notice warning";
    authorKeyNote.hidden = false;
  }
}

async function showLetter() {
  const p = state.p;
  const review = state.review;
  if (review.content_deleted === true) {
    letterLoading.textContent = "The writer deleted this message, so its content no longer exists.";
    return;
  }
  if (isMediaObject(review)) {
    await showMedia();
    return;
  }
  if (review.format && review.format !== "letter") {
    warnMismatch([
      `The writer said this is ${FORMAT_WORDS[review.format] || "a recording"}, but it is a written letter only.`,
    ]);
  }
  try {
    const text = await p.openLetter(
      state.caseKey.caseSk,
      p.b64decode(review.author_public_key),
      review.object_id,
      review.version,
      p.b64decode(review.grant),
      p.b64decode(review.manifest),
      review.chunks.map((chunk) => p.b64decode(typeof chunk === "string" ? chunk : chunk.data)),
    );
    letterText.textContent = text;
    letterText.hidden = false;
    letterLoading.hidden = true;
    const words = text.split(/\s+/).filter(Boolean).length;
    letterLength.textContent =
      (review.version > 1 ? `Version ${review.version}, sent again after feedback. ` : "") +
      `About ${words} word${words === 1 ? "" : "s"}.`;
    letterLength.hidden = false;
    state.letterOk = true;
  } catch (error) {
    if (!(error instanceof p.ProtocolError)) {
      letterLoading.textContent = "The letter cannot be shown.";
      showAlert(pageAlert, sentenceFor(error));
      return;
    }
    letterLoading.textContent = "The letter is not shown, because it did not pass the checks.";
    verifyFailed.className = "verify-failed notice error";
    verifyFailed.textContent = VERIFY_FAILED;
  }
}

const FORMAT_WORDS = {
  letter: "a written letter",
  audio: "an audio message",
  video: "a video message",
};

function warnMismatch(sentences) {
  mediaMismatch.textContent = `Please check: ${sentences.join(" ")} The recipient is told the format and length the writer gave before they choose whether to open it.`;
  mediaMismatch.hidden = false;
}

function minutesText(seconds) {
  if (seconds < 90) return `${seconds} seconds`;
  return `about ${Math.round(seconds / 60)} minutes`;
}

/** Compare what the writer declared (review.format, review.length) with the manifest. */
function checkDeclared(manifest) {
  const review = state.review;
  const problems = [];
  const actual = formatFromManifest(manifest);
  if (review.format && review.format !== actual) {
    problems.push(
      `The writer said this is ${FORMAT_WORDS[review.format] || review.format}, but it is ${FORMAT_WORDS[actual]}.`,
    );
  }
  const declared = review.length && typeof review.length === "object" ? review.length : {};
  const measured = lengthFromManifest(manifest);
  if (Number.isFinite(declared.seconds) && Number.isFinite(measured.seconds)) {
    const difference = Math.abs(declared.seconds - measured.seconds);
    if (difference > Math.max(3, measured.seconds * 0.05)) {
      problems.push(
        `The length given is ${minutesText(declared.seconds)}, but the recordings last ${minutesText(measured.seconds)}.`,
      );
    }
  }
  if (Number.isFinite(declared.pages) && measured.pages !== undefined) {
    const tooFew = declared.pages < measured.pages;
    const wrong = measured.pdfs === 0 ? declared.pages !== measured.pages : tooFew;
    if (wrong) {
      problems.push(
        `The writer gave ${declared.pages} page${declared.pages === 1 ? "" : "s"}, but there ${measured.pages === 1 ? "is" : "are"} ${measured.pages} scanned page${measured.pages === 1 ? "" : "s"}${measured.pdfs ? " and a PDF" : ""}.`,
      );
    }
  }
  if (problems.length > 0) warnMismatch(problems);
}

function mediaCheckFailed() {
  state.mediaFailed = true;
  state.letterOk = false;
  verifyFailed.className = "verify-failed notice error";
  verifyFailed.textContent = VERIFY_FAILED;
  if (!decisionSection.hidden && !approveRadio.disabled) {
    approveRadio.disabled = true;
    approveRadio.checked = false;
    panels.approve.hidden = true;
    approveUnavailable.textContent = approveBlocked();
    approveUnavailable.hidden = false;
  }
}

/** A message with recordings, pages or files: the written part now, the rest as it is played. */
async function showMedia() {
  const p = state.p;
  const review = state.review;
  state.isMedia = true;
  let opened;
  try {
    opened = await openMessage(
      p,
      state.caseKey.caseSk,
      p.b64decode(review.author_public_key),
      review,
    );
  } catch (error) {
    if (!(error instanceof p.ProtocolError)) {
      letterLoading.textContent = "The message cannot be shown.";
      showAlert(pageAlert, sentenceFor(error));
      return;
    }
    letterLoading.textContent = "The message is not shown, because it did not pass the checks.";
    verifyFailed.className = "verify-failed notice error";
    verifyFailed.textContent = VERIFY_FAILED;
    return;
  }
  checkDeclared(opened.manifest);
  letterLoading.hidden = true;
  if (review.version > 1) {
    letterLength.textContent = `Version ${review.version}, sent again after feedback.`;
    letterLength.hidden = false;
  }
  state.view = showOpenedMessage(letterMedia, opened, {
    headingLevel: 3,
    onCheckFailed: mediaCheckFailed,
  });
  letterMedia.hidden = false;
  mediaReviewHint.hidden = false;
  transcriptFields.hidden = false;
  state.letterOk = !state.mediaFailed;
}

async function showFeedback() {
  const note = state.review.feedback;
  if (!note) return;
  try {
    feedbackText.textContent = await openNote(state.caseKey.caseSk, note);
  } catch {
    feedbackText.textContent = "This feedback could not be unlocked.";
  }
  feedbackSection.hidden = false;
}

function showDecisions({ withoutCaseKey = false } = {}) {
  const review = state.review;
  if (review.state === "held") {
    heldSection.hidden = false;
    return;
  }
  if (!state.reviewing) {
    nothingText.textContent =
      review.state === "in_review"
        ? "Another facilitator is reviewing this letter. Only they can decide on it, unless they stop reviewing it."
        : review.state === "submitted"
          ? "This letter could not be opened for review just now. The message above says why."
          : `This letter is no longer waiting for review: ${(STATE_WORDS[review.state] || review.state).toLowerCase()}.`;
    nothingSection.hidden = false;
    return;
  }
  if (withoutCaseKey) {
    for (const radio of radios) radio.disabled = true;
    approveUnavailable.textContent =
      "Decisions are switched off because the case's key could not be unlocked.";
    approveUnavailable.hidden = false;
    continueButton.hidden = true;
    decisionSection.hidden = false;
    return;
  }
  const why = approveBlocked();
  if (why) {
    approveRadio.disabled = true;
    approveUnavailable.textContent = why;
    approveUnavailable.hidden = false;
  }
  showKeyStatus();
  decisionSection.hidden = false;
}

/** Why Approve is switched off, or "" when it is allowed. */
function approveBlocked() {
  const r = state.review.recipient;
  if (!state.letterOk || state.mediaFailed) {
    return "Approving is switched off because the letter could not be verified.";
  }
  if (r.withdrawn)
    return "Approving is switched off: the recipient has withdrawn from the process.";
  if (!r.public_key)
    return "Approving is switched off: the recipient has not joined the portal yet.";
  return "";
}

function showKeyStatus() {
  const name = state.recipientName;
  const sentences = {
    verified: [
      "notice success",
      `You compared ${name}'s security number in person, and their key has not changed since.`,
    ],
    colleague: [
      "notice warning",
      `${name}'s security number is recorded as compared in person, but not from your account, so your browser cannot confirm that only ${name} will be able to read this letter.`,
    ],
    unverified: [
      "notice warning",
      `${name}'s security number has not been compared in person, so your browser cannot confirm that only ${name} will be able to read this letter. You can compare it on the case page.`,
    ],
    changed: [
      "notice error",
      `Warning: ${name}'s security number has changed since it was compared in person. If you approve now, the letter may be readable by someone else. Do not approve it until you have compared the new number with ${name} in person.`,
    ],
  };
  const [className, sentence] = sentences[state.recipientKey] || sentences.unverified;
  const notice = document.createElement("p");
  notice.className = className;
  notice.id = "recipient-key-text";
  notice.textContent = capitalise(sentence);
  keyStatusBox.replaceChildren(notice);
  understoodField.hidden = state.recipientKey === "verified";
  understoodLabel.textContent =
    state.recipientKey === "changed"
      ? "I understand the risk, and I want to approve it anyway"
      : "I understand, and I want to approve it anyway";
}

// ---- deciding -----------------------------------------------------------------------------------

function chosen() {
  return radios.find((radio) => radio.checked)?.value || "";
}

form.addEventListener("change", (event) => {
  if (event.target instanceof HTMLInputElement && event.target.name === "decision") {
    for (const [name, panel] of Object.entries(panels)) panel.hidden = name !== chosen();
    decisionError.textContent = "";
    for (const radio of radios) radio.removeAttribute("aria-invalid");
  }
});

const CONFIRM = {
  approve: {
    heading: "Approve this letter?",
    button: "Yes, approve it",
    danger: false,
    text: () =>
      `It will be offered to ${state.recipientName}, who decides whether and when to open it.` +
      (noteInput.value.trim() ? " They will see your note first." : "") +
      (state.isMedia && transcriptInput.value.trim()
        ? ` They can read your ${transcriptLabel()} beside the recording.`
        : ""),
  },
  return: {
    heading: "Return this letter for changes?",
    button: "Yes, return it",
    danger: false,
    text: () =>
      `It goes back to ${state.authorName} with your feedback. They can change it and send it again.`,
  },
  withhold: {
    heading: "Withhold this letter?",
    button: "Yes, withhold it",
    danger: true,
    text: () =>
      `It will not be passed on to ${state.recipientName}, and this cannot be undone. ${capitalise(state.authorName)} will see your reason.`,
  },
};

/** Check what the chosen decision needs; focus the first problem. True when all is well. */
function checkDecision() {
  clearErrors(form);
  decisionError.textContent = "";
  const decision = chosen();
  if (!decision) {
    decisionError.textContent = "Choose what you would like to do with this letter.";
    for (const radio of radios) radio.setAttribute("aria-invalid", "true");
    radios.find((radio) => !radio.disabled)?.focus();
    return false;
  }
  if (decision === "approve") {
    const why = approveBlocked();
    if (why) {
      showAlert(decisionAlert, why);
      return false;
    }
    if (state.recipientKey !== "verified" && !understood.checked) {
      showFieldError(
        understood,
        "Tick this box to approve although the security number has not been confirmed, or compare it first.",
      );
      return false;
    }
  }
  if (decision === "return" && !feedbackInput.value.trim()) {
    showFieldError(feedbackInput, "Write your feedback for the writer.");
    return false;
  }
  if (decision === "withhold" && !reasonInput.value.trim()) {
    showFieldError(reasonInput, "Write the reason, for the writer.");
    return false;
  }
  return true;
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (!checkDecision()) return;
  const copy = CONFIRM[chosen()];
  confirmHeading.textContent = copy.heading;
  confirmText.textContent = copy.text();
  confirmButton.textContent = copy.button;
  delete confirmButton.dataset.label;
  confirmButton.className = copy.danger ? "button danger" : "button";
  confirmAlert.textContent = "";
  form.hidden = true;
  confirmPanel.hidden = false;
  focusOn(confirmHeading);
});

backButton.addEventListener("click", () => {
  if (isBusy(confirmButton)) return;
  confirmPanel.hidden = true;
  form.hidden = false;
  continueButton.focus();
});

confirmButton.addEventListener("click", async () => {
  if (isBusy(confirmButton)) return;
  const decision = chosen();
  const restore = setBusy(confirmButton, "Sealing and sending…");
  backButton.setAttribute("aria-disabled", "true");
  say(confirmStatus, "Locking it in your browser and sending it…");
  try {
    const answer = await decide(decision);
    say(confirmStatus, "Done.");
    location.replace(safeNext(answer.next, queueUrl));
  } catch (error) {
    restore();
    backButton.removeAttribute("aria-disabled");
    confirmStatus.textContent = "";
    const field = error instanceof ApiError ? error.field : null;
    const input = {
      feedback: feedbackInput,
      reason: reasonInput,
      note: noteInput,
      transcript: transcriptInput,
    }[field];
    if (input) {
      confirmPanel.hidden = true;
      form.hidden = false;
      showFieldError(input, error.message);
    } else {
      showAlert(confirmAlert, sentenceFor(error));
    }
  }
});

async function decide(decision) {
  const p = state.p;
  const review = state.review;
  const base = {
    keys: state.keys,
    caseId: review.case_id,
    casePublicKey: state.caseKey.casePk,
  };
  if (decision === "approve") {
    if (approveBlocked()) throw new Error("approve is blocked");
    const recipientPk = p.b64decode(review.recipient.public_key);
    // The same grant that openLetter checked: K and the manifest hash it commits to.
    const [contentKey, manifestHash] = p.openContentGrant(
      state.caseKey.caseSk,
      p.b64decode(review.author_public_key),
      review.object_id,
      review.version,
      p.b64decode(review.grant),
    );
    let recipientGrant;
    try {
      recipientGrant = p.makeContentGrant(
        state.keys.secretKey,
        recipientPk,
        review.object_id,
        review.version,
        contentKey,
        manifestHash,
      );
    } finally {
      contentKey.fill(0);
    }
    const body = { recipient_grant: p.b64encode(recipientGrant) };
    const noteText = noteInput.value.trim();
    if (noteText) {
      body.note = await sealNote({
        ...base,
        kind: "content_note",
        text: noteText,
        personPublicKey: recipientPk,
      });
    }
    const transcriptText = state.isMedia ? transcriptInput.value.trim() : "";
    if (transcriptText) {
      // Granted to the case key and to the recipient, who receives its grant with the message
      // when they open it (never before).
      body.transcript = await sealNote({
        ...base,
        kind: "transcript",
        text: transcriptText,
        personPublicKey: recipientPk,
      });
      body.transcript_label = transcriptLabel();
    }
    return postJSON(api("/approve"), body);
  }
  const authorPk = p.b64decode(review.author_public_key);
  if (decision === "return") {
    const feedback = await sealNote({
      ...base,
      kind: "feedback",
      text: feedbackInput.value.trim(),
      personPublicKey: authorPk,
    });
    return postJSON(api("/return"), { feedback });
  }
  const reason = await sealNote({
    ...base,
    kind: "feedback",
    text: reasonInput.value.trim(),
    personPublicKey: authorPk,
  });
  return postJSON(api("/withhold"), { reason });
}

function transcriptLabel() {
  return form.querySelector('input[name="transcript-label"]:checked')?.value === "translation"
    ? "translation"
    : "transcript";
}

stopButton.addEventListener("click", async () => {
  if (isBusy(stopButton)) return;
  const restore = setBusy(stopButton, "Stopping…");
  try {
    const answer = await postJSON(api("/release"), {});
    location.replace(safeNext(answer.next, queueUrl));
  } catch (error) {
    restore();
    showAlert(decisionAlert, sentenceFor(error));
  }
});

resumeButton.addEventListener("click", async () => {
  if (isBusy(resumeButton)) return;
  const restore = setBusy(resumeButton, "Offering it again…");
  try {
    const answer = await postJSON(api("/resume"), {});
    restore();
    heldSection.hidden = true;
    state.review.state = answer.state || "awaiting_recipient";
    stateText.textContent = STATE_WORDS[state.review.state] || state.review.state;
    nothingText.textContent = `The letter is offered to ${state.recipientName} again. They decide whether and when to open it.`;
    nothingSection.hidden = false;
    say(statusRegion, "The letter is offered to the recipient again.");
    focusOn($("nothing-heading"));
  } catch (error) {
    restore();
    showAlert(pageAlert, sentenceFor(error));
  }
});

function capitalise(text) {
  return text.startsWith("the ") ? `T${text.slice(1)}` : text;
}

window.addEventListener("pagehide", () => {
  if (state.view) state.view.destroy(); // stops playing, revokes object URLs, wipes K
  if (state.caseKey) forget(state.caseKey.caseSk);
  if (state.keys) forget(state.keys.secretKey);
});

start();
