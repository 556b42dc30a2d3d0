// Sealing a chosen file in Workers, in order, a bounded stretch ahead of the upload.
//
//   const workers = new SealWorkers();              // up to two module Workers (seal-worker.js)
//   for await (const item of sealFileChunks(workers, { key, objectId, version, part, file,
//                                                      size, isHeld })) {
//     item.held ? ...its place is taken by a chunk the server holds... : upload(item)
//   }
//   workers.close();                                // ends the Workers (and K inside them)
//
// Why: the cipher and the chunk hash cost about as much as the upload itself; on the page's
// thread they also compete with the page (and its quick-exit button). In Workers they run
// beside it, and with two Workers on two cores beside each other. Each request seals a run of
// RUN_CHUNKS consecutive chunks read in one Blob slice; the sealed chunks come back as
// transferred buffers, in the order they are asked for, so the upload sees exactly the chunks,
// in exactly the order, that sealing on the page would give (same protocol functions, same
// bytes; only the random nonces differ, as they do between any two runs).
//
// Memory stays bounded: at most `ahead` runs are being sealed or waiting to be sent (with two
// Workers, 4 x 8 MiB), never the whole file.
//
// Where Workers are unavailable (an old browser, node's tests) the same handler
// (seal-worker.js handleSealRequest) runs on this thread instead. A Worker that fails (it
// could not start, ran out of memory, could not read the file) rejects with SealingFailed: a
// calm sentence, and nothing is sent from the failed run.

import { ShowableError } from "../lib/errors.js";
import { chunkCountFor } from "./seal.js";
import { handleSealRequest } from "./seal-worker.js";

export const RUN_CHUNKS = 8; // 8 MiB read in one slice, sealed in one request
export const SEALING_FAILED_MESSAGE =
  "This device could not prepare your message for sending. Close other apps or tabs, then try again.";

export class SealingFailed extends ShowableError {
  constructor() {
    super(SEALING_FAILED_MESSAGE);
    this.name = "SealingFailed";
  }
}

/** Two Workers where there are two cores or more: the cipher runs on both. */
export function defaultWorkerCount() {
  const cores = typeof navigator !== "undefined" ? navigator.hardwareConcurrency : 0;
  return Math.max(1, Math.min(2, Number.isSafeInteger(cores) ? cores : 1));
}

function startWorker() {
  if (typeof Worker === "undefined") return null;
  try {
    return new Worker(new URL("./seal-worker.js", import.meta.url), { type: "module" });
  } catch {
    return null;
  }
}

/**
 * A few Workers sealing requests; `seal(request)` resolves to the sealed chunks or rejects with
 * SealingFailed. `makeWorker` (tests): returns an object with postMessage, addEventListener
 * and terminate, or null for "no Workers here".
 */
export class SealWorkers {
  constructor({ count = defaultWorkerCount(), makeWorker = startWorker } = {}) {
    this.workers = [];
    this.waiting = new Map(); // id -> {resolve, reject, worker}
    this.nextId = 1;
    this.closed = false;
    for (let i = 0; i < count; i += 1) {
      const worker = makeWorker();
      if (!worker) break;
      const entry = { worker, busy: 0 };
      worker.addEventListener("message", (event) => this.answered(entry, event.data));
      const fail = (event) => {
        // The page handles it: keep the browser from reporting the worker's error itself.
        if (event && typeof event.preventDefault === "function") event.preventDefault();
        this.failed(entry);
      };
      worker.addEventListener("error", fail);
      worker.addEventListener("messageerror", fail);
      this.workers.push(entry);
    }
  }

  /** Whether sealing runs in Workers (false: on this thread). */
  get inWorkers() {
    return this.workers.length > 0;
  }

  get count() {
    return Math.max(1, this.workers.length);
  }

  /** Resolves once every Worker has loaded the cipher (or at once on this thread). */
  async warm() {
    if (!this.inWorkers) return;
    await Promise.all(this.workers.map((entry) => this.ask(entry, { warm: true })));
  }

  seal(request) {
    if (this.closed) return Promise.reject(new SealingFailed());
    if (!this.inWorkers) {
      return handleSealRequest(request).then(({ reply }) => {
        if (reply.error || !Array.isArray(reply.chunks)) throw new SealingFailed();
        return reply.chunks;
      });
    }
    return this.ask(this.workers.reduce((best, w) => (w.busy < best.busy ? w : best)), request);
  }

  ask(entry, request) {
    if (this.closed) return Promise.reject(new SealingFailed());
    const id = this.nextId;
    this.nextId += 1;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, entry });
      entry.busy += 1;
      try {
        entry.worker.postMessage({ ...request, id });
      } catch {
        this.waiting.delete(id);
        entry.busy -= 1;
        reject(new SealingFailed());
      }
    });
  }

  answered(entry, reply) {
    const id = reply && reply.id;
    const asked = this.waiting.get(id);
    if (!asked) return;
    this.waiting.delete(id);
    entry.busy -= 1;
    if (reply.ready === true) asked.resolve([]);
    else if (reply.error || !Array.isArray(reply.chunks)) asked.reject(new SealingFailed());
    else asked.resolve(reply.chunks);
  }

  /** A Worker broke: everything it was asked fails, and it is asked nothing more. */
  failed(entry) {
    for (const [id, asked] of this.waiting) {
      if (asked.entry === entry) {
        this.waiting.delete(id);
        asked.reject(new SealingFailed());
      }
    }
    entry.worker.terminate();
    entry.busy = Number.POSITIVE_INFINITY;
    if (this.workers.every((w) => w.busy === Number.POSITIVE_INFINITY)) this.closed = true;
  }

  /** End the Workers (the key inside them goes with them); pending requests fail. */
  close() {
    if (this.closed && this.waiting.size === 0 && this.workers.length === 0) return;
    this.closed = true;
    for (const { worker } of this.workers) worker.terminate();
    this.workers = [];
    for (const asked of this.waiting.values()) asked.reject(new SealingFailed());
    this.waiting.clear();
  }
}

/** Runs of consecutive chunk numbers to seal, broken at every held chunk. */
export function sealingRuns(count, isHeld, runChunks = RUN_CHUNKS) {
  const runs = [];
  let run = [];
  for (let index = 0; index < count; index += 1) {
    if (isHeld(index)) {
      if (run.length) runs.push(run);
      run = [];
      continue;
    }
    run.push(index);
    if (run.length === runChunks) {
      runs.push(run);
      run = [];
    }
  }
  if (run.length) runs.push(run);
  return runs;
}

/**
 * Every chunk of one file part, in order: `{held: true, index}` where the server holds it
 * already (`isHeld(index)`), else the sealed chunk `{part, index, final, data, size, hash}`.
 * Keeps `ahead` runs being sealed while the caller uploads; stops them if the caller stops.
 * `nonces(index)` (tests only) gives each chunk's nonce.
 */
export async function* sealFileChunks(workers, { key, objectId, version, part, file, size,
  isHeld = () => false, ahead = 2 * workers.count, runChunks = RUN_CHUNKS, nonces = null }) {
  const count = chunkCountFor(size);
  const runs = sealingRuns(count, isHeld, runChunks);
  const started = [];
  const launch = () => {
    const run = runs[started.length];
    const request = { key, objectId, version, part, file, size, indexes: run };
    if (nonces) request.nonces = run.map(nonces);
    const promise = workers.seal(request);
    promise.catch(() => {}); // surfaced when its turn comes
    started.push(promise);
  };
  let nextRun = 0;
  let pending = [];
  for (let index = 0; index < count; index += 1) {
    if (isHeld(index)) {
      yield { held: true, index };
      continue;
    }
    if (pending.length === 0) {
      while (started.length < runs.length && started.length < nextRun + ahead) launch();
      const promise = started[nextRun];
      started[nextRun] = null; // the run's bytes go once they are sent
      nextRun += 1;
      pending = await promise;
      if (pending.length === 0 || pending[0].index !== index) throw new SealingFailed();
      while (started.length < runs.length && started.length < nextRun + ahead) launch();
    }
    const chunk = pending.shift();
    if (chunk.index !== index) throw new SealingFailed();
    yield { part, index: chunk.index, final: chunk.final, data: chunk.data,
      size: chunk.data.length, hash: chunk.hash };
  }
}
