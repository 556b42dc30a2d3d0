// Facilitator notes: feedback on a returned letter, the reason a letter is withheld, and the
// content note a recipient reads before deciding whether to open something.
//
// A note is a content object like a letter (docs/protocol-v1.md, "Content objects"), version 1,
// sealed with sealLetter in the facilitator's browser. It gets two grants: one to the case key
// (so every facilitator of the case can read it later) and one to the one person it is for
// (the writer for feedback and reasons, the recipient for a content note). The server stores
// ciphertext and grants; it never sees the text.
//
//   sealNote({keys, caseId, casePublicKey, kind, text, personPublicKey}) -> the `note` body of
//     POST /api/messages/{id}/approve | return | withhold
//   openNote(readerSecretKey, note) -> text, after checking the grant, the manifest hash and
//     every chunk hash (protocol.openLetter)
//   sealedObjectBody(objectId, version, sealed) -> the wire form of a sealed object

import { protocol } from "../crypto/keys.js";
import { postJSON } from "../lib/http.js";

export const NOTE_KINDS = Object.freeze(["feedback", "content_note", "transcript"]);

/**
 * {object_id, version, manifest, manifest_hash, chunks: [{part, index, final, data}]} from the
 * result of protocol.sealLetter; binary values as base64url.
 */
export function sealedObjectBody(p, objectId, version, sealed) {
  const last = sealed.chunks.length - 1;
  return {
    object_id: objectId,
    version,
    manifest: p.b64encode(sealed.manifest),
    manifest_hash: p.b64encode(sealed.manifestHash),
    chunks: sealed.chunks.map((chunk, index) => ({
      part: 0,
      index,
      final: index === last,
      data: p.b64encode(chunk),
    })),
  };
}

/**
 * Seal `text` as a note of `kind` ("feedback" | "content_note" | "transcript") in case `caseId`,
 * readable by the case key and by `personPublicKey` (Uint8Array). The object id is issued by the server
 * first (POST /api/cases/{caseId}/objects), so the encryption is bound to it.
 * Returns the note body: the sealed object plus grant_to_case and grant_to_person.
 */
export async function sealNote({ keys, caseId, casePublicKey, kind, text, personPublicKey }) {
  if (!NOTE_KINDS.includes(kind)) throw new TypeError("unknown note kind");
  const p = await protocol();
  const { object_id: objectId } = await postJSON(
    `/api/cases/${encodeURIComponent(caseId)}/objects`,
    { kind },
  );
  const version = 1;
  const sealed = p.sealLetter(
    keys.secretKey,
    keys.publicKey,
    casePublicKey,
    objectId,
    version,
    text,
    new Date().toISOString(),
    keys.accountId,
  );
  try {
    const grantToPerson = p.makeContentGrant(
      keys.secretKey,
      personPublicKey,
      objectId,
      version,
      sealed.contentKey,
      sealed.manifestHash,
    );
    return {
      ...sealedObjectBody(p, objectId, version, sealed),
      grant_to_case: p.b64encode(sealed.grantToCase),
      grant_to_person: p.b64encode(grantToPerson),
    };
  } finally {
    // The grants carry K from here on; the page has no further use for it.
    sealed.contentKey.fill(0);
  }
}

/**
 * The text of a note {object_id, version, manifest, manifest_hash, chunks, grant,
 * sender_public_key} for the holder of `readerSecretKey` (the case secret key, or the person's
 * own). `chunks` may be base64url strings or {data} objects. Throws protocol errors when
 * anything does not check out: the caller says the note cannot be shown.
 */
export async function openNote(readerSecretKey, note) {
  const p = await protocol();
  const chunks = (note.chunks || []).map((chunk) =>
    p.b64decode(typeof chunk === "string" ? chunk : chunk.data),
  );
  return p.openLetter(
    readerSecretKey,
    p.b64decode(note.sender_public_key),
    note.object_id,
    note.version,
    p.b64decode(note.grant),
    p.b64decode(note.manifest),
    chunks,
  );
}
