// What this browser keeps of a media message that is not sent yet, so that nothing is lost when
// the connection drops, the tab crashes or the page is reloaded (IndexedDB "portal-media").
//
//   pending      one record per message being made: {id, objectId, version, caseId, accountId,
//                updatedAt, sealed}. `sealed` is crypto_box_seal(JSON state, the author's own
//                public key): the content key K, the parts (kind, mime, file name, size,
//                lastModified, duration), the text and the recipient. Only the author's secret
//                key opens it; neither plaintext nor K is ever stored in clear.
//   chunks       the sealed chunks of recordings, as the server will store them (AEAD under K),
//                kept until the message is submitted: {id, part, index, final, data, size, hash}.
//   checkpoints  the end of a recording that does not fill a chunk yet, sealed with
//                crypto_secretbox under K (random nonce), overwritten every few seconds. Local
//                only, never uploaded: after a crash it becomes the recording's final chunk.
//
// A record is deleted after a successful submit or a cancel (deletePending).

import _sodium from "../../vendor/libsodium-wrappers.mjs";

const DB_NAME = "portal-media";
const DB_VERSION = 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

let dbPromise = null;

async function na() {
  await _sodium.ready;
  return _sodium;
}

export function storageAvailable() {
  return typeof indexedDB !== "undefined";
}

function openDb() {
  if (dbPromise) return dbPromise;
  dbPromise = new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains("pending")) {
        db.createObjectStore("pending", { keyPath: "id" });
      }
      if (!db.objectStoreNames.contains("chunks")) {
        db.createObjectStore("chunks", { keyPath: ["id", "part", "index"] });
      }
      if (!db.objectStoreNames.contains("checkpoints")) {
        db.createObjectStore("checkpoints", { keyPath: ["id", "part"] });
      }
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  dbPromise.catch(() => {
    dbPromise = null;
  });
  return dbPromise;
}

function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function finished(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("IndexedDB transaction aborted"));
  });
}

async function run(storeNames, mode, body) {
  const db = await openDb();
  const tx = db.transaction(storeNames, mode);
  body(tx);
  await finished(tx);
}

/** The record id of one message version. */
export function pendingId(objectId, version) {
  return `${objectId}:${version}`;
}

const partRange = (id, part) => IDBKeyRange.bound([id, part, 0], [id, part, Infinity]);
const allRange = (id) => IDBKeyRange.bound([id, -Infinity, -Infinity], [id, Infinity, Infinity]);

// --- sealing the state -------------------------------------------------------------------------

/** crypto_box_seal of the JSON state to the author's own public key. */
export async function sealState(publicKey, state) {
  const sodium = await na();
  return sodium.crypto_box_seal(encoder.encode(JSON.stringify(state)), publicKey);
}

/** The state, or null when it does not open with these keys (another account, damaged). */
export async function openState(secretKey, publicKey, sealed) {
  const sodium = await na();
  try {
    return JSON.parse(decoder.decode(sodium.crypto_box_seal_open(sealed, publicKey, secretKey)));
  } catch {
    return null;
  }
}

/** A recording's checkpoint: secretbox under K of {header JSON, tail bytes}. */
export async function sealCheckpoint(key, header, tail) {
  const sodium = await na();
  const head = encoder.encode(JSON.stringify(header));
  const message = new Uint8Array(4 + head.length + tail.length);
  new DataView(message.buffer).setUint32(0, head.length);
  message.set(head, 4);
  message.set(tail, 4 + head.length);
  const nonce = sodium.randombytes_buf(sodium.crypto_secretbox_NONCEBYTES);
  const box = sodium.crypto_secretbox_easy(message, nonce, key);
  message.fill(0);
  const out = new Uint8Array(nonce.length + box.length);
  out.set(nonce);
  out.set(box, nonce.length);
  return out;
}

/** {header, tail}, or null when it does not open. */
export async function openCheckpoint(key, blob) {
  const sodium = await na();
  const n = sodium.crypto_secretbox_NONCEBYTES;
  try {
    const message = sodium.crypto_secretbox_open_easy(blob.subarray(n), blob.subarray(0, n), key);
    const length = new DataView(message.buffer, message.byteOffset).getUint32(0);
    const header = JSON.parse(decoder.decode(message.subarray(4, 4 + length)));
    return { header, tail: message.slice(4 + length) };
  } catch {
    return null;
  }
}

// --- pending records ---------------------------------------------------------------------------

/**
 * Save (create or replace) the record of a message being made. `state` is sealed here to
 * `publicKey`; only {objectId, version, caseId, accountId} stay readable, so that a page can
 * tell which records are this account's without opening them.
 */
export async function savePending(publicKey, { objectId, version, caseId, accountId }, state) {
  const sealed = await sealState(publicKey, state);
  const record = {
    id: pendingId(objectId, version),
    objectId,
    version,
    caseId,
    accountId,
    updatedAt: new Date().toISOString(),
    sealed,
  };
  await run(["pending"], "readwrite", (tx) => tx.objectStore("pending").put(record));
  return record;
}

/** This account's records, opened: [{record, state}], newest first. Others are left alone. */
export async function listPending(accountId, secretKey, publicKey) {
  let rows = [];
  await run(["pending"], "readonly", (tx) => {
    done(tx.objectStore("pending").getAll()).then((all) => {
      rows = all;
    });
  });
  const out = [];
  for (const record of rows) {
    if (record.accountId !== accountId) continue;
    const state = await openState(secretKey, publicKey, record.sealed);
    if (state) out.push({ record, state });
  }
  out.sort((a, b) => String(b.record.updatedAt).localeCompare(String(a.record.updatedAt)));
  return out;
}

/** Delete a record with its chunks and checkpoints. */
export async function deletePending(id) {
  await run(["pending", "chunks", "checkpoints"], "readwrite", (tx) => {
    tx.objectStore("pending").delete(id);
    tx.objectStore("chunks").delete(allRange(id));
    tx.objectStore("checkpoints").delete(allRange(id));
  });
}

// --- recording chunks --------------------------------------------------------------------------

export async function putChunk(id, chunk) {
  const row = { id, part: chunk.part, index: chunk.index, final: chunk.final, data: chunk.data,
    size: chunk.size, hash: chunk.hash };
  await run(["chunks"], "readwrite", (tx) => tx.objectStore("chunks").put(row));
}

export async function getChunk(id, part, index) {
  let row = null;
  await run(["chunks"], "readonly", (tx) => {
    done(tx.objectStore("chunks").get([id, part, index])).then((value) => {
      row = value || null;
    });
  });
  return row;
}

/** {index, final, size, hash} of every chunk of a part, in order, without their bytes. */
export async function listChunks(id, part) {
  const out = [];
  await run(["chunks"], "readonly", (tx) => {
    const request = tx.objectStore("chunks").openCursor(partRange(id, part));
    request.onsuccess = () => {
      const cursor = request.result;
      if (!cursor) return;
      const { index, final, size, hash } = cursor.value;
      out.push({ part, index, final, size, hash });
      cursor.continue();
    };
  });
  return out;
}

/** Remove a part's chunks from `fromIndex` on (a new recording, or a crash's leftovers). */
export async function deleteChunks(id, part, fromIndex = 0) {
  await run(["chunks", "checkpoints"], "readwrite", (tx) => {
    tx.objectStore("chunks").delete(IDBKeyRange.bound([id, part, fromIndex], [id, part, Infinity]));
    if (fromIndex === 0) tx.objectStore("checkpoints").delete([id, part]);
  });
}

export async function putCheckpoint(id, part, blob) {
  await run(["checkpoints"], "readwrite", (tx) =>
    tx.objectStore("checkpoints").put({ id, part, blob }));
}

export async function getCheckpoint(id, part) {
  let row = null;
  await run(["checkpoints"], "readonly", (tx) => {
    done(tx.objectStore("checkpoints").get([id, part])).then((value) => {
      row = value || null;
    });
  });
  return row ? row.blob : null;
}

export async function deleteCheckpoint(id, part) {
  await run(["checkpoints"], "readwrite", (tx) => tx.objectStore("checkpoints").delete([id, part]));
}
