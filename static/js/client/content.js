// Sealed content objects as they travel: the JSON shapes of docs/api-cases-and-letters.md
// ("Content objects") turned into protocol calls and back. Used by every client that sends or
// opens a letter, a note or a transcript.

/**
 * The stored chunks of a sealed object, as bytes in order. The server sends base64url strings
 * in order; objects {part, index, data} are accepted too (the upload shape), so that a change
 * of shape on either side fails at the hash check rather than here.
 */
export function chunkBytes(p, chunks) {
  if (!Array.isArray(chunks)) throw new p.MalformedInput("chunks must be an array");
  return chunks.map((chunk) => p.b64decode(typeof chunk === "string" ? chunk : chunk?.data));
}

/**
 * Open a letter-shaped content object from the server ({object_id, version, manifest, chunks,
 * grant}) made by `senderPk`. openLetter checks the grant's sender and recipient, the manifest
 * hash and every chunk hash before anything is decrypted; any failure throws a ProtocolError,
 * and no text at all is returned.
 */
export function openSealed(p, secretKey, senderPk, sealed) {
  if (!sealed || typeof sealed !== "object") {
    throw new p.MalformedInput("no sealed object");
  }
  return p.openLetter(
    secretKey,
    senderPk,
    sealed.object_id,
    sealed.version,
    p.b64decode(sealed.grant),
    p.b64decode(sealed.manifest),
    chunkBytes(p, sealed.chunks),
  );
}

/**
 * The JSON fields for POST /api/letters and /api/letters/{id}/revise from sealLetter's answer:
 * {letter: {object_id, version, manifest, manifest_hash, chunks: [{part, index, final, data}]},
 *  grant_to_case, grant_to_author}. A letter is one part (0).
 */
export function letterFields(p, sealed, objectId, version) {
  const last = sealed.chunks.length - 1;
  return {
    letter: {
      object_id: objectId,
      version,
      manifest: p.b64encode(sealed.manifest),
      manifest_hash: p.b64encode(sealed.manifestHash),
      chunks: sealed.chunks.map((data, index) => ({
        part: 0,
        index,
        final: index === last,
        data: p.b64encode(data),
      })),
    },
    grant_to_case: p.b64encode(sealed.grantToCase),
    grant_to_author: p.b64encode(sealed.grantToAuthor),
  };
}
