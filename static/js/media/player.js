// Playing a recording or an audio/video file from a media message, decrypted in this browser.
//
// Streaming (media/media-stream.js): chunks are fetched and checked one by one and appended
// through MediaSource, so playback can start long before everything has arrived; before the
// first Play only the first chunk is fetched (enough for the length and the first picture).
//
// Fallback (a type MediaSource cannot take, e.g. an uploaded MP4 that is not fragmented, WAV or
// Ogg; media/playable-types.js says which): every chunk is checked and decrypted into a Blob
// first ("Preparing the recording…" with progress), then played from an object URL.
//
// Never autoplays; native controls. If a chunk fails its check: everything stops, the player is
// removed and a calm sentence takes its place; nothing more of it plays. Object URLs are revoked
// by destroy() (the pages call it when they are left).
//
//   createMediaPlayer(part, {label, onCheckFailed, onProblem}) -> {element, destroy()}

import { COULD_NOT_CHECK } from "../lib/errors.js";
import { CannotPlay, Stopped, streamPart } from "./media-stream.js";
import { ChunkUnavailable, isPlayable } from "./open.js";
import { baseType, streamType } from "./playable-types.js";
import { isCheckFailure, problemNotice } from "./problems.js";

const CANNOT_PLAY =
  "This cannot be played in this browser. Nothing is wrong with it: please try another " +
  "browser, or ask your facilitator.";

let counter = 0;
const nextId = (prefix) => `${prefix}-${(counter += 1)}`;

/** The player's parts: a caption naming it, the element, and a status line. */
function playerElements(part, label) {
  const element = document.createElement("div");
  element.className = "media-player";
  const caption = document.createElement("p");
  caption.className = "media-caption";
  caption.id = nextId("media-caption");
  caption.textContent = label; // may hold a file name from the manifest: text only
  const media = document.createElement(/^video\//i.test(part.mime) ? "video" : "audio");
  media.controls = true;
  media.autoplay = false;
  media.preload = "metadata";
  media.setAttribute("aria-labelledby", caption.id);
  if (media.tagName === "VIDEO") media.playsInline = true;
  const status = document.createElement("p");
  status.className = "status-message media-status";
  status.setAttribute("role", "status");
  element.append(caption, media, status);
  return { element, media, status };
}

/**
 * A player for one audio or video part (open.js). `label` names it ("Video recording",
 * "Audio file: name.mp3"): shown as text above the player and used as its accessible name.
 * `onCheckFailed()` is called once if any chunk fails its check (the page may then, e.g.,
 * switch approval off); `onProblem(error)` when it could not be fetched or played.
 */
export function createMediaPlayer(part, { label, onCheckFailed = () => {}, onProblem = () => {} }) {
  if (!isPlayable(part.mime)) throw new TypeError("not an audio or video part");
  const { element, media, status } = playerElements(part, label);
  const controller = new AbortController();
  const urls = [];
  let stopped = false;
  // Play (or a seek) was asked for: only then is anything beyond the first chunk fetched. Set
  // from the start, so a Play pressed while the first chunk is still on its way counts.
  let started = false;
  const markStarted = () => {
    started = true;
  };
  media.addEventListener("play", markStarted);
  media.addEventListener("seeking", markStarted);

  function objectUrl(of) {
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
    status.remove();
    if (checks) {
      element.append(problemNotice(COULD_NOT_CHECK));
      onCheckFailed();
      return;
    }
    element.append(problemNotice(error instanceof ChunkUnavailable ? error.message : CANNOT_PLAY));
    onProblem(error);
  }

  /** The fallback: the whole part into a Blob first, with progress. */
  async function playFromBlob(firstChunk) {
    const progress = document.createElement("progress");
    progress.max = 100;
    progress.value = 0;
    progress.className = "media-progress";
    status.id = nextId("media-progress");
    progress.setAttribute("aria-labelledby", status.id);
    status.textContent = "Preparing the recording…";
    media.hidden = true;
    element.insertBefore(progress, status.nextSibling);
    const pieces = [firstChunk];
    for await (const plaintext of part.readChunks(1, { signal: controller.signal })) {
      if (stopped) throw new Stopped();
      pieces.push(plaintext);
      const percent = Math.round((pieces.length / part.chunks) * 100);
      progress.value = percent;
      status.textContent = `Preparing the recording… ${percent}%`;
    }
    if (stopped) throw new Stopped();
    progress.remove();
    status.textContent = "";
    media.src = objectUrl(new Blob(pieces, { type: baseType(part.mime) }));
    media.hidden = false;
    media.addEventListener("error", () => fail(new CannotPlay()), { once: true });
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
        const control = { signal: controller.signal, objectUrl, hasStarted: () => started };
        await streamPart(media, part, first, type, control);
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
