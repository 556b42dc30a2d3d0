// Reviewing one message, for the facilitators of its case: every request and every protocol
// call of the review page (templates/queue/review.html, static/js/pages/review.js). The page
// asks; this module fetches, checks, opens and seals, and answers with plain objects.
//
//   openReview(messageId, caseId) -> review: GET /api/messages/{id}/review (`json`), this tab's
//     keys and the case key (held: closeReview wipes them)
//   nameOf(review, participantId, sealedName) -> a participant's name, opened with the case key
//   keyStatuses(review) -> {recipient, author}: their current keys against the ones pinned in
//     my vault when we compared security numbers in person (crypto/vault.js keyStatus),
//     "earlier-verified"/"earlier" for a writer's key from before they were given a new one, or
//     "unknown" for an author whose key belongs to nobody in the case
//   openContent(review) -> {text} for a written letter, {opened} for a message with recordings,
//     pages or files (media/open.js), each with `declared`: where the format and length the
//     writer gave differ from the manifest. Throws ContentFailedChecks when a check fails.
//   markUnverified(review): a chunk failed its check later, while playing: no approving now
//   checkApprovable(review): throws CannotApprove unless approving may go ahead
//   checkRecipientKey(status): throws CannotApprove for a recipient key that changed
//   openFeedback(review) -> the feedback on the previous version, or null
//   openApprovalNote(review) -> the first approver's note (a high-risk case), or null
//   sealApproval(review, {note, transcript, keyRiskAccepted}) -> the body of .../approve, with
//     grants for the supporters who may read for the recipient and whose keys I compared in
//     person (readerKeyStatus)
//   sealFirstApproval(review, {note}) -> the body of .../approve-once: no recipient grant
//   sealFeedback(review, text) -> {feedback}; sealReason(review, text) -> {reason}
//   closeReview(review)
//
// Approving makes the recipient's grant for exactly this version, from the case grant the
// content was opened with, and only once the content passed its checks and the recipient's key
// is the pinned one (or, for a key never compared, the facilitator has said they accept that it
// is not; a key that changed since it was compared is refused until it is compared again).

import { forget, protocol } from "../crypto/keys.js";
import { ShowableError } from "../lib/errors.js";
import { getJSON } from "../lib/http.js";
import { formatFromManifest, isMediaObject, lengthFromManifest, openMessage } from "../media/open.js";
import { CaseKeyUnavailable, openCaseKey } from "./cases.js";
import { openSealed } from "./content.js";
import { openEnteredNote } from "./entered.js";
import { openNote, sealNote } from "./notes.js";
import { loadSecretKey } from "./session.js";
import { requireTrustedSenders } from "./trust.js";
import { forgetOlder, openWithCaseKeys } from "./case-epochs.js";
import { contentKeyFrom, readerGrants } from "./readers.js";
import { recipientKeyStatus, writerKeyFrom } from "./review-keys.js";
import { loadVault } from "./vault.js";

export { CaseKeyUnavailable };
export { keyStatuses } from "./review-keys.js";

/** The review answer names another case than the page it was opened from. */
export class NotInThisCase extends ShowableError {
  constructor() {
    super(
      "This letter does not belong to the case it is listed under. Nothing was changed. Please tell your service manager.",
    );
    this.name = "NotInThisCase";
  }
}

/** The content did not pass a check (grant, manifest hash, a chunk's hash): nothing of it shows. */
export class ContentFailedChecks extends ShowableError {
  constructor() {
    super("This could not be verified: it may have been changed. Do not approve it.");
    this.name = "ContentFailedChecks";
  }
}

/** Approving would release something this browser has not checked, or to a key not accepted. */
export class CannotApprove extends ShowableError {
  constructor(message) {
    super(message);
    this.name = "CannotApprove";
  }
}

const UNCHECKED = "Nothing was sent: the content has not passed its checks, so it cannot be approved.";
const KEY_NOT_ACCEPTED =
  "Nothing was sent: the recipient's security number is no longer the one you compared in person. Please reload the page and check it.";
const KEY_CHANGED =
  "Nothing was sent: the recipient's key changed since you compared it in person. Compare the new security number with them on the case page before releasing anything to them.";

// ---- opening ----------------------------------------------------------------------------------

export async function openReview(messageId, caseId) {
  const keys = await loadSecretKey();
  try {
    const json = await getJSON(`/api/messages/${encodeURIComponent(messageId)}/review`);
    if (json.case_id !== caseId) throw new NotInThisCase();
    const caseKey = await openCaseKey(keys, caseId);
    return { messageId, caseId, json, keys, caseKey, checked: null };
  } catch (error) {
    forget(keys.secretKey);
    throw error;
  }
}

export async function nameOf(review, participantId, sealedName) {
  const p = await protocol();
  const purpose = `participant-name:${participantId}`;
  const sealed = p.b64decode(sealedName);
  return openWithCaseKeys(p, review.caseKey, (caseSk) =>
    p.openCaseText(caseSk, review.caseId, purpose, sealed),
  );
}

export async function openContent(review) {
  const { json, caseKey } = review;
  const p = await protocol();
  const authorPk = p.b64decode(json.author_public_key);
  try {
    if (!isMediaObject(json)) {
      const text = await openWithCaseKeys(p, caseKey, (sk) => openSealed(p, sk, authorPk, json));
      review.checked = "ok";
      return { text, declared: declaredDifferences(json, null) };
    }
    const opened = await openWithCaseKeys(p, caseKey, (sk) => openMessage(p, sk, authorPk, json));
    if (review.checked === null) review.checked = "ok";
    return { opened, declared: declaredDifferences(json, opened.manifest) };
  } catch (error) {
    if (error instanceof p.ProtocolError) {
      review.checked = "failed";
      throw new ContentFailedChecks();
    }
    throw error;
  }
}

export function markUnverified(review) {
  review.checked = "failed";
}

/**
 * Where what the writer declared (json.format, json.length) differs from the manifest:
 * {format?: {declared, actual}, seconds?: {declared, measured}, pages?: {declared, measured,
 * pdfs}}. A written letter (no manifest here) is a letter. The recipient is told what was
 * declared before they choose, so the reviewer must see any difference.
 */
export function declaredDifferences(json, manifest) {
  const found = {};
  const actual = manifest ? formatFromManifest(manifest) : "letter";
  if (json.format && json.format !== actual) found.format = { declared: json.format, actual };
  if (!manifest) return found;
  const declared = json.length && typeof json.length === "object" ? json.length : {};
  const measured = lengthFromManifest(manifest);
  if (Number.isFinite(declared.seconds) && Number.isFinite(measured.seconds)) {
    const difference = Math.abs(declared.seconds - measured.seconds);
    if (difference > Math.max(3, measured.seconds * 0.05)) {
      found.seconds = { declared: declared.seconds, measured: measured.seconds };
    }
  }
  if (Number.isFinite(declared.pages) && measured.pages !== undefined) {
    // Pages inside a PDF cannot be counted here: then only too few declared is a difference.
    const tooFew = declared.pages < measured.pages;
    if (measured.pdfs === 0 ? declared.pages !== measured.pages : tooFew) {
      found.pages = { declared: declared.pages, measured: measured.pages, pdfs: measured.pdfs };
    }
  }
  return found;
}

/** The feedback on the previous version, only if a trusted colleague (or I) wrote it. */
export function openFeedback(review) {
  return openStaffNote(review, review.json.feedback);
}

/** The first approver's note to the second facilitator, only from a trusted colleague. */
export const openEnteredNoteOf = (review) =>
  openEnteredNote(review.caseKey.caseSk, review.caseId, review.json);

export function openApprovalNote(review) {
  return openStaffNote(review, review.json.approval_note);
}

async function openStaffNote(review, note) {
  if (!note) return null;
  await requireTrustedSenders(review.keys, [note], {
    kind: "release-not-genuine",
    audience: "staff",
    caseId: review.caseId,
    messageId: review.json.message_id,
  });
  const p = await protocol();
  return openWithCaseKeys(p, review.caseKey, (sk) => openNote(sk, note));
}

// ---- deciding ---------------------------------------------------------------------------------

/** CannotApprove for a recipient key changed since it was compared (re-keyed, or worse). */
export function checkRecipientKey(status) {
  if (status === "changed") throw new CannotApprove(KEY_CHANGED);
}

/** Throws CannotApprove unless the content passed its checks. */
export function checkApprovable(review) {
  if (review.checked !== "ok") throw new CannotApprove(UNCHECKED);
}

export async function sealApproval(review, { note = "", transcript = "", keyRiskAccepted = false }) {
  const { json, keys, caseKey } = review;
  checkApprovable(review);
  const r = json.recipient;
  // No account: released on paper, printed by the case's facilitators; no key for anyone.
  if (r.on_paper) return {};
  if (!r.public_key) throw new CannotApprove(KEY_NOT_ACCEPTED);
  // Looked at again now: a key that changed since the page showed it must be seen first.
  const vault = await loadVault(keys).catch(() => ({ data: {}, readable: false }));
  const status = recipientKeyStatus(json, vault);
  checkRecipientKey(status); // never to a changed key, whatever was ticked
  if (status !== "verified" && !keyRiskAccepted) throw new CannotApprove(KEY_NOT_ACCEPTED);
  const p = await protocol();
  const recipientPk = p.b64decode(r.public_key);
  // The same grant openContent checked: K and the manifest hash it commits to.
  const [contentKey, manifestHash] = await contentKeyFrom(p, { json, caseKey });
  let recipientGrant;
  try {
    recipientGrant = p.makeContentGrant(
      keys.secretKey,
      recipientPk,
      json.object_id,
      json.version,
      contentKey,
      manifestHash,
    );
  } finally {
    contentKey.fill(0);
  }
  const body = { recipient_grant: p.b64encode(recipientGrant) };
  const supporterGrants = readerGrants(p, review, vault, await contentKeyFrom(p, review));
  if (supporterGrants.length) body.supporter_grants = supporterGrants;
  if (note.trim()) body.note = await noteFor(review, "content_note", note, recipientPk);
  if (transcript.trim()) {
    // Granted to the case key and to the recipient, who receives its grant with the message
    // when they open it (never before).
    body.transcript = await noteFor(review, "transcript", transcript, recipientPk);
  }
  return body;
}

/**
 * The first of two approvals (a high-risk case): the content must have passed its checks, but
 * no grant for the recipient is made: before the second approval no key for them exists.
 */
export async function sealFirstApproval(review, { note = "" }) {
  if (review.checked !== "ok") throw new CannotApprove(UNCHECKED);
  return note.trim() ? { note: await noteFor(review, "approval_note", note, null) } : {};
}

export async function sealFeedback(review, text) {
  return { feedback: await noteFor(review, "feedback", text, await writerKey(review)) };
}

export async function sealReason(review, text) {
  return { reason: await noteFor(review, "feedback", text, await writerKey(review)) };
}

/**
 * Whom words about the letter go to besides the case key: the writer's key that sealed it; if
 * they were given a new key pair since, their new key only if I compared it with them in person,
 * and otherwise nobody yet (the server keeps it for a browser that compared it, which gives it
 * to them from the case key: client/regrants.js).
 */
async function writerKey(review) {
  const { json, keys } = review;
  if (!json.author_key_earlier) return authorKey(review);
  const vault = await loadVault(keys).catch(() => ({ data: {}, readable: false }));
  return writerKeyFrom(await protocol(), json, vault);
}

async function authorKey(review) {
  const p = await protocol();
  return p.b64decode(review.json.author_public_key);
}

function noteFor(review, kind, text, personPublicKey) {
  const { keys, caseId, caseKey } = review;
  return sealNote({
    keys,
    caseId,
    casePublicKey: caseKey.casePk,
    kind,
    text: text.trim(),
    personPublicKey,
  });
}

export function closeReview(review) {
  forget(review.caseKey.caseSk);
  forgetOlder(review.caseKey);
  forget(review.keys.secretKey);
}
