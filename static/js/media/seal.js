// Sealing a media message as a stream (docs/api-media.md, docs/protocol-v1.md).
//
// A message is one content object: part 0 is the text letter (inline in the submit JSON), parts
// 1.. are recordings, scanned pages and attachments (uploaded chunk by chunk). The protocol is
// unchanged: every part is cut into chunks of exactly CHUNK_SIZE plaintext bytes but the last,
// each chunk sealed on its own with its place (object, version, part, index, final) in the AD,
// and the manifest lists every chunk's hash. protocol.encryptContent does this for data held
// whole in memory; here the same bytes come out of a stream, so a 1 GiB file or a recording that
// is still going on never has to be held whole.
//
// Public:
//   PartSealer                    plaintext in (any piece sizes), sealed chunks out
//   cipherSize(plainSize)         stored bytes of a part of that many plaintext bytes
//   chunkCountFor(plainSize)      how many chunks such a part has
//   sealManifest(p, ...)          the manifest exactly as encryptContent makes it
//   sealMessage(p, ...)           manifest + grants + the submit JSON of the contract
//   messageFormat(entries)        "video" | "audio" | "letter"
//   messageLength(entries)        {seconds?, pages?}
//
// Nothing here logs, and nothing here keeps plaintext longer than the chunk being filled.

export const CHUNK_OVERHEAD = 24 + 16; // nonce + tag, per chunk
export const MAX_PARTS = 32; // part 0 (inline) and parts 1..31 (uploaded)

/** How many chunks a part of `plainSize` bytes has: an empty part is one empty chunk. */
export function chunkCountFor(plainSize, chunkSize = 1024 * 1024) {
  return Math.max(1, Math.ceil(plainSize / chunkSize));
}

/** The stored (ciphertext) bytes of a part of `plainSize` plaintext bytes. */
export function cipherSize(plainSize, chunkSize = 1024 * 1024) {
  return plainSize + chunkCountFor(plainSize, chunkSize) * CHUNK_OVERHEAD;
}

/**
 * One part, sealed as its bytes arrive.
 *
 *   const sealer = new PartSealer(p, { key, objectId, version, part: 1, kind: "recording",
 *                                      mime, name: "", onChunk });
 *   sealer.push(bytes); ...; sealer.finish({ durationMs });  // -> manifest entry
 *
 * Each chunk is handed to `onChunk({part, index, final, data, size, hash})` (data: the stored
 * bytes, nonce included; hash: chunkHash(data), 32 bytes) as soon as it is sealed, and also
 * returned by push()/finish(). A full chunk is sealed as soon as it is known whether it is the
 * last one: when `knownSize` is given (files), at once; otherwise (recordings) when the first
 * byte after it arrives or at finish(), because a part of exactly 2 MiB ends in a full chunk
 * that must be marked final.
 *
 * skipChunk({size, hash}) records a chunk that is already sealed elsewhere (held by the server,
 * or kept in IndexedDB) without reading or sealing its bytes; only at a chunk boundary.
 *
 * `nonce` (tests only): a function returning the next nonce.
 */
export class PartSealer {
  constructor(p, { key, objectId, version, part, kind, mime, name = "", knownSize = null,
    onChunk = null, nonce = null, startIndex = 0, hashes = [], sizes = [], plainBytes = 0 }) {
    this.p = p;
    this.key = key;
    this.objectId = objectId;
    this.version = version;
    this.part = part;
    this.kind = kind;
    this.mime = mime;
    this.name = name;
    this.knownSize = knownSize;
    this.onChunk = onChunk;
    this.nonce = nonce;
    this.buffer = new Uint8Array(p.CHUNK_SIZE);
    this.fill = 0;
    // Resuming (a recording after a crash): what was sealed before.
    this.index = startIndex;
    this.hashes = hashes.slice();
    this.sizes = sizes.slice();
    this.plainBytes = plainBytes; // plaintext bytes taken so far
    this.finished = false;
  }

  get count() {
    return this.knownSize === null ? null : chunkCountFor(this.knownSize, this.p.CHUNK_SIZE);
  }

  /** The plaintext not yet sealed (for the recording's local checkpoint). A copy. */
  tail() {
    return this.buffer.slice(0, this.fill);
  }

  /** Take more plaintext. Returns the chunks sealed because of it (often none). */
  push(data) {
    if (this.finished) throw new Error("PartSealer: part already finished");
    if (!(data instanceof Uint8Array)) data = new Uint8Array(data);
    const size = this.p.CHUNK_SIZE;
    const out = [];
    let offset = 0;
    while (offset < data.length) {
      if (this.fill === size) {
        // More bytes follow, so the full chunk in hand is not the last one.
        out.push(this.seal(false));
      }
      const take = Math.min(size - this.fill, data.length - offset);
      this.buffer.set(data.subarray(offset, offset + take), this.fill);
      this.fill += take;
      offset += take;
      this.plainBytes += take;
      if (this.knownSize !== null) {
        if (this.plainBytes > this.knownSize) throw new Error("PartSealer: more bytes than declared");
        if (this.fill === size && this.plainBytes < this.knownSize) out.push(this.seal(false));
      }
    }
    return out;
  }

  /** A chunk sealed elsewhere, in its place. `size` is the stored size (nonce and tag included). */
  skipChunk({ size, hash }) {
    if (this.fill !== 0) throw new Error("PartSealer: skipChunk only at a chunk boundary");
    const plain = size - CHUNK_OVERHEAD;
    this.hashes.push(hash);
    this.sizes.push(size);
    this.plainBytes += plain;
    this.index += 1;
  }

  /** Seal what is left as the final chunk; returns the manifest entry. */
  finish({ durationMs = null } = {}) {
    if (!this.finished) {
      if (this.knownSize !== null && this.plainBytes !== this.knownSize) {
        throw new Error("PartSealer: fewer bytes than declared");
      }
      // An empty part is one empty final chunk. A part whose size is a whole number of chunks
      // ends with a full final chunk (still in the buffer).
      if (this.fill > 0 || this.index === 0) this.lastChunk = this.seal(true);
      this.finished = true;
    }
    return this.entry({ durationMs });
  }

  /** The manifest part entry (keys in any order: the manifest is canonical JSON). */
  entry({ durationMs = null } = {}) {
    const entry = {
      kind: this.kind,
      mime: this.mime,
      name: this.name,
      size: this.plainBytes,
      chunks: this.hashes.length,
      hashes: this.hashes.map((hash) => this.p.b64encode(hash)),
    };
    if (Number.isSafeInteger(durationMs) && durationMs >= 0) entry.duration_ms = durationMs;
    return entry;
  }

  seal(final) {
    const { p } = this;
    const plaintext = this.buffer.subarray(0, this.fill);
    const nonce = this.nonce ? this.nonce() : undefined;
    const data = p.encryptChunk(this.key, this.objectId, this.version, this.part, this.index,
      final, plaintext, { nonce });
    const chunk = { part: this.part, index: this.index, final, data, size: data.length,
      hash: p.chunkHash(data) };
    this.hashes.push(chunk.hash);
    this.sizes.push(chunk.size);
    this.index += 1;
    this.fill = 0;
    if (this.onChunk) this.onChunk(chunk);
    return chunk;
  }
}

/**
 * The manifest of a whole message: protocol.sealManifest, the very code encryptContent ends
 * with, so both open alike. `entries` are the parts' manifest entries in part order.
 * Returns {manifestBlob, manifestHash}.
 */
export function sealManifest(p, { key, objectId, version, createdAt, author, entries, nonce }) {
  return p.sealManifest(key, objectId, version, createdAt, author, entries, { nonce });
}

const VIDEO = /^video\//i;
const AUDIO = /^audio\//i;

/** The format a message is sent as: video if any video, else audio if any audio, else letter. */
export function messageFormat(entries) {
  const media = entries.filter((e) => e.kind === "recording" || e.kind === "attachment");
  if (media.some((e) => VIDEO.test(e.mime))) return "video";
  if (media.some((e) => AUDIO.test(e.mime))) return "audio";
  return "letter";
}

/** {seconds, pages} for the submit JSON: only what there is. */
export function messageLength(entries) {
  const length = {};
  const ms = entries
    .filter((e) => e.kind === "recording" || e.kind === "attachment")
    .reduce((sum, e) => sum + (Number.isSafeInteger(e.duration_ms) ? e.duration_ms : 0), 0);
  const hasMedia = entries.some((e) => e.kind === "recording" || e.kind === "attachment");
  if (hasMedia) length.seconds = Math.round(ms / 1000);
  const pages = entries.filter((e) => e.kind === "page").length;
  if (pages > 0) length.pages = pages;
  return length;
}

/**
 * Everything POST /api/letters (or .../revise) takes about the content, once every part is
 * sealed:
 *   inline:  the sealed chunks of part 0 [{part: 0, index, final, data}] (the text letter)
 *   stored:  every uploaded chunk [{part, index, final, size, hash}] (hash: 32 bytes)
 *   entries: the manifest entries, part 0 first
 * Returns {fields, manifestHash} where fields = {letter: {object_id, version, manifest,
 * manifest_hash, chunks, stored_chunks}, grant_to_case, grant_to_author, format, length}.
 * The grants: to the case key so the facilitators can review it (never to the recipient before
 * approval), and to the author's own key so they can read it again.
 */
export function sealMessage(p, { key, objectId, version, createdAt, authorId, authorSk, authorPk,
  casePk, inline, stored, entries, nonces = null }) {
  const { manifestBlob, manifestHash } = sealManifest(p, {
    key, objectId, version, createdAt, author: authorId, entries,
    nonce: nonces ? nonces.manifest : undefined,
  });
  const grantToCase = p.makeContentGrant(authorSk, casePk, objectId, version, key, manifestHash,
    { nonce: nonces ? nonces.grantToCase : undefined });
  const grantToAuthor = p.makeContentGrant(authorSk, authorPk, objectId, version, key,
    manifestHash, { nonce: nonces ? nonces.grantToAuthor : undefined });
  const fields = {
    letter: {
      object_id: objectId,
      version,
      manifest: p.b64encode(manifestBlob),
      manifest_hash: p.b64encode(manifestHash),
      chunks: inline.map((c) => ({ part: c.part, index: c.index, final: c.final,
        data: p.b64encode(c.data) })),
      stored_chunks: stored.map((c) => ({ part: c.part, index: c.index, final: c.final,
        size: c.size, hash: p.b64encode(c.hash) })),
    },
    grant_to_case: p.b64encode(grantToCase),
    grant_to_author: p.b64encode(grantToAuthor),
    format: messageFormat(entries),
    length: messageLength(entries),
  };
  return { fields, manifestBlob, manifestHash };
}

/** Part 0: the text letter, sealed whole (at most 50,000 characters: always small). */
export function sealTextPart(p, { key, objectId, version, text, nonce = null }) {
  const sealer = new PartSealer(p, { key, objectId, version, part: 0, kind: "letter",
    mime: "text/plain; charset=utf-8", name: "", nonce });
  const chunks = sealer.push(new TextEncoder().encode(text));
  const entry = sealer.finish();
  if (sealer.lastChunk) chunks.push(sealer.lastChunk);
  return { chunks, entry };
}
