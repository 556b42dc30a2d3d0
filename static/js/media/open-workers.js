// Checking and decrypting fetched chunks in Workers while the page receives the next ones.
//
//   const openers = new ChunkOpeners(p);   // up to two module Workers (open-worker.js), warming
//   const plaintexts = await openers.open({ key, objectId, version, part, entry, from, body,
//                                           sizes });   // body: one GET's answer, a Blob
//   openers.close();                       // ends the Workers; also done by wipeKeys()
//
// Why: receiving a GET's body and checking its chunks (BLAKE2b, then XChaCha20-Poly1305) both
// ran on the page's thread, one after the other, so the player's reading took their sum
// (bench/README.md, "Browser playback"). In Workers the checks run beside the page's receiving,
// and with two Workers on two cores beside each other. A GET's answer goes to a Worker as a Blob
// (by reference: its bytes are read into memory there, never on the page's thread) and the
// plaintexts come back as transferred buffers (no copies); replies keep the order they are
// asked in because each request has its own promise.
//
// The Workers load the cipher (WebAssembly) when started; until one has, and where Workers are
// unavailable (an old browser, node's tests), the same handler (open-worker.js
// handleOpenRequest) runs on this thread, so the first chunks never wait for a Worker.
//
// Keys: the content key K goes to a Worker with each request and is zeroed there when the
// request is answered. close() ends the Workers at once (terminate: requests not answered yet
// are dropped with their copies of K and fail here); it runs when the message is closed (the
// page or the letter is left) and from wipeKeys() (quick exit, sign-out, the session ending),
// like every key the page holds (crypto/keys.js).

import { whenKeysWiped } from "../crypto/keys.js";
import { ChunkUnavailable } from "./chunk-fetch.js";
import { handleOpenRequest } from "./open-worker.js";
import { defaultWorkerCount } from "./seal-workers.js";

const DEVICE_TROUBLE =
  "Part of this could not be opened on this device just now. Close other apps or tabs, then " +
  "try again.";
const PROTOCOL_ERRORS = new Set(["ProtocolError", "DecryptionFailed", "MalformedInput", "WrongContext"]);

function startWorker() {
  if (typeof Worker === "undefined") return null;
  try {
    return new Worker(new URL("./open-worker.js", import.meta.url), { type: "module" });
  } catch {
    return null;
  }
}

/** The stopped reading's error: the Workers were ended (keys wiped, or the message closed). */
function stopped() {
  return new DOMException("stopped", "AbortError");
}

export class ChunkOpeners {
  /**
   * `p`: the protocol module (its error classes are raised for a failed check). `makeWorker`
   * (tests): returns an object with postMessage, addEventListener and terminate, or null.
   */
  constructor(p, { count = defaultWorkerCount(), makeWorker = startWorker } = {}) {
    this.p = p;
    this.workers = [];
    this.waiting = new Map(); // id -> {resolve, reject, entry}
    this.nextId = 1;
    this.closed = false;
    this.stopWatching = whenKeysWiped(() => this.close());
    for (let i = 0; i < count; i += 1) {
      const worker = makeWorker();
      if (!worker) break;
      const entry = { worker, busy: 0, ready: false, broken: false };
      worker.addEventListener("message", (event) => this.answered(entry, event.data));
      const fail = (event) => {
        // The page handles it: keep the browser from reporting the worker's error itself.
        if (event && typeof event.preventDefault === "function") event.preventDefault();
        this.failed(entry);
      };
      worker.addEventListener("error", fail);
      worker.addEventListener("messageerror", fail);
      this.workers.push(entry);
      this.post(entry, { warm: true }).then(
        (reply) => {
          entry.ready = reply.ready === true;
        },
        () => {},
      );
    }
  }

  /** Workers that have loaded the cipher and not failed. */
  get ready() {
    return this.workers.filter((entry) => entry.ready && !entry.broken);
  }

  /**
   * The plaintexts of one GET's chunks, each checked (open-worker.js); rejects with the
   * protocol's error for a failed check. `request.body` is the GET's answer as a Blob.
   * `request.key` is copied, never zeroed here.
   */
  open(request) {
    if (this.closed) return Promise.reject(stopped());
    const ready = this.ready;
    if (ready.length === 0) {
      // On this thread, with a copy of K (the handler zeroes the key it is given).
      return handleOpenRequest({ ...request, key: request.key.slice() }).then(({ reply }) =>
        this.result(reply),
      );
    }
    const entry = ready.reduce((best, w) => (w.busy < best.busy ? w : best));
    return this.post(entry, request).then((reply) => this.result(reply));
  }

  result(reply) {
    if (reply.error) {
      const { name, message } = reply.error;
      if (PROTOCOL_ERRORS.has(name)) throw new this.p[name](message);
      throw new ChunkUnavailable(DEVICE_TROUBLE);
    }
    if (!Array.isArray(reply.plaintexts)) throw new ChunkUnavailable(DEVICE_TROUBLE);
    return reply.plaintexts;
  }

  post(entry, request, transfer = []) {
    const id = this.nextId;
    this.nextId += 1;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, entry });
      entry.busy += 1;
      try {
        entry.worker.postMessage({ ...request, id }, transfer);
      } catch {
        this.waiting.delete(id);
        entry.busy -= 1;
        reject(new ChunkUnavailable(DEVICE_TROUBLE));
      }
    });
  }

  answered(entry, reply) {
    const asked = this.waiting.get(reply && reply.id);
    if (!asked) return;
    this.waiting.delete(reply.id);
    entry.busy -= 1;
    asked.resolve(reply);
  }

  /** A Worker broke: what it was asked fails calmly, and it is asked nothing more. */
  failed(entry) {
    entry.broken = true;
    entry.worker.terminate();
    for (const [id, asked] of this.waiting) {
      if (asked.entry === entry) {
        this.waiting.delete(id);
        asked.reject(new ChunkUnavailable(DEVICE_TROUBLE));
      }
    }
  }

  /** End the Workers now (with any copy of K they hold); what is pending fails as stopped. */
  close() {
    if (this.closed) return;
    this.closed = true;
    this.stopWatching();
    for (const { worker } of this.workers) worker.terminate();
    for (const asked of this.waiting.values()) asked.reject(stopped());
    this.waiting.clear();
  }
}
