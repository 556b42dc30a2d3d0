// Sealing a chosen file's chunks off the page's thread (media/seal-workers.js starts it).
//
//   const worker = new Worker(new URL("./seal-worker.js", import.meta.url), { type: "module" });
//   worker.postMessage({ id, key, objectId, version, part, file, size, indexes });
//   worker.onmessage = ({ data }) => data.error ? ... : use(data.chunks);
//
// One request seals a run of consecutive chunks of one part: `file` is the Blob (a File is
// passed by reference, not copied), `size` its plaintext bytes when chosen, `indexes` the chunk
// numbers to seal (consecutive, ascending). The worker reads the run in one Blob slice and
// seals each chunk with the protocol's own functions (protocol.encryptChunkHashed: encryptChunk
// and chunkHash in one pass), so the bytes are exactly those PartSealer makes on the page. The reply is
//   { id, chunks: [{ index, final, data, hash }] }   (data, hash: Uint8Array)
// with every `data` buffer in the transfer list (moved, not copied), or { id, error }.
// `nonces` (tests only): one 24-byte nonce per index. `{ id, warm: true }` only loads the
// cipher and answers `{ id, ready: true }`.
//
// The plaintext slice is wiped as soon as it is sealed. The key K arrives with each request
// and lives only in this worker's memory, which the page ends (terminate) when sending ends.

import { chunkCountFor } from "./seal.js";
import * as p from "../crypto/protocol.js";

/** The sentence a failure carries: ours, never the file's name or any byte of it. */
const READ_CHANGED = "the file changed after it was chosen";

function checkRequest(request) {
  const { key, file, size, indexes, nonces } = request;
  if (!(key instanceof Uint8Array)) throw new p.MalformedInput("key must be a Uint8Array");
  if (typeof Blob === "undefined" || !(file instanceof Blob)) {
    throw new p.MalformedInput("file must be a Blob");
  }
  if (!Number.isSafeInteger(size) || size < 0) throw new p.MalformedInput("bad size");
  if (!Array.isArray(indexes) || indexes.length === 0) throw new p.MalformedInput("no indexes");
  const count = chunkCountFor(size, p.CHUNK_SIZE);
  indexes.forEach((index, at) => {
    if (!Number.isSafeInteger(index) || index < 0 || index >= count) {
      throw new p.MalformedInput("index out of range");
    }
    if (at > 0 && index !== indexes[at - 1] + 1) throw new p.MalformedInput("indexes not consecutive");
  });
  if (nonces !== undefined && (!Array.isArray(nonces) || nonces.length !== indexes.length)) {
    throw new p.MalformedInput("one nonce per index");
  }
  return count;
}

/**
 * One request in, one reply out (and the buffers to transfer with it). Exported so that tests,
 * and pages where Workers are unavailable, run exactly this code without a Worker.
 */
export async function handleSealRequest(request) {
  const reply = {};
  if (request !== null && typeof request === "object" && "id" in request) reply.id = request.id;
  const transfer = [];
  let plain = null;
  try {
    await p.ready();
    if (request && request.warm === true) {
      // Asked only to load the cipher (WebAssembly) now, before the first chunk is waiting.
      reply.ready = true;
      return { reply, transfer };
    }
    const count = checkRequest(request ?? {});
    const { key, objectId, version, part, file, size, indexes, nonces } = request;
    const first = indexes[0];
    const start = first * p.CHUNK_SIZE;
    const end = Math.min(size, (indexes[indexes.length - 1] + 1) * p.CHUNK_SIZE);
    if (file.size !== size) throw new p.MalformedInput(READ_CHANGED);
    plain = new Uint8Array(await file.slice(start, end).arrayBuffer());
    if (plain.length !== end - start) throw new p.MalformedInput(READ_CHANGED);
    reply.chunks = indexes.map((index, at) => {
      const from = (index - first) * p.CHUNK_SIZE;
      const piece = plain.subarray(from, Math.min(plain.length, from + p.CHUNK_SIZE));
      const final = index === count - 1;
      // encryptChunk and chunkHash in one pass (the same bytes, fewer copies).
      const { data, hash } = p.encryptChunkHashed(key, objectId, version, part, index, final,
        piece, { nonce: nonces ? nonces[at] : undefined });
      // A fresh array exactly the chunk's size: its whole buffer moves.
      if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) {
        transfer.push(data.buffer);
      }
      return { index, final, data, hash };
    });
  } catch (error) {
    // Only the error's name and our own message: protocol.js never puts secrets in messages.
    reply.error = error instanceof Error ? `${error.name}: ${error.message}` : "sealing failed";
    delete reply.chunks;
    transfer.length = 0;
  } finally {
    if (plain) plain.fill(0);
  }
  return { reply, transfer };
}

// Only inside a worker: importing this file elsewhere (tests, the fallback) installs nothing.
if (typeof WorkerGlobalScope !== "undefined" && self instanceof WorkerGlobalScope) {
  self.addEventListener("message", async (event) => {
    const { reply, transfer } = await handleSealRequest(event.data);
    self.postMessage(reply, transfer);
  });
}
