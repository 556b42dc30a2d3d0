// The recording of a media message (media/message.js), sealed while it is recorded: every full
// chunk is sealed under the message's content key K and kept in IndexedDB (or in memory when
// IndexedDB cannot be used), and a checkpoint of the unsealed tail, sealed under K, is kept
// every few seconds, so that a tab that dies while recording loses only its last seconds.
//
//   recordingSink(message, {mime, video})  -> {push(bytes, elapsedMs), finish(durationMs)}
//   recordingChunks(message), recordingChunk(message, index), recordingBlob(message)
//   finishCrashedRecording(message)        the recording, completed from its checkpoint
//   sealRecordingAgain(message, oldKey, newKey)  the stored chunks under a new K
//
// The recording is always part 1: its chunks are sealed before the files are known.

import { PartSealer } from "./seal.js";
import * as store from "./store.js";

export const RECORDING_PART = 1;
const CHECKPOINT_EVERY_MS = 3000;

function sealerFor(message, mime, extra = {}) {
  return new PartSealer(message.p, {
    key: message.key,
    objectId: message.objectId,
    version: message.version,
    part: RECORDING_PART,
    kind: "recording",
    mime,
    name: "",
    ...extra,
  });
}

async function keepChunk(message, chunk) {
  if (message.memory) message.memory.set(chunk.index, chunk);
  else await store.putChunk(message.id, chunk);
}

/**
 * Start sealing a new recording into `message` (its identity and state must exist). Returns a
 * sink whose calls must not overlap (the recorder feeds them in order):
 *   push(bytes, elapsedMs)  seal what is complete, keep it, checkpoint the tail
 *   finish(durationMs)      seal the final chunk; the recording is then complete
 */
export async function recordingSink(message, { mime }) {
  const id = message.id;
  const sealer = sealerFor(message, mime);
  let lastCheckpoint = 0;
  const checkpoint = async (elapsedMs) => {
    if (message.memory) return;
    const header = {
      part: RECORDING_PART,
      next_index: sealer.index,
      plain_bytes: sealer.plainBytes - sealer.fill,
      duration_ms: Math.round(elapsedMs),
    };
    const sealed = await store.sealCheckpoint(message.key, header, sealer.tail());
    await store.putCheckpoint(id, RECORDING_PART, sealed);
    lastCheckpoint = performance.now();
  };
  await checkpoint(0);
  return {
    push: async (bytes, elapsedMs) => {
      const chunks = sealer.push(bytes);
      for (const chunk of chunks) await keepChunk(message, chunk);
      if (chunks.length > 0 || performance.now() - lastCheckpoint >= CHECKPOINT_EVERY_MS) {
        await checkpoint(elapsedMs);
      }
    },
    finish: async (durationMs) => {
      sealer.finish();
      await keepChunk(message, sealer.lastChunk);
      if (!message.memory) await store.deleteCheckpoint(id, RECORDING_PART);
      Object.assign(message.state.recording, {
        complete: true,
        duration_ms: Math.round(durationMs),
        size: sealer.plainBytes,
        chunks: sealer.index,
      });
      await message.persist();
    },
  };
}

/** The stored chunks of the recording: [{part, index, final, size, hash}] without bytes. */
export async function recordingChunks(message) {
  if (message.memory) {
    return [...message.memory.values()]
      .sort((a, b) => a.index - b.index)
      .map(({ part, index, final, size, hash }) => ({ part, index, final, size, hash }));
  }
  return store.listChunks(message.id, RECORDING_PART);
}

export async function recordingChunk(message, index) {
  if (message.memory) return message.memory.get(index).data;
  const row = await store.getChunk(message.id, RECORDING_PART, index);
  if (!row) throw new Error("a piece of the recording is missing on this device");
  return row.data;
}

/** The recording as a Blob (decrypted from where it is kept), to play it back after a reload. */
export async function recordingBlob(message) {
  const { p } = message;
  const pieces = [];
  for (const meta of await recordingChunks(message)) {
    const data = await recordingChunk(message, meta.index);
    pieces.push(
      p.decryptChunk(message.key, message.objectId, message.version, RECORDING_PART, meta.index,
        meta.final, data),
    );
  }
  return new Blob(pieces, { type: message.state.recording.mime });
}

/**
 * The tab closed while recording: every full chunk is in IndexedDB, and the checkpoint holds
 * the rest (sealed under K). The tail becomes the final chunk; the last seconds after the
 * checkpoint are lost. Chunks sealed after the checkpoint are dropped so the two agree. A
 * recording that cannot be completed is dropped.
 */
export async function finishCrashedRecording(message) {
  const id = message.id;
  const blob = await store.getCheckpoint(id, RECORDING_PART);
  const opened = blob ? await store.openCheckpoint(message.key, blob) : null;
  if (!opened) {
    await message.dropRecording();
    return;
  }
  const { header, tail } = opened;
  await store.deleteChunks(id, RECORDING_PART, header.next_index);
  const kept = (await store.listChunks(id, RECORDING_PART)).filter((c) => !c.final);
  if (kept.length !== header.next_index || kept.some((c, i) => c.index !== i)) {
    await message.dropRecording();
    return;
  }
  const sealer = sealerFor(message, message.state.recording.mime, {
    startIndex: header.next_index,
    hashes: kept.map((c) => c.hash),
    sizes: kept.map((c) => c.size),
    plainBytes: header.plain_bytes,
  });
  sealer.push(tail);
  sealer.finish();
  await store.putChunk(id, sealer.lastChunk);
  await store.deleteCheckpoint(id, RECORDING_PART);
  Object.assign(message.state.recording, {
    complete: true,
    duration_ms: header.duration_ms,
    size: sealer.plainBytes,
    chunks: sealer.index,
  });
  await message.persist();
}

/** Seal the stored recording again under `newKey` (an upload under the old K was dropped). */
export async function sealRecordingAgain(message, oldKey, newKey) {
  const { p, objectId, version } = message;
  for (const meta of await recordingChunks(message)) {
    const data = await recordingChunk(message, meta.index);
    const plain = p.decryptChunk(oldKey, objectId, version, RECORDING_PART, meta.index,
      meta.final, data);
    const sealed = p.encryptChunk(newKey, objectId, version, RECORDING_PART, meta.index,
      meta.final, plain);
    plain.fill(0);
    await keepChunk(message, {
      part: RECORDING_PART,
      index: meta.index,
      final: meta.final,
      data: sealed,
      size: sealed.length,
      hash: p.chunkHash(sealed),
    });
  }
}
