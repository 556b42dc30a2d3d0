// Uploading a media message (media/message.js) and sealing what the submit carries.
//
//   uploadAndSeal(message, parts, {text, casePk, onProgress, onWaiting}) -> submit fields
//
// Every part after the text goes up in chunks (media/upload.js: resumable, three at a time);
// what the server already holds is skipped. A chosen file is sealed in Workers as it goes
// (media/seal-workers.js); a recording's chunks were sealed while it was recorded. Then the text is sealed as part 0 (it travels
// inline), the manifest lists every chunk's hash, and the grants go to the case key (for
// review) and to the author (to read it again): media/seal.js sealMessage.

import {
  CHUNK_OVERHEAD,
  PartSealer,
  chunkCountFor,
  cipherSize,
  sealMessage,
  sealTextPart,
} from "./seal.js";
import { SealWorkers, sealFileChunks } from "./seal-workers.js";
import { recordingChunk, recordingChunks } from "./message-recording.js";
import { Uploader } from "./upload.js";

/** The manifest entry of the recording, from its stored chunks. */
function recordingEntry(p, part, stored) {
  const mine = stored.filter((c) => c.part === part.part).sort((a, b) => a.index - b.index);
  const entry = {
    kind: "recording",
    mime: part.mime,
    name: "",
    size: part.size,
    chunks: mine.length,
    hashes: mine.map((c) => p.b64encode(c.hash)),
  };
  if (Number.isSafeInteger(part.duration_ms)) entry.duration_ms = part.duration_ms;
  return entry;
}

/** The recording's stored chunks, except those the server holds already (counted as sent). */
async function* recordingChunksToSend(message, part, { held, uploader, stored }) {
  const { p } = message;
  for (const meta of await recordingChunks(message)) {
    stored.push(meta);
    const have = held.get(`${part.part}/${meta.index}`);
    if (have && have.size === meta.size && have.hash === p.b64encode(meta.hash)) {
      uploader.alreadySent(meta.size);
      continue;
    }
    const data = await recordingChunk(message, meta.index);
    yield { part: part.part, index: meta.index, data, hash: meta.hash };
  }
}

/**
 * A chosen file, read and sealed in Workers (media/seal-workers.js) a few runs ahead of the
 * upload, except the chunks the server holds. `sealer` keeps the part's manifest entry: every
 * chunk, sealed here or held, is recorded in it in order.
 */
async function* fileChunksToSend(message, part, sealer, { held, uploader, stored, workers }) {
  const { p, key, objectId, version } = message;
  const heldChunk = (index) => {
    const have = held.get(`${part.part}/${index}`);
    const plain = Math.min(p.CHUNK_SIZE, part.size - index * p.CHUNK_SIZE);
    return have && have.size === Math.max(0, plain) + CHUNK_OVERHEAD ? have : null;
  };
  const chunks = sealFileChunks(workers, { key, objectId, version, part: part.part,
    file: part.file, size: part.size, isHeld: (index) => heldChunk(index) !== null });
  for await (const chunk of chunks) {
    if (chunk.held) {
      // Held already (resume): its hash is taken from the server's list without reading
      // the file again. The server cannot forge such a chunk: it would have to be sealed
      // under K, with this object, version, part, index and final flag in its AD, and K
      // never leaves this browser unsealed; anything else fails to open for the reader.
      const have = heldChunk(chunk.index);
      const hash = p.b64decode(have.hash);
      sealer.skipChunk({ size: have.size, hash });
      stored.push({ part: part.part, index: chunk.index,
        final: chunk.index === chunkCountFor(part.size, p.CHUNK_SIZE) - 1, size: have.size, hash });
      uploader.alreadySent(have.size);
      continue;
    }
    // Sealed in a Worker (the bytes PartSealer would make); recorded in the entry in its place.
    sealer.skipChunk({ size: chunk.size, hash: chunk.hash });
    stored.push({ part: chunk.part, index: chunk.index, final: chunk.final, size: chunk.size,
      hash: chunk.hash });
    yield chunk;
  }
  sealer.finish();
}

/**
 * Upload every part in `parts` (message.plan), then seal the text and the manifest: resolves
 * to the submit fields (letter, grants, format, length). Rejects with ApiError or
 * UploadCancelled. `message.uploader` is the running upload, for cancelling.
 */
export async function uploadAndSeal(message, parts, { text, casePk, onProgress, onWaiting }) {
  const { p, key, objectId, version } = message;
  const uploader = new Uploader({ objectId, version, onProgress, onWaiting });
  message.uploader = uploader;
  // Started first, so the Workers load the cipher while the upload is being declared.
  const workers = parts.some((part) => part.kind !== "recording") ? new SealWorkers() : null;
  if (workers) workers.warm().catch(() => {}); // a failure shows at the first chunk
  // The ciphertext bytes the upload declares: recording chunks as stored, files as they will be.
  let held;
  try {
    ({ held } = await uploader.start(parts.reduce((sum, part) => sum + cipherSize(part.size), 0)));
  } catch (error) {
    if (workers) workers.close();
    throw error;
  }
  const found = { held, uploader, stored: [], workers };
  const entries = [];

  async function* chunks() {
    for (const part of parts) {
      if (part.kind === "recording") {
        yield* recordingChunksToSend(message, part, found);
        entries.push(() => recordingEntry(p, part, found.stored));
        continue;
      }
      const sealer = new PartSealer(p, { key, objectId, version, part: part.part,
        kind: part.kind, mime: part.mime, name: part.name, knownSize: part.size });
      yield* fileChunksToSend(message, part, sealer, found);
      entries.push(() => sealer.entry({ durationMs: part.duration_ms }));
    }
  }

  try {
    await uploader.send(chunks());
  } finally {
    if (workers) workers.close();
  }
  message.uploader = null;
  const textPart = sealTextPart(p, { key, objectId, version, text });
  const { fields } = sealMessage(p, {
    key,
    objectId,
    version,
    createdAt: new Date().toISOString(),
    authorId: message.keys.accountId,
    authorSk: message.keys.secretKey,
    authorPk: p.publicKeyFromSecret(message.keys.secretKey),
    casePk,
    inline: textPart.chunks,
    stored: found.stored.sort((a, b) => a.part - b.part || a.index - b.index),
    entries: [textPart.entry, ...entries.map((entry) => entry())],
  });
  return fields;
}
