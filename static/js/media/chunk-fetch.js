// Fetching stored chunks for media/open.js: GET {chunk_url}{part}/{index}, one chunk or several
// consecutive ones (?count=, docs/api-media.md "Several chunks in one GET"), network trouble and
// 5xx tried again twice. What comes back is raw ciphertext: open.js checks every chunk against
// the manifest before anything is shown.
//
//   fetchChunk(url, signal)               -> the raw bytes of one chunk
//   fetchChunkRun(p, url, count, signal)  -> {body: Blob, sizes: the X-Chunks sizes}
//   ChunkUnavailable                      a chunk could not be fetched (not a check)
//   FETCH_BATCH, READ_AHEAD(_BYTES)       how the player reads a part in order (media-stream.js)

const FETCH_ATTEMPTS = 3;
const CHUNK_BYTES = 1024 * 1024; // the protocol's plaintext chunk (protocol.CHUNK_SIZE)
// Consecutive chunks asked for in one GET when a part is read in order: the server resolves
// the session and authorises once for all of them, and the browser receives one larger answer
// instead of several. Receiving costs Chromium about 15 ms of CPU per request besides about 7
// per MiB, so 8 chunks to a GET took its CPU per chunk from 22.7 to 9.3 ms and the server's
// from 9.6 to 2.5 ms; 16 (with the server reading each stored chunk in one call) took the
// player's CPU in all from 22.7 to 21.6 ms a chunk, most of it the server's (3.5 to 2.6)
// (bench/browser_playback.py; bench/README.md, "Browser playback" and "Playback, fifth
// round"). The server takes up to 32 (MAX_GET_CHUNKS): more would double what is read ahead.
export const FETCH_BATCH = 16;
// How far the reading runs ahead of the chunk being handed on, in bytes: chunks asked for and
// not handed on yet never hold more than this (plus the one being handed on). Two GETs' worth,
// so that while one batch is checked and decrypted in a Worker (open-workers.js), the next is
// already on its way.
export const READ_AHEAD_BYTES = 2 * FETCH_BATCH * CHUNK_BYTES;
export const READ_AHEAD = READ_AHEAD_BYTES / CHUNK_BYTES; // the same, in chunks
// At most the server's MAX_GET_CHUNKS sizes.
const BATCH_ANSWER = /^[0-9]{1,8}(,[0-9]{1,8}){0,31}$/;

/** A chunk could not be fetched (network, or the server refused). Nothing was shown from it. */
export class ChunkUnavailable extends Error {
  constructor(message, { status = 0 } = {}) {
    super(message);
    this.name = "ChunkUnavailable";
    this.status = status;
  }
}

const UNREACHABLE =
  "Part of this could not be loaded just now. Check your connection and try again.";
const REFUSED = "Part of this could not be loaded. Please try again later, or ask your facilitator.";

const pause = (ms) => new Promise((resolve) => window.setTimeout(resolve, ms));

/** The raw answer to a chunk GET; network trouble and 5xx are tried again twice. */
async function fetchChunkAnswer(url, signal) {
  for (let attempt = 1; ; attempt += 1) {
    let response;
    try {
      response = await fetch(url, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: "application/octet-stream" },
        signal,
      });
    } catch (error) {
      if (error && error.name === "AbortError") throw error;
      if (attempt >= FETCH_ATTEMPTS) throw new ChunkUnavailable(UNREACHABLE);
      await pause(500 * attempt);
      continue;
    }
    // The server counts every request as activity: keep the idle timer in step (lib/idle.js).
    document.dispatchEvent(
      new CustomEvent("portal:server-contact", { detail: { idleRemaining: null } }),
    );
    if (response.ok) return response;
    const retryable = response.status >= 500 || response.status === 429;
    if (!retryable || attempt >= FETCH_ATTEMPTS) {
      throw new ChunkUnavailable(REFUSED, { status: response.status });
    }
    await pause(500 * attempt);
  }
}

/** Raw bytes of one stored chunk. */
export async function fetchChunk(url, signal) {
  const response = await fetchChunkAnswer(url, signal);
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * One GET of `count` consecutive stored chunks: {body (the answer as a Blob), sizes (of each
 * chunk in it, as the server lists them in X-Chunks)}. A Blob, because taking the answer as one
 * costs the page's thread almost nothing: the bytes are read into memory where they are checked
 * (open-worker.js, in a Worker). Measured: 1.3 ms of the page's thread's CPU per chunk against
 * 9.6 for arrayBuffer(), and 10.9 ms of the browser's CPU in all against 14.7
 * (bench/browser_playback.py; bench/README.md, "Checks in Workers"). An answer that does not
 * add up is not the chunks asked for: a failed check, like a chunk that does not match the
 * manifest.
 */
export async function fetchChunkRun(p, url, count, signal) {
  const response = await fetchChunkAnswer(`${url}?count=${count}`, signal);
  const listed = response.headers.get("X-Chunks") ?? "";
  const body = await response.blob();
  const sizes = BATCH_ANSWER.test(listed) ? listed.split(",").map(Number) : [];
  if (sizes.length !== count || sizes.reduce((sum, size) => sum + size, 0) !== body.size) {
    throw new p.MalformedInput("the server's answer is not the chunks asked for");
  }
  return { body, sizes };
}
