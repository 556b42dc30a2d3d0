// What waits for the recipient (templates/inbox/show.html): the facilitator's note, and the
// message they chose to open, each opened with this tab's key and checked before anything of it
// is returned.
//
// The server hands both over inside the page, as sealed placeholders: the note (data-note) as
// GET /api/inbox/{id}/note gives it, the released message (data-released) as
// POST /api/inbox/{id}/open answers (docs/api-cases-and-letters.md, "Participant";
// docs/api-media.md, "Reading"). Each carries a grant made by the facilitator whose public key
// it names (sender_public_key): the grant opens only if that facilitator made it for me, for
// exactly this object version, and it commits to the manifest hash; the manifest and every
// chunk are checked against it (protocol.openLetter, media/open.js openMessage).
//
//   prepareToOpen()             resolves once this tab holds its key (else KeysUnavailable) and
//                               the trust chain checks out (else its refusal), so that "Open it
//                               now" changes nothing on the server when it could not be read here
//   openFacilitatorNote(note, {messageId})   -> the note's text
//   openReleased(released, {messageId})      -> {kind: "letter", text, transcript}
//                                | {kind: "media", message, transcript}
//                                  message: media/open.js OpenedMessage (close() it when done:
//                                  media/message-view.js destroy() does)
//                                  transcript: {label, text} | {label, failed: true} | null
//
// Before anything is opened, its sender (and the transcript's) must be trusted staff: the
// server names them (sender_account_id, sender_public_key) and client/trust.js looks them up in
// the trust chain; otherwise NotGenuine (reported with the message id, so that the case's
// facilitators see it on their home page), and nothing is opened.
// A grant, manifest or chunk that does not check out throws NotChecked with the sentence to
// show, and nothing of it is returned. Anything else (no key in this tab, a chunk that could not
// be fetched) throws as it is: KeysUnavailable and ApiError carry their own sentence.

import { forget, protocol } from "../crypto/keys.js";
import { ShowableError } from "../lib/errors.js";
import { isMediaObject, openMessage } from "../media/open.js";
import { openSealed } from "./content.js";
import { loadSecretKey } from "./session.js";
import { loadTrust, requireTrustedSenders } from "./trust.js";

export { NotGenuine } from "./security-events.js";

export const MESSAGE_NOT_CHECKED =
  "This could not be shown, because this page could not confirm that it is exactly what your " +
  "facilitator passed on. Nothing from it has been shown. Please contact your facilitator: " +
  "they can look into it with you.";

export const NOTE_NOT_CHECKED =
  "Your facilitator left a note, but it could not be shown, because this page could not " +
  "confirm that it is exactly what they wrote. You can ask your facilitator about it.";

export const NOTE_NOT_LOADED = "Your facilitator's note could not be loaded just now.";

export const OPEN_FAILED = "This could not be opened just now. Please try again in a moment.";

/** Something sealed did not pass its checks: nothing of it is shown. */
export class NotChecked extends ShowableError {
  constructor(message) {
    super(message);
    this.name = "NotChecked";
  }
}

/** Run `use(secretKey, p, keys)` with this tab's key, and zero the key afterwards. */
async function withMyKey(use) {
  const keys = await loadSecretKey();
  try {
    return await use(keys.secretKey, await protocol(), keys);
  } finally {
    forget(keys.secretKey);
  }
}

/** The refusal's details: reported with the message, so its case's facilitators see it. */
const release = (messageId) => ({ kind: "release-not-genuine", messageId: messageId || null });

export async function prepareToOpen() {
  await withMyKey((secretKey, p, keys) => loadTrust(keys, { audience: "participant" }));
}

/** Open a sealed object {…, grant, sender_public_key} made by the facilitator it names. */
async function openChecked(p, secretKey, sealed, sentence, open) {
  try {
    return await open(p, secretKey, p.b64decode(sealed.sender_public_key), sealed);
  } catch (error) {
    if (error instanceof p.ProtocolError) throw new NotChecked(sentence);
    throw error;
  }
}

export function openFacilitatorNote(note, { messageId = null } = {}) {
  return withMyKey(async (secretKey, p, keys) => {
    if (!note || typeof note !== "object") throw new NotChecked(NOTE_NOT_CHECKED);
    await requireTrustedSenders(keys, [note], release(messageId));
    return openChecked(p, secretKey, note, NOTE_NOT_CHECKED, openSealed);
  });
}

/** The facilitator's transcript or translation, if any: {label, text} | {label, failed} | null. */
async function openTranscript(p, secretKey, released) {
  const sealed = released.transcript;
  if (!sealed) return null;
  const label = released.transcript_label === "translation" ? "translation" : "transcript";
  try {
    return { label, text: await openChecked(p, secretKey, sealed, "", openSealed) };
  } catch (error) {
    if (error instanceof NotChecked) return { label, failed: true };
    throw error;
  }
}

export function openReleased(released, { messageId = null } = {}) {
  return withMyKey(async (secretKey, p, keys) => {
    if (!released || typeof released !== "object") throw new NotChecked(MESSAGE_NOT_CHECKED);
    // The message and its transcript come from the same facilitator: both are checked first.
    await requireTrustedSenders(keys, [released, released.transcript], release(messageId));
    if (!isMediaObject(released)) {
      const text = await openChecked(p, secretKey, released, MESSAGE_NOT_CHECKED, openSealed);
      return { kind: "letter", text, transcript: await openTranscript(p, secretKey, released) };
    }
    // The grant, the manifest and the written part now; every other chunk as it is played or
    // shown (media/player.js, media/viewer.js).
    const message = await openChecked(p, secretKey, released, MESSAGE_NOT_CHECKED, openMessage);
    try {
      return { kind: "media", message, transcript: await openTranscript(p, secretKey, released) };
    } catch (error) {
      message.close();
      throw error;
    }
  });
}
