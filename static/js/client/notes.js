// Facilitator notes: feedback on a returned letter, the reason a letter is withheld, the content
// note a recipient reads before deciding whether to open something, and the transcript or
// translation released with a recording; and a first approver's note to the second facilitator
// of a high-risk case.
//
// A note is a content object like a letter (docs/protocol-v1.md, "Content objects"), version 1,
// sealed with sealLetter in the facilitator's browser. It gets two grants: one to the case key
// (so every facilitator of the case can read it later) and one to the one person it is for
// (the writer for feedback and reasons, the recipient for a content note or a transcript). An
// approval note is for the case's facilitators alone: the case key's grant only. The server
// stores ciphertext and grants; it never sees the text.
//
//   sealNote({keys, caseId, casePublicKey, kind, text, personPublicKey}) -> the `note` body of
//     POST /api/messages/{id}/approve | return | withhold
//   openNote(readerSecretKey, note) -> text, after checking the grant (made by the note's
//     sender, for exactly this object version), the manifest hash and every chunk hash

import { protocol } from "../crypto/keys.js";
import { postJSON } from "../lib/http.js";
import { letterFields, openSealed } from "./content.js";

export const NOTE_KINDS = Object.freeze([
  "feedback",
  "content_note",
  "transcript",
  "approval_note",
]);

/**
 * Seal `text` as a note of `kind` in case `caseId`, readable by the case key and by
 * `personPublicKey` (Uint8Array; null for a note to the case key alone). The object id is issued
 * by the server first (POST /api/cases/{caseId}/objects), so the encryption is bound to it.
 * Returns the note body: the sealed object {object_id, version, manifest, manifest_hash,
 * chunks} with grant_to_case and (for a person) grant_to_person.
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
    // The same wire form as a letter's; a note has no grant back to its sender.
    const { letter, grant_to_case: grantToCase } = letterFields(p, sealed, objectId, version);
    if (personPublicKey === null) return { ...letter, grant_to_case: grantToCase };
    const grantToPerson = p.makeContentGrant(
      keys.secretKey,
      personPublicKey,
      objectId,
      version,
      sealed.contentKey,
      sealed.manifestHash,
    );
    return { ...letter, grant_to_case: grantToCase, grant_to_person: p.b64encode(grantToPerson) };
  } finally {
    // The grants carry K from here on; nothing here has any further use for it.
    sealed.contentKey.fill(0);
  }
}

/**
 * The text of a note {object_id, version, manifest, chunks, grant, sender_public_key} for the
 * holder of `readerSecretKey` (the case secret key, or the person's own). Throws a protocol
 * error when anything does not check out: the caller says the note cannot be shown.
 */
export async function openNote(readerSecretKey, note) {
  const p = await protocol();
  if (!note || typeof note.sender_public_key !== "string") {
    throw new p.MalformedInput("no note");
  }
  return openSealed(p, readerSecretKey, p.b64decode(note.sender_public_key), note);
}
