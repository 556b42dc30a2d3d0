// Letters as their author sends them and reads them again: the compose page and the letter page.
// Every request and every protocol call those pages make about a letter is here; they get plain
// objects back, or a ShowableError whose sentence they can show.
//
// Sending. The compose form is an htmx form (templates/letters/compose.html); its sealer asks
// this module for the body htmx sends, ciphertext and grants only:
//   caseKeyForSending(keys)       the case public key, only from a facilitator's grant that opens
//                                 here, and only while the server says this person can send
//   letterIdentity({objectId, version})  where the ciphertext goes (a revision's is rendered by
//                                 the server; a new letter asks for an object id once)
//   sealLetterBody(keys, identity, {text, casePublicKey})  {letter, grant_to_case, grant_to_author}
// Messages with recordings or files are sealed and uploaded by media/message.js instead.
//
// Reading again. My letter is granted by me to me, or, after my key changed, by a facilitator
// who granted it again; the facilitator's note is granted by the facilitator
// (feedback.sender_public_key) to me. A grant not made by my own key is opened only if the trust
// chain vouches for its sender (client/trust.js; NotGenuine otherwise, reported). Every grant, manifest and
// chunk hash is checked before anything is decrypted; a check that fails throws
// ContentNotChecked, and no text at all is returned.
//   openMyLetter(keys, messageId)   {text} | {media: media/open.js OpenedMessage}
//   openWrittenForMe(keys, messageId)  the same, for a letter a supporter or representative
//                                 wrote on my behalf: granted to me by a facilitator's browser
//                                 (sender_public_key), opened only if the trust chain vouches
//                                 for that facilitator
//   openFeedback(keys, messageId)   the note's text, or null when there is none
//   letterToRevise(keys, messageId) {text, checked}: the words as sent, to start the changes from

import { forget, protocol } from "../crypto/keys.js";
import { ApiError, COULD_NOT_CHECK, ShowableError } from "../lib/errors.js";
import { getJSON, postJSON } from "../lib/http.js";
import { isMediaObject, openMessage } from "../media/open.js";
import { letterFields, openSealed } from "./content.js";
import { loadCaseContext } from "./participant-case.js";
import { requireTrustedSenders } from "./trust.js";

export const NOT_CONFIRMED =
  "This page could not confirm who set up your case, so your letter cannot be sent from here " +
  "for now. Please tell your facilitator.";

const DELETED =
  "This message was deleted, so what it said no longer exists. What happened to it is still " +
  "listed above.";

/** Something sealed did not pass its checks: nothing of it was opened. */
export class ContentNotChecked extends ShowableError {
  constructor() {
    super(COULD_NOT_CHECK);
    this.name = "ContentNotChecked";
  }
}

/** The author deleted the message's content (in another tab, since this page was loaded). */
export class ContentDeleted extends ShowableError {
  constructor() {
    super(DELETED);
    this.name = "ContentDeleted";
  }
}

function letterUrl(messageId) {
  return `/api/letters/${encodeURIComponent(messageId)}`;
}

/** Run `open`; a protocol error (a check that failed) becomes ContentNotChecked. */
async function checked(p, open) {
  try {
    return await open();
  } catch (error) {
    if (error instanceof p.ProtocolError) throw new ContentNotChecked();
    throw error;
  }
}

// --- sending -------------------------------------------------------------------------------

/**
 * The case public key letters are sealed to, as the case is now (GET /api/me/case): it must
 * come from a facilitator's grant that opens with my key (else NOT_CONFIRMED), vouched for by
 * the trust chain (else the NotGenuine refusal), and the server must say I can send now (else
 * its sentence).
 */
export async function caseKeyForSending(keys) {
  const p = await protocol();
  const context = await loadCaseContext(p, keys);
  if (context.status === "refused") throw context.problem;
  // No grant yet: the server's sentence says the facilitator still has to finish (and sees it).
  if (context.status === "missing" && context.me.why_not) throw new ApiError(context.me.why_not);
  if (context.status !== "confirmed") throw new ShowableError(NOT_CONFIRMED);
  if (!context.me.can_write) {
    throw new ApiError(context.me.why_not || "Letters cannot be sent at the moment.");
  }
  return context.casePublicKey;
}

/**
 * A function that resolves to {objectId, version}: the given ones (a revision: the server
 * rendered them), or a new object id, asked for once (POST /api/letters/objects) and kept for
 * every further try, so that a letter sent twice is refused rather than sent twice.
 */
export function letterIdentity({ objectId = null, version = 1 } = {}) {
  let known = objectId ? Promise.resolve({ objectId, version }) : null;
  return () => {
    if (known === null) {
      known = postJSON("/api/letters/objects", {}).then((answer) => ({
        objectId: answer.object_id,
        version: 1,
      }));
      known.catch(() => {
        known = null; // asked again on the next try
      });
    }
    return known;
  };
}

/** A text letter sealed to the case key and to me: the JSON fields of the send request. */
export async function sealLetterBody(keys, identity, { text, casePublicKey }) {
  const p = await protocol();
  const { objectId, version } = await identity();
  const authorPk = p.publicKeyFromSecret(keys.secretKey);
  const createdAt = new Date().toISOString();
  const sealed = p.sealLetter(keys.secretKey, authorPk, casePublicKey, objectId, version, text,
    createdAt, keys.accountId);
  try {
    return letterFields(p, sealed, objectId, version);
  } finally {
    forget(sealed.contentKey);
  }
}

// --- reading again -------------------------------------------------------------------------

/**
 * Who granted my message to me: my own key, or a facilitator's the trust chain vouches for
 * (after my key changed, a facilitator's browser granted it again); refused otherwise.
 */
async function myLetterSender(p, keys, answer, messageId) {
  const myPk = p.publicKeyFromSecret(keys.secretKey);
  const sender = answer.sender_public_key;
  if (!sender || sender === p.b64encode(myPk)) return myPk;
  await requireTrustedSenders(keys, [answer], { kind: "release-not-genuine", messageId });
  return p.b64decode(sender);
}

/** My message (GET /api/letters/{id}), opened with my grant as its author: {text} or {media}. */
export async function openMyLetter(keys, messageId) {
  const p = await protocol();
  const answer = await getJSON(letterUrl(messageId));
  if (answer.content_deleted === true) throw new ContentDeleted();
  const senderPk = await myLetterSender(p, keys, answer, messageId);
  return checked(p, async () =>
    isMediaObject(answer)
      ? { media: await openMessage(p, keys.secretKey, senderPk, answer) }
      : { text: await openSealed(p, keys.secretKey, senderPk, answer) },
  );
}

/**
 * A letter written on my behalf (GET /api/letters/{id}): the grant is a facilitator's, made in
 * their browser to the key they compared with me in person; its sender must be trusted staff
 * (else NotGenuine, reported), and the grant, manifest and chunks are checked as for my own.
 */
export async function openWrittenForMe(keys, messageId) {
  const p = await protocol();
  const answer = await getJSON(letterUrl(messageId));
  if (answer.content_deleted === true) throw new ContentDeleted();
  await requireTrustedSenders(keys, [answer], { kind: "release-not-genuine", messageId });
  const senderPk = p.b64decode(answer.sender_public_key);
  return checked(p, async () =>
    isMediaObject(answer)
      ? { media: await openMessage(p, keys.secretKey, senderPk, answer) }
      : { text: await openSealed(p, keys.secretKey, senderPk, answer) },
  );
}

/** The facilitator's note on my message, or null when there is none. */
export async function openFeedback(keys, messageId) {
  const p = await protocol();
  const answer = await getJSON(letterUrl(messageId));
  const feedback = answer.feedback;
  if (!feedback) return null;
  await requireTrustedSenders(keys, [feedback], { kind: "release-not-genuine", messageId });
  return checked(p, () =>
    openSealed(p, keys.secretKey, p.b64decode(feedback.sender_public_key), feedback),
  );
}

/**
 * The written part of my message as I sent it, to make changes from: {text, checked}. When it
 * does not pass its checks, {text: "", checked: false}: the person writes again rather than
 * starting from words that may not be theirs. Recordings and files are not carried over into
 * the new version; the person adds them again if they want them.
 */
export async function letterToRevise(keys, messageId) {
  const p = await protocol();
  const answer = await getJSON(letterUrl(messageId));
  const senderPk = await myLetterSender(p, keys, answer, messageId);
  try {
    if (!isMediaObject(answer)) {
      return { text: await openSealed(p, keys.secretKey, senderPk, answer), checked: true };
    }
    const opened = await openMessage(p, keys.secretKey, senderPk, answer);
    opened.close();
    return { text: opened.letterText, checked: true };
  } catch (error) {
    if (!(error instanceof p.ProtocolError)) throw error;
    return { text: "", checked: false };
  }
}
