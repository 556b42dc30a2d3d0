// Opening a message with recordings, pages or files (docs/api-media.md, "Reading").
//
// Given a sealed object from the server ({object_id, version, manifest, manifest_hash, chunks,
// layout, chunk_url, grant}) and the reader's secret key:
//   1. the grant is opened (it must come from `senderPk`, for exactly this object version), which
//      gives the content key K and the manifest hash it commits to;
//   2. the manifest is checked against that hash and opened (protocol.openManifest);
//   3. the written letter (part 0, inline chunks) is checked and decoded;
//   4. every other part gets a reader: readChunk(index) fetches GET {chunk_url}{part}/{index}
//      (media/chunk-fetch.js) and returns the plaintext only after protocol.openChunk has
//      checked it against the manifest (hash, place, last or not, exact length);
//      readBatch(from, count) fetches several consecutive chunks in one GET (?count=,
//      docs/api-media.md "Several chunks in one GET") and checks each one the same way, in a
//      Worker (media/open-workers.js) so that the page receives the next GET meanwhile.
// The server's `layout` only says where bytes are (inline or fetched); what the message IS comes
// from the manifest alone. Any check failure throws a protocol error: callers show nothing of
// that part and say so calmly (COULD_NOT_CHECK). Nothing here logs, and no content or key ever
// leaves this module except as checked plaintext handed to the caller.
//
//   isMediaObject(sealed)                              -> true when openLetter cannot open it
//   openMessage(p, readerSk, senderPk, sealed)         -> OpenedMessage (below)
//   ChunkUnavailable                                   a chunk could not be fetched (not a check)
//   formatFromManifest(manifest), lengthFromManifest(manifest)  -> what the author should have
//                                                        declared (facilitators compare them)

import { holdSecret } from "../crypto/keys.js";
import { FETCH_BATCH, READ_AHEAD, fetchChunk, fetchChunkRun } from "./chunk-fetch.js";
import { ChunkOpeners } from "./open-workers.js";

// What the player and the benches read with, kept importable from here.
export { ChunkUnavailable, FETCH_BATCH, READ_AHEAD } from "./chunk-fetch.js";

const LETTER_KIND = "letter";
const LETTER_MIME = "text/plain; charset=utf-8";

/**
 * A media message, as opposed to a text letter: any chunk stored apart (`inline: false`) or more
 * than one part. Text letters keep going through openLetter exactly as before.
 */
export function isMediaObject(sealed) {
  const layout = sealed && Array.isArray(sealed.layout) ? sealed.layout : [];
  return layout.some((entry) => entry && (entry.inline === false || entry.part !== 0));
}

/** "video" if there is any video, else "audio" if any audio, else "letter" (api-media.md). */
export function formatFromManifest(manifest) {
  const mimes = manifest.parts.slice(1).map((part) => part.mime.toLowerCase());
  if (mimes.some((mime) => mime.startsWith("video/"))) return "video";
  if (mimes.some((mime) => mime.startsWith("audio/"))) return "audio";
  return "letter";
}

/**
 * {seconds?, pages?, pdfs}: seconds from the parts' duration_ms (when every timed part has one),
 * pages = the number of scanned image pages; `pdfs` counts PDF parts (whose pages cannot be
 * counted here).
 */
export function lengthFromManifest(manifest) {
  const timed = manifest.parts.filter((part) => isPlayable(part.mime));
  const pages = manifest.parts.filter((part) => part.kind === "page");
  const result = { pdfs: pages.filter((part) => isPdf(part.mime)).length };
  if (timed.length > 0 && timed.every((part) => Number.isSafeInteger(part.duration_ms))) {
    result.seconds = Math.round(timed.reduce((sum, part) => sum + part.duration_ms, 0) / 1000);
  }
  if (pages.length > 0) result.pages = pages.length - result.pdfs;
  return result;
}

export function isPlayable(mime) {
  return /^(audio|video)\//i.test(mime);
}

export function isPdf(mime) {
  return /^application\/pdf\s*(;|$)/i.test(mime);
}

/** Only these image types are shown in the page (never SVG). */
export function isShowableImage(mime) {
  return /^image\/(jpeg|png|webp|gif)\s*(;|$)/i.test(mime);
}

/** The chunk address: the server's chunk_url when it is a path on this site, else our own. */
function chunkBase(sealed) {
  const fallback = `/api/content/${encodeURIComponent(sealed.object_id)}/${sealed.version}/`;
  const given = sealed.chunk_url;
  if (typeof given === "string" && /^\/(?![/\\])[^?#]*\/$/.test(given)) return given;
  return fallback;
}

function strictUtf8(p, data) {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(data);
  } catch {
    throw new p.MalformedInput("text is not UTF-8");
  }
}

/**
 * Open a media message. Resolves to
 *   {manifest, createdAt, letterText,
 *    parts: [{number, kind, mime, name, size, chunks, durationMs, readChunk(index, {signal}),
 *             readBatch(from, count, {signal}) -> [plaintexts] of one GET,
 *             readChunks(from, {ahead, batch, signal}) -> async iterable of plaintexts, in order,
 *             readAll({onProgress, signal}) -> Blob}],
 *    close()}
 * where `parts` are parts 1.. in manifest order. close() wipes the content key (and ends the
 * Workers that check chunks with it); call it when the page is left. Throws a protocol error (grant, manifest or letter text did not check out) or
 * ChunkUnavailable; in both cases nothing is returned.
 */
export async function openMessage(p, readerSk, senderPk, sealed) {
  if (!sealed || typeof sealed !== "object") throw new p.MalformedInput("no sealed object");
  const objectId = sealed.object_id;
  const version = sealed.version;
  const [key, grantedHash] = p.openContentGrant(
    readerSk,
    senderPk,
    objectId,
    version,
    p.b64decode(sealed.grant),
  );
  holdSecret(key); // zeroed by quick exit and sign-out like every other key
  let manifest;
  try {
    manifest = p.openManifest(key, objectId, version, p.b64decode(sealed.manifest), grantedHash);
    const first = manifest.parts[0];
    if (!first || first.kind !== LETTER_KIND || first.mime !== LETTER_MIME) {
      throw new p.WrongContext("the message does not start with its written letter");
    }
  } catch (error) {
    key.fill(0);
    throw error;
  }

  // Inline chunks arrive in layout order; everything else is fetched.
  const layout = Array.isArray(sealed.layout) ? sealed.layout : [];
  const inlineData = Array.isArray(sealed.chunks) ? sealed.chunks : [];
  const inline = new Map();
  let next = 0;
  for (const entry of layout) {
    if (entry && entry.inline === true) {
      const chunk = inlineData[next];
      next += 1;
      if (chunk === undefined) break;
      inline.set(`${entry.part}/${entry.index}`, typeof chunk === "string" ? chunk : chunk?.data);
    }
  }
  const base = chunkBase(sealed);
  // Started with the first GET of several chunks (once Play is pressed), not before: the first
  // frame needs only chunk 0, checked here, and two Workers compiling the cipher would compete
  // with it for the cores. Until they have, batches are checked here. Ended by close() and
  // wipeKeys().
  let openers = null;
  const chunkOpeners = () => {
    if (openers === null) openers = new ChunkOpeners(p);
    return openers;
  };

  async function storedChunk(part, index, signal) {
    const held = inline.get(`${part}/${index}`);
    if (typeof held === "string") return p.b64decode(held);
    return fetchChunk(`${base}${part}/${index}`, signal);
  }

  async function readChunk(part, index, { signal } = {}) {
    const stored = await storedChunk(part, index, signal);
    // Checked against the manifest before a single byte is decrypted or handed on.
    return p.openChunk(key, objectId, version, manifest, part, index, stored);
  }

  /**
   * Chunks `from` .. `from + count - 1` of a part, each checked as readChunk checks it, in one
   * GET when they are all stored apart (one chunk, or an inline one: as readChunk).
   */
  async function readBatch(part, from, count, { signal } = {}) {
    const indexes = Array.from({ length: count }, (_, offset) => from + offset);
    if (count === 1 || indexes.some((index) => inline.has(`${part}/${index}`))) {
      return Promise.all(indexes.map((index) => readChunk(part, index, { signal })));
    }
    const opening = chunkOpeners();
    const { body, sizes } = await fetchChunkRun(p, `${base}${part}/${from}`, count, signal);
    // Checked against the manifest (its entry for this part) before a single byte is decrypted
    // or handed on: protocol.openChunk in a Worker (open-worker.js), which reads the body.
    const entry = manifest.parts[part];
    const { chunks, size, hashes } = entry;
    return opening.open({ key, objectId, version, part, entry: { chunks, size, hashes },
      from, body, sizes });
  }

  /**
   * Chunks `from`.. of a part, checked, in order: `batch` at a time in one GET, with at most
   * `ahead` chunks asked for and not handed on yet (at least one GET on its way).
   */
  async function* readChunks(
    part,
    from,
    { ahead = READ_AHEAD, batch = FETCH_BATCH, signal } = {},
  ) {
    const count = manifest.parts[part].chunks;
    const size = Math.max(1, batch);
    const limit = Math.max(size, ahead);
    const waiting = [];
    let next = from; // the first chunk not asked for yet
    let handed = from; // the first chunk not handed on yet
    const askForMore = () => {
      for (;;) {
        const take = Math.min(size, count - next);
        if (take <= 0 || (waiting.length > 0 && next + take - handed > limit)) return;
        const reading = readBatch(part, next, take, { signal });
        reading.catch(() => {}); // surfaced when its turn comes
        waiting.push(reading);
        next += take;
      }
    };
    while (handed < count) {
      if (signal && signal.aborted) throw new DOMException("stopped", "AbortError");
      askForMore();
      for (const plaintext of await waiting.shift()) {
        handed += 1;
        yield plaintext;
        askForMore();
      }
    }
  }

  async function readAll(part, { onProgress, signal } = {}) {
    const entry = manifest.parts[part];
    const pieces = [];
    for await (const plaintext of readChunks(part, 0, { signal })) {
      pieces.push(plaintext);
      if (onProgress) onProgress(pieces.length / entry.chunks);
    }
    return new Blob(pieces, { type: entry.mime });
  }

  let letterText;
  try {
    const letter = manifest.parts[0];
    const pieces = [];
    for (let index = 0; index < letter.chunks; index += 1) {
      pieces.push(await readChunk(0, index));
    }
    const joined = new Uint8Array(letter.size);
    pieces.forEach((piece, index) => joined.set(piece, index * p.CHUNK_SIZE));
    letterText = strictUtf8(p, joined);
  } catch (error) {
    key.fill(0);
    throw error;
  }

  const parts = manifest.parts.slice(1).map((entry, offset) => {
    const number = offset + 1;
    return Object.freeze({
      number,
      kind: entry.kind,
      mime: entry.mime,
      name: entry.name,
      size: entry.size,
      chunks: entry.chunks,
      durationMs: Number.isSafeInteger(entry.duration_ms) ? entry.duration_ms : null,
      readChunk: (index, options) => readChunk(number, index, options),
      readBatch: (from, count, options) => readBatch(number, from, count, options),
      readChunks: (from, options) => readChunks(number, from, options),
      readAll: (options) => readAll(number, options),
    });
  });

  return {
    manifest,
    createdAt: manifest.created_at,
    letterText,
    parts,
    close() {
      key.fill(0);
      if (openers !== null) openers.close();
    },
  };
}
