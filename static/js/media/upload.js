// Uploading the sealed chunks of a message version (docs/api-media.md, "Uploading").
//
//   const up = new Uploader({ objectId, version, onProgress, onWaiting });
//   const { held } = await up.start(totalBytes);   // quotas checked here: a 413 sentence first
//   await up.send(chunks());                        // an (async) iterable of sealed chunks
//   ...or up.cancel()                               // stops, and DELETEs what was uploaded
//
// `chunks()` is usually an async generator sealing the next chunk only when asked, so PUTs are
// in flight while the next chunks are encrypted; held chunks (resume) are left out by the
// caller, who counts them with `alreadySent()`. Each PUT carries up to BATCH_CHUNKS chunks of
// one part, sizes and hashes in X-Chunks (upload-wire.js). A PUT that fails because the network
// is gone (or the server is briefly away) is tried again with a growing pause for as long as it
// takes (`onWaiting(true)` lets the page say so calmly); a refusal stops the upload with an
// ApiError carrying the server's sentence.
import { ApiError, NETWORK_MESSAGE } from "../lib/errors.js";
import { csrfToken, deleteJSON, getJSON, postJSON } from "../lib/http.js";
import { hashText, heldAsSent, heldMap, putRefusal, uploadUrl } from "./upload-wire.js";

export { hashText, heldMap };

// Words for sizes and times live in amounts.js; pages that send import them from here too.
export { formatBytes, formatClock, formatDuration, formatTimeLeft } from "./amounts.js";

export const CONCURRENCY = 3;
// Up to 8 MiB a request, (CONCURRENCY + 1) batches held (bench/README.md, "Media ingest, sixth
// round"): the first 4 chunks, one more after each PUT that arrives; a lost PUT goes again
// whole and halves the batches after it, so a loss on a flaky connection costs a short resend.
export const BATCH_CHUNKS = 8;
const FIRST_BATCH_CHUNKS = 4;
const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000, 30000];
const SPEED_WINDOW_MS = 8000;
const RETRY_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);

export class UploadCancelled extends Error {
  constructor() {
    super("Sending was stopped.");
    this.name = "UploadCancelled";
  }
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new UploadCancelled());
      return;
    }
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      window.removeEventListener("online", done);
      resolve();
    }
    function onAbort() {
      clearTimeout(timer);
      window.removeEventListener("online", done);
      reject(new UploadCancelled());
    }
    signal.addEventListener("abort", onAbort, { once: true });
    // Back online: try again at once rather than at the end of the pause.
    window.addEventListener("online", done, { once: true });
  });
}

export class Uploader {
  constructor({ objectId, version, onProgress = () => {}, onWaiting = () => {},
    concurrency = CONCURRENCY, batchChunks = BATCH_CHUNKS, fetchImpl = null }) {
    Object.assign(this, { objectId, version, onProgress, onWaiting, concurrency });
    this.base = uploadUrl(objectId, version);
    this.maxBatchChunks = batchChunks;
    this.batchChunks = Math.min(batchChunks, FIRST_BATCH_CHUNKS); // the next batch's size
    this.fetch = fetchImpl || ((...args) => fetch(...args));
    this.controller = new AbortController();
    this.totalBytes = 0;
    this.sentBytes = 0;
    this.samples = [];
    this.waiting = false;
    this.cancelled = false;
  }

  /**
   * Declare the bytes and learn what the server holds already. Returns {held: Map, maxChunkBytes}.
   * A quota refusal is an ApiError (413) with the server's sentence; nothing has been sent.
   */
  async start(totalBytes) {
    this.totalBytes = totalBytes;
    const answer = await this.withRetry(() =>
      postJSON(this.base, { bytes: totalBytes }, { signal: this.controller.signal }));
    return { held: heldMap(answer.held), maxChunkBytes: answer.max_chunk_bytes };
  }

  /** The server's list of held chunks (GET), or null if this upload was never started. */
  async held() {
    try {
      const answer = await getJSON(this.base, { signal: this.controller.signal });
      return heldMap(answer.held);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    }
  }

  /** Bytes that need not be sent (held already); counted as sent for the progress bar. */
  alreadySent(bytes) {
    this.sentBytes += bytes;
    this.samples = [];
    this.report();
  }

  /**
   * PUT every chunk of `source` ({part, index, data, hash}), in batches of consecutive chunks,
   * `concurrency` PUTs at a time. Resolves once all are held; rejects with ApiError (refused)
   * or UploadCancelled.
   */
  async send(source) {
    const iterator = source[Symbol.asyncIterator]
      ? source[Symbol.asyncIterator]()
      : source[Symbol.iterator]();
    const signal = this.controller.signal;
    let failure = null;
    let carried = null; // pulled for a batch it did not fit: it starts the next one
    let done = false;
    let gathering = Promise.resolve();

    // One worker gathers at a time (the others are sending), so each batch is consecutive.
    const gather = async () => {
      const batch = carried ? [carried] : [];
      carried = null;
      while (!done && batch.length < this.batchChunks) {
        if (batch.length > 0 && !batch[0].hash) break; // a chunk without a hash goes alone
        const next = await iterator.next();
        if (next.done) {
          done = true;
          break;
        }
        const chunk = next.value;
        const last = batch[batch.length - 1];
        if (last && !(chunk.hash && chunk.part === last.part && chunk.index === last.index + 1)) {
          carried = chunk;
          break;
        }
        batch.push(chunk);
      }
      return batch;
    };
    const nextBatch = () => {
      const batch = gathering.then(gather);
      gathering = batch.catch(() => {});
      return batch;
    };

    const worker = async () => {
      while (failure === null) {
        if (signal.aborted) throw new UploadCancelled();
        const batch = await nextBatch();
        if (batch.length === 0) return;
        await this.put(batch);
        for (const chunk of batch) chunk.data = null; // let the bytes go once the server has them
      }
    };
    const workers = Array.from({ length: this.concurrency }, () =>
      worker().catch((error) => {
        if (failure === null) failure = error;
      }));
    await Promise.all(workers);
    if (failure !== null) {
      if (iterator.return) await iterator.return().catch(() => {});
      throw this.cancelled ? new UploadCancelled() : failure;
    }
    this.setWaiting(false);
  }

  /** One PUT: a single chunk, or consecutive chunks of one part listed in X-Chunks. */
  async put(batch) {
    const chunks = Array.isArray(batch) ? batch : [batch];
    const [first] = chunks;
    const listed = first.hash
      ? chunks.map((chunk) => `${chunk.data.length}:${hashText(chunk.hash)}`).join(",")
      : null;
    const url = `${this.base}/${first.part}/${first.index}`;
    const headers = {
      Accept: "application/json",
      "Content-Type": "application/octet-stream",
      "X-CSRF-Token": csrfToken(),
    };
    if (listed) headers["X-Chunks"] = listed;
    const answer = await this.withRetry(async () => {
      let response;
      try {
        response = await this.fetch(url, {
          method: "PUT",
          credentials: "same-origin",
          cache: "no-store",
          headers,
          // A Blob, not the Uint8Arrays themselves: Chromium copies an ArrayBuffer body through
          // its network service ten times slower (about 20 MB/s against 220 MB/s here,
          // measured in bench/browser_upload.py's browser).
          body: new Blob(chunks.map((chunk) => chunk.data)),
          signal: this.controller.signal,
        });
      } catch (error) {
        if (error && error.name === "AbortError") throw new UploadCancelled();
        this.batchChunks = Math.max(1, this.batchChunks >> 1); // lost: the next ones smaller
        throw new ApiError(NETWORK_MESSAGE);
      }
      let data = null;
      try {
        data = await response.json();
      } catch {
        data = null;
      }
      if (!response.ok) {
        throw new ApiError(
          data && typeof data.error === "string" ? data.error : putRefusal(response.status),
          { status: response.status },
        );
      }
      return data;
    });
    if (!heldAsSent(chunks, answer, listed !== null)) {
      throw new ApiError("The portal stored a piece of your message wrongly. Please try again.");
    }
    for (const chunk of chunks) this.sentBytes += chunk.data.length;
    this.batchChunks = Math.min(this.maxBatchChunks, this.batchChunks + 1);
    this.samples.push([performance.now(), this.sentBytes]);
    this.report();
    document.dispatchEvent(new CustomEvent("portal:server-contact", { detail: {} }));
    return answer;
  }

  /** Try `call` until it works, is refused, or the upload is cancelled. */
  async withRetry(call) {
    let attempt = 0;
    for (;;) {
      if (this.controller.signal.aborted) throw new UploadCancelled();
      try {
        const result = await call();
        this.setWaiting(false);
        return result;
      } catch (error) {
        if (error instanceof UploadCancelled || (error && error.name === "AbortError")) {
          throw new UploadCancelled();
        }
        const transient = error instanceof ApiError &&
          (error.status === 0 || RETRY_STATUSES.has(error.status));
        if (!transient) throw error;
        this.setWaiting(true);
        const pause = error.retryAfter
          ? error.retryAfter * 1000
          : BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
        attempt += 1;
        await sleep(pause, this.controller.signal);
      }
    }
  }

  setWaiting(waiting) {
    if (waiting === this.waiting) return;
    this.waiting = waiting;
    if (waiting) this.samples = [];
    this.onWaiting(waiting);
  }

  report() {
    const now = performance.now();
    this.samples = this.samples.filter(([t]) => now - t <= SPEED_WINDOW_MS);
    let bytesPerSecond = null;
    if (this.samples.length >= 2) {
      const [t0, b0] = this.samples[0];
      const [t1, b1] = this.samples[this.samples.length - 1];
      if (t1 > t0) bytesPerSecond = ((b1 - b0) * 1000) / (t1 - t0);
    }
    const left = Math.max(0, this.totalBytes - this.sentBytes);
    const percent = this.totalBytes > 0
      ? Math.min(100, Math.floor((this.sentBytes * 100) / this.totalBytes))
      : 100;
    this.onProgress({
      sentBytes: this.sentBytes,
      totalBytes: this.totalBytes,
      percent,
      bytesPerSecond,
      secondsLeft: bytesPerSecond ? Math.ceil(left / bytesPerSecond) : null,
    });
  }

  /** Stop now and remove what was uploaded (best effort: the server's cleanup job does it too). */
  async cancel() {
    this.cancelled = true;
    this.controller.abort();
    try {
      await deleteJSON(this.base);
    } catch {
      // Offline or already gone: uploads never submitted expire on the server by themselves.
    }
  }
}
