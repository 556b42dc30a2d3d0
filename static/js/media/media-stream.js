// Streaming one recording into its <video> or <audio> through MediaSource (media/player.js).
//
// Chunks are read and checked (part.readBatch: media/open.js, protocol.openChunk), while playing
// several in one GET (chunk-fetch.js FETCH_BATCH) and at most READ_AHEAD_BYTES ahead, and appended to
// a SourceBuffer one at a time, in order, waiting for updateend. Only about AHEAD_SECONDS beyond
// the playing position are fetched, so playback can start long before everything has arrived;
// before the first Play only the first chunk is appended (enough for the length and the first
// picture). Seeking
// inside what is buffered just works; seeking past it keeps fetching in order until the
// position is buffered. If the browser threw buffered data away (large files) and the person
// seeks back there, the stream is appended again from the start. endOfStream() once the last
// chunk is in.
//
//   streamPart(media, part, firstChunk, type, {signal, objectUrl, hasStarted})
//     runs for as long as the player lives; it ends by throwing Stopped (signal aborted),
//     CannotPlay (the element would not take the data) or the error of a chunk that could not
//     be read or did not pass its checks.

import { FETCH_BATCH, READ_AHEAD } from "./chunk-fetch.js";

const AHEAD_SECONDS = 30;
const BEHIND_SECONDS = 10;

/** Stopped on purpose (the player was destroyed, or the fallback took over). */
export class Stopped extends Error {
  constructor() {
    super("stopped");
    this.name = "Stopped";
  }
}

/** The element played the data badly or not at all: nothing to do with the checks. */
export class CannotPlay extends Error {
  constructor() {
    super("cannot play");
    this.name = "CannotPlay";
  }
}

/** The first of `names` that `target` fires. */
export const once = (target, ...names) =>
  new Promise((resolve) => {
    const done = (event) => {
      for (const name of names) target.removeEventListener(name, done);
      resolve(event);
    };
    for (const name of names) target.addEventListener(name, done);
  });

/** Whether `time` is inside what `media` has buffered. */
function bufferedAround(media, time) {
  const ranges = media.buffered;
  for (let i = 0; i < ranges.length; i += 1) {
    if (ranges.start(i) <= time + 0.25 && time <= ranges.end(i)) return ranges.end(i) - time;
  }
  return null;
}

export async function streamPart(media, part, firstChunk, type, { signal, objectUrl, hasStarted }) {
  const stopIfAsked = () => {
    if (signal.aborted) throw new Stopped();
  };
  const mediaSource = new window.MediaSource();
  media.src = objectUrl(mediaSource);
  await once(mediaSource, "sourceopen");
  stopIfAsked();
  const buffer = mediaSource.addSourceBuffer(type);
  if (part.durationMs) mediaSource.duration = part.durationMs / 1000;

  let restart = false; // buffered data was evicted and is wanted again
  let furthest = 0; // the furthest time ever buffered
  let wake = null;
  const nudge = () => {
    if (wake) wake();
  };
  media.addEventListener("seeking", () => {
    const buffered = bufferedAround(media, media.currentTime) !== null;
    if (!buffered && media.currentTime < furthest - 0.5) restart = true;
    nudge();
  });
  for (const name of ["play", "timeupdate", "waiting"]) media.addEventListener(name, nudge);
  signal.addEventListener("abort", nudge);
  const sleep = () =>
    new Promise((resolve) => {
      wake = () => {
        wake = null;
        resolve();
      };
    });

  async function append(plaintext) {
    for (;;) {
      stopIfAsked();
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

  // index -> promise of its checked plaintext: at most READ_AHEAD chunks asked for ahead.
  let pending = new Map();
  /** Chunks `from` .. `from + count - 1` asked for in one GET. */
  const askFor = (from, count) => {
    const batch = part.readBatch(from, count, { signal });
    for (let offset = 0; offset < count; offset += 1) {
      const promise = batch.then((plaintexts) => plaintexts[offset]);
      promise.catch(() => {}); // surfaced when awaited
      pending.set(from + offset, promise);
    }
  };
  const read = (index) => {
    if (!pending.has(index)) askFor(index, 1);
    return pending.get(index);
  };
  /** Whole batches from `index` on, as far as READ_AHEAD chunks. */
  const readAhead = (index) => {
    let from = index;
    while (from < part.chunks) {
      if (pending.has(from)) {
        from += 1;
        continue;
      }
      const count = Math.min(FETCH_BATCH, part.chunks - from);
      if (from + count > index + READ_AHEAD) return;
      askFor(from, count);
      from += count;
    }
  };
  pending.set(0, Promise.resolve(firstChunk));

  let next = 0;
  for (;;) {
    stopIfAsked();
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
    const ahead = bufferedAround(media, media.currentTime) ?? 0;
    if (!(next === 0 || (hasStarted() && ahead < AHEAD_SECONDS))) {
      await sleep();
      continue;
    }
    // Once playing, the next batches are fetched and checked meanwhile.
    if (hasStarted()) readAhead(next);
    const plaintext = await read(next);
    pending.delete(next);
    await append(plaintext);
    next += 1;
  }
}
