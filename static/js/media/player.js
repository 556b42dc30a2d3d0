// Playing a recording or an audio/video file from a media message, decrypted in this browser.
//
// Streaming (MediaSource): chunks are fetched and checked one by one (open.js readChunk, which
// runs protocol.openChunk) and appended to a SourceBuffer one at a time, waiting for updateend.
// Only about AHEAD_SECONDS beyond the playing position are fetched, so playback can start long
// before everything has arrived; before the first Play only the first chunk is fetched (enough
// for the length and the first picture). Seeking inside what is buffered just works; seeking
// past it keeps fetching in order until the position is buffered. If the browser threw buffered
// data away (large files) and the person seeks back there, the stream is appended again from
// the start. endOfStream() once the last chunk is in.
//
// Fallback (a type MediaSource cannot take, e.g. an uploaded MP4 that is not fragmented, WAV or
// Ogg): every chunk is checked and decrypted into a Blob first ("Preparing the recording…" with
// progress), then played from an object URL.
//
// Never autoplays; native controls. If a chunk fails its check: everything stops, the player is
// removed and a calm sentence takes its place; nothing more of it plays. Object URLs are revoked
// by destroy() (the pages call it when they are left).
//
//   createMediaPlayer(part, {label, onCheckFailed, onProblem}) -> {element, destroy()}

import { COULD_NOT_CHECK } from "../lib/errors.js";
import { ChunkUnavailable, isPlayable } from "./open.js";

const AHEAD_SECONDS = 30;
const BEHIND_SECONDS = 10;

let counter = 0;
const nextId = (prefix) => `${prefix}-${(counter += 1)}`;

const once = (target, ...names) =>
  new Promise((resolve) => {
    const done = (event) => {
      for (const name of names) target.removeEventListener(name, done);
      resolve(event);
    };
    for (const name of names) target.addEventListener(name, done);
  });

/** Stopped on purpose (destroy, or the fallback taking over): not a problem to report. */
class Stopped extends Error {
  constructor() {
    super("stopped");
    this.name = "Stopped";
  }
}

/** The element played the data badly or not at all: nothing to do with the checks. */
class CannotPlay extends Error {
  constructor() {
    super("cannot play");
    this.name = "CannotPlay";
  }
}

/** "video/webm;codecs=vp8,opus" -> "video/webm" */
function baseType(mime) {
  return mime.split(";")[0].trim().toLowerCase();
}

/** A protocol error from the checks (as opposed to fetching or playing). */
function isCheckFailure(error) {
  return Boolean(error) && /^(ProtocolError|DecryptionFailed|MalformedInput|WrongContext)$/.test(error.name);
}

/**
 * True when the first bytes of an MP4 show it is fragmented (a `moof`, or `mvex` in `moov`), so
 * MediaSource can take it; a plain MP4 keeps its index in one `moov` that MSE refuses.
 */
export function isFragmentedMp4(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const boxType = (at) => String.fromCharCode(...bytes.subarray(at + 4, at + 8));
  const boxes = (from, to, visit) => {
    let at = from;
    while (at + 8 <= to) {
      let size = view.getUint32(at);
      let header = 8;
      if (size === 1 && at + 16 <= to) {
        size = Number(view.getBigUint64(at + 8));
        header = 16;
      } else if (size === 0) {
        size = to - at;
      }
      if (size < header) return false;
      const result = visit(boxType(at), at + header, Math.min(at + size, to));
      if (result !== undefined) return result;
      at += size;
    }
    return undefined;
  };
  const found = boxes(0, bytes.length, (type, start, end) => {
    if (type === "moof") return true;
    if (type === "mdat") return false; // media before any index or fragment: a plain MP4
    if (type === "moov") {
      return boxes(start, end, (inner) => (inner === "mvex" ? true : undefined)) === true;
    }
    return undefined;
  });
  return found === true;
}

// WebM codec ids (Matroska CodecID) and the codecs parameter MediaSource wants for them.
const WEBM_CODECS = [
  ["V_VP8", "vp8"],
  ["V_VP9", "vp9"],
  ["V_AV1", "av01.0.08M.08"],
  ["A_OPUS", "opus"],
  ["A_VORBIS", "vorbis"],
];

/**
 * A WebM file chosen from disk arrives typed "video/webm" with no codecs, which MediaSource
 * will not take; its header (in the first chunk) names them, so add them. Other types as given.
 */
function withCodecs(mime, firstChunk) {
  const base = baseType(mime);
  if ((base !== "video/webm" && base !== "audio/webm") || /codecs=/i.test(mime)) return mime;
  const head = String.fromCharCode(...firstChunk.subarray(0, Math.min(firstChunk.length, 4096)));
  const found = WEBM_CODECS.filter(([id]) => head.includes(id)).map(([, codec]) => codec);
  return found.length > 0 ? `${base};codecs="${found.join(",")}"` : mime;
}

/** The type to stream this part with, or null to play it from a whole Blob instead. */
function streamType(mime, firstChunk) {
  const type = withCodecs(mime, firstChunk);
  if (typeof window.MediaSource !== "function" || !window.MediaSource.isTypeSupported(type)) {
    return null;
  }
  const base = baseType(type);
  if (base === "video/mp4" || base === "audio/mp4" || base === "audio/x-m4a") {
    return isFragmentedMp4(firstChunk) ? type : null;
  }
  return type;
}

/**
 * A player for one audio or video part (open.js). `label` names it ("Video recording",
 * "Audio file: name.mp3"): shown as text above the player and used as its accessible name.
 * `onCheckFailed()` is called once if any chunk fails its check (the page may then, e.g.,
 * switch approval off); `onProblem(error)` when it could not be fetched or played.
 */
export function createMediaPlayer(part, { label, onCheckFailed = () => {}, onProblem = () => {} }) {
  if (!isPlayable(part.mime)) throw new TypeError("not an audio or video part");
  const isVideo = /^video\//i.test(part.mime);
  const captionId = nextId("media-caption");

  const element = document.createElement("div");
  element.className = "media-player";
  const caption = document.createElement("p");
  caption.className = "media-caption";
  caption.id = captionId;
  caption.textContent = label; // may hold a file name from the manifest: text only
  const media = document.createElement(isVideo ? "video" : "audio");
  media.controls = true;
  media.autoplay = false;
  media.preload = "metadata";
  media.setAttribute("aria-labelledby", captionId);
  if (isVideo) media.playsInline = true;
  const status = document.createElement("p");
  status.className = "status-message media-status";
  status.setAttribute("role", "status");
  element.append(caption, media, status);

  const controller = new AbortController();
  const urls = [];
  let stopped = false;
  let mediaSource = null;
  // Play (or a seek) was asked for: only then is anything beyond the first chunk fetched. Set
  // from the start, so a Play pressed while the first chunk is still on its way counts.
  let started = false;
  const markStarted = () => {
    started = true;
  };
  media.addEventListener("play", markStarted);
  media.addEventListener("seeking", markStarted);

  function url(of) {
    const made = URL.createObjectURL(of);
    urls.push(made);
    return made;
  }

  function stopMedia() {
    media.pause();
    media.removeAttribute("src");
    media.load();
  }

  function destroy() {
    if (stopped) return;
    stopped = true;
    controller.abort();
    stopMedia();
    for (const made of urls.splice(0)) URL.revokeObjectURL(made);
  }

  function fail(error) {
    if (stopped) return;
    const checks = isCheckFailure(error);
    destroy();
    // Nothing of it stays in the page: the player goes, a calm sentence takes its place.
    media.remove();
    const alert = document.createElement("p");
    alert.className = "notice error media-problem";
    alert.setAttribute("role", "alert");
    if (checks) {
      alert.textContent = COULD_NOT_CHECK;
      status.remove();
      element.append(alert);
      onCheckFailed();
      return;
    }
    alert.textContent =
      error instanceof ChunkUnavailable
        ? error.message
        : "This cannot be played in this browser. Nothing is wrong with it: please try another browser, or ask your facilitator.";
    status.remove();
    element.append(alert);
    onProblem(error);
  }

  // --- fallback: the whole part into a Blob first ----------------------------------------------

  async function playFromBlob(firstChunk) {
    const progress = document.createElement("progress");
    progress.max = 100;
    progress.value = 0;
    progress.className = "media-progress";
    const progressLabel = nextId("media-progress");
    status.id = progressLabel;
    progress.setAttribute("aria-labelledby", progressLabel);
    status.textContent = "Preparing the recording…";
    media.hidden = true;
    element.insertBefore(progress, status.nextSibling);
    const pieces = [firstChunk];
    for (let index = 1; index < part.chunks; index += 1) {
      if (stopped) throw new Stopped();
      pieces.push(await part.readChunk(index, { signal: controller.signal }));
      const percent = Math.round(((index + 1) / part.chunks) * 100);
      progress.value = percent;
      status.textContent = `Preparing the recording… ${percent}%`;
    }
    if (stopped) throw new Stopped();
    progress.remove();
    status.textContent = "";
    media.src = url(new Blob(pieces, { type: baseType(part.mime) }));
    media.hidden = false;
    media.addEventListener("error", () => fail(new CannotPlay()), { once: true });
  }

  // --- streaming -------------------------------------------------------------------------------

  /** Seconds buffered ahead of the playing position (0 when it is not buffered). */
  function aheadSeconds() {
    const ranges = media.buffered;
    const now = media.currentTime;
    for (let i = 0; i < ranges.length; i += 1) {
      if (ranges.start(i) <= now + 0.25 && now <= ranges.end(i)) return ranges.end(i) - now;
    }
    return 0;
  }

  function isBuffered(time) {
    const ranges = media.buffered;
    for (let i = 0; i < ranges.length; i += 1) {
      if (ranges.start(i) <= time + 0.25 && time <= ranges.end(i)) return true;
    }
    return false;
  }

  async function stream(firstChunk, type) {
    mediaSource = new MediaSource();
    media.src = url(mediaSource);
    await once(mediaSource, "sourceopen");
    if (stopped) throw new Stopped();
    const buffer = mediaSource.addSourceBuffer(type);
    if (part.durationMs) mediaSource.duration = part.durationMs / 1000;

    let restart = false; // buffered data was evicted and is wanted again
    let furthest = 0; // the furthest time ever buffered
    let wake = null;
    const nudge = () => {
      if (wake) wake();
    };
    media.addEventListener("seeking", () => {
      if (!isBuffered(media.currentTime) && media.currentTime < furthest - 0.5) restart = true;
      nudge();
    });
    media.addEventListener("play", nudge);
    media.addEventListener("timeupdate", nudge);
    media.addEventListener("waiting", nudge);
    controller.signal.addEventListener("abort", nudge);
    const sleep = () =>
      new Promise((resolve) => {
        wake = () => {
          wake = null;
          resolve();
        };
      });

    async function append(plaintext) {
      for (;;) {
        if (stopped) throw new Stopped();
        try {
          buffer.appendBuffer(plaintext);
        } catch (error) {
          if (error && error.name === "QuotaExceededError") {
            // Make room behind the playing position, or wait for playback to move on.
            const ranges = media.buffered;
            const behind = media.currentTime - BEHIND_SECONDS;
            if (ranges.length > 0 && ranges.start(0) < behind) {
              buffer.remove(ranges.start(0), behind);
              await once(buffer, "updateend");
            } else {
              await sleep();
            }
            continue;
          }
          throw new CannotPlay();
        }
        const event = await once(buffer, "updateend", "error");
        if (event.type === "error" || media.error) throw new CannotPlay();
        const ranges = media.buffered;
        if (ranges.length > 0) furthest = Math.max(furthest, ranges.end(ranges.length - 1));
        return;
      }
    }

    let pending = new Map(); // index -> promise of checked plaintext (one fetched ahead)
    const read = (index) => {
      if (!pending.has(index)) {
        const promise = part.readChunk(index, { signal: controller.signal });
        promise.catch(() => {}); // surfaced when awaited
        pending.set(index, promise);
      }
      return pending.get(index);
    };
    pending.set(0, Promise.resolve(firstChunk));

    let next = 0;
    for (;;) {
      if (stopped) throw new Stopped();
      if (restart) {
        restart = false;
        if (buffer.updating) await once(buffer, "updateend");
        // The parser starts afresh at chunk 0 (the header). After endOfStream the next append
        // reopens the source by itself, and abort() would throw there.
        if (mediaSource.readyState === "open") buffer.abort();
        pending = new Map();
        next = 0;
      }
      if (next >= part.chunks) {
        if (mediaSource.readyState === "open" && !buffer.updating) mediaSource.endOfStream();
        await sleep(); // a seek back into evicted data may need everything again
        continue;
      }
      const wanted = next === 0 || (started && aheadSeconds() < AHEAD_SECONDS);
      if (!wanted) {
        await sleep();
        continue;
      }
      const plaintext = await read(next);
      pending.delete(next);
      if (next + 1 < part.chunks && started) read(next + 1); // fetch one ahead while appending
      await append(plaintext);
      next += 1;
    }
  }

  async function start() {
    status.textContent = "Loading…";
    let first;
    try {
      first = await part.readChunk(0, { signal: controller.signal });
    } catch (error) {
      if (!stopped) fail(error);
      return;
    }
    if (stopped) return;
    status.textContent = "";
    const type = streamType(part.mime, first);
    if (type !== null) {
      try {
        await stream(first, type);
        return;
      } catch (error) {
        if (stopped || error instanceof Stopped) return;
        if (!(error instanceof CannotPlay) || media.currentTime > 0 || !media.paused) {
          fail(error);
          return;
        }
        // MediaSource took the type but not these bytes: play it the slower way instead.
        for (const made of urls.splice(0)) URL.revokeObjectURL(made);
        stopMedia();
      }
    }
    try {
      await playFromBlob(first);
    } catch (error) {
      if (!stopped && !(error instanceof Stopped)) fail(error);
    }
  }

  start();
  return { element, destroy };
}
