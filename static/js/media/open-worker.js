// Checking and decrypting fetched chunks off the page's thread (media/open-workers.js starts it).
//
//   const worker = new Worker(new URL("./open-worker.js", import.meta.url), { type: "module" });
//   worker.postMessage({ id, key, objectId, version, part, entry, from, body, sizes });
//   worker.onmessage = ({ data }) => data.error ? ... : use(data.plaintexts);
//
// One request opens the consecutive chunks `from`, `from + 1`, ... of one part that one GET
// brought: `body` is that answer as a Blob (passed by reference, read into memory here, so the
// page's thread never holds its bytes) and `sizes` the stored size of each chunk in it
// (X-Chunks). `entry` is the part's entry of the manifest ({chunks, size, hashes}) that the
// page opened and checked against the grant; each chunk goes
// through protocol.openChunk exactly as on the page (its hash against the manifest before
// anything is decrypted, its place, last or not, its exact length). The reply is
//   { id, plaintexts: [Uint8Array] }   every plaintext's buffer in the transfer list
// or { id, error: {name, message} } with the protocol error's class name (the page raises the
// same class, so a failed check is told calmly as it is when the page checks), and nothing of
// the request's chunks is handed on. `{ id, warm: true }` only loads the cipher.
//
// The content key K arrives with each request and is zeroed here as soon as that request is
// answered, so between requests this worker holds no key in a variable (libsodium.js frees the
// copy it makes for each call without zeroing it, here as on the page); when the page wipes
// its keys it ends this worker (terminate), and requests not started yet are dropped with it
// (open-workers.js).

import * as p from "../crypto/protocol.js";

const ERROR_NAMES = new Set(["ProtocolError", "DecryptionFailed", "MalformedInput", "WrongContext"]);

function checkRequest(request) {
  const { key, entry, from, body, sizes } = request;
  if (!(key instanceof Uint8Array)) throw new p.MalformedInput("key must be a Uint8Array");
  if (typeof Blob === "undefined" || !(body instanceof Blob)) {
    throw new p.MalformedInput("body must be a Blob");
  }
  if (!entry || !Array.isArray(entry.hashes)) throw new p.MalformedInput("no manifest entry");
  if (!Array.isArray(sizes) || sizes.length === 0) throw new p.MalformedInput("no chunk sizes");
  if (!Number.isSafeInteger(from) || from < 0) throw new p.MalformedInput("bad first index");
  const total = sizes.reduce((sum, size) => sum + (Number.isSafeInteger(size) ? size : NaN), 0);
  if (total !== body.size) throw new p.MalformedInput("the sizes do not add up");
}

/**
 * One request in, one reply out (and the buffers to transfer with it). Exported so that tests,
 * and pages where Workers are unavailable, run exactly this code without a Worker.
 */
export async function handleOpenRequest(request) {
  const reply = {};
  if (request !== null && typeof request === "object" && "id" in request) reply.id = request.id;
  const transfer = [];
  try {
    await p.ready();
    if (request && request.warm === true) {
      reply.ready = true;
      return { reply, transfer };
    }
    checkRequest(request ?? {});
    const { key, objectId, version, part, entry, from, body, sizes } = request;
    // openChunk reads only parts[part] of the manifest: the page's entry for this part.
    const manifest = { parts: [] };
    manifest.parts[part] = entry;
    const data = new Uint8Array(await body.arrayBuffer());
    if (data.length !== body.size) throw new p.MalformedInput("the answer could not be read");
    let at = 0;
    reply.plaintexts = sizes.map((size, offset) => {
      const chunk = data.subarray(at, at + size);
      at += size;
      return p.openChunk(key, objectId, version, manifest, part, from + offset, chunk);
    });
    for (const plaintext of reply.plaintexts) {
      // A fresh array exactly the chunk's size: its whole buffer moves.
      if (plaintext.byteOffset === 0 && plaintext.byteLength === plaintext.buffer.byteLength) {
        transfer.push(plaintext.buffer);
      }
    }
  } catch (error) {
    // Only the class name and protocol.js's own message: it never puts secrets in messages.
    const name = error instanceof Error && ERROR_NAMES.has(error.name) ? error.name : "Error";
    reply.error = { name, message: error instanceof Error ? error.message : "opening failed" };
    delete reply.plaintexts;
    transfer.length = 0;
  } finally {
    if (request && request.key instanceof Uint8Array) request.key.fill(0);
  }
  return { reply, transfer };
}

// Only inside a worker: importing this file elsewhere (tests, the fallback) installs nothing.
if (typeof WorkerGlobalScope !== "undefined" && self instanceof WorkerGlobalScope) {
  self.addEventListener("message", async (event) => {
    const { reply, transfer } = await handleOpenRequest(event.data);
    self.postMessage(reply, transfer);
  });
}
