// One opened media message in a page: the written letter, a transcript or translation if there
// is one, then the recordings, the scanned pages and the files, each with its own player or
// viewer. Shared by the review page, the author's letter page and the recipient's inbox page.
//
// Nothing plays by itself. Text goes into the page through showText (textContent) only.
//
//   showOpenedMessage(container, opened, {headingLevel, transcript, onCheckFailed, onProblem})
//     -> {pause(), destroy()}
//   transcriptHeading(label) -> "A written transcript" | "A written translation"

import { showText } from "../lib/dom.js";
import { isPdf, isPlayable, isShowableImage } from "./open.js";
import { createMediaPlayer } from "./player.js";
import { createPageViewer } from "./viewer.js";

export function transcriptHeading(label) {
  return label === "translation" ? "A written translation" : "A written transcript";
}

function heading(level, text) {
  const element = document.createElement(`h${level}`);
  element.textContent = text;
  return element;
}

function section(className, level, title) {
  const element = document.createElement("section");
  element.className = `media-section ${className}`;
  const head = heading(level, title);
  element.append(head);
  return element;
}

function mediaLabel(part, number, count) {
  const video = /^video\//i.test(part.mime);
  if (part.kind === "recording") {
    const base = video ? "Video recording" : "Audio recording";
    return count > 1 ? `${base} ${number} of ${count}` : base;
  }
  const base = video ? "Video file" : "Audio file";
  return part.name ? `${base}: ${part.name}` : base;
}

/**
 * Show `opened` (open.js openMessage) in `container`. `transcript` is {label, text} or
 * {label, failed: true} (a transcript that did not pass its checks) or null.
 */
export function showOpenedMessage(
  container,
  opened,
  { headingLevel = 3, transcript = null, onCheckFailed = () => {}, onProblem = () => {} } = {},
) {
  const items = [];
  container.replaceChildren();

  if (opened.letterText.trim() !== "") {
    const letter = section("media-letter", headingLevel, "The written letter");
    const text = document.createElement("div");
    text.className = "letter-text";
    showText(text, opened.letterText);
    letter.append(text);
    container.append(letter);
  }

  if (transcript) {
    const block = section("media-transcript", headingLevel, transcriptHeading(transcript.label));
    const hint = document.createElement("p");
    hint.className = "hint";
    hint.textContent =
      transcript.label === "translation"
        ? "Your facilitator added this translation, so you can read it instead of, or as well as, listening."
        : "Your facilitator wrote down what is said, so you can read it instead of, or as well as, listening.";
    if (transcript.failed) {
      const problem = document.createElement("p");
      problem.className = "notice warning";
      problem.textContent =
        "It could not be shown, because this page could not confirm that it is exactly what your facilitator wrote. You can ask them about it.";
      block.append(problem);
    } else {
      const text = document.createElement("div");
      text.className = "letter-text note-text";
      showText(text, transcript.text);
      block.append(hint, text);
    }
    container.append(block);
  }

  const recordings = opened.parts.filter((part) => part.kind === "recording");
  const pages = opened.parts.filter((part) => part.kind === "page");
  const others = opened.parts.filter((part) => part.kind !== "recording" && part.kind !== "page");

  const cannotShow = (what) => {
    const note = document.createElement("p");
    note.className = "notice info";
    note.textContent = `${what} is of a kind this page cannot show. Please ask your facilitator.`;
    return note;
  };

  if (recordings.length > 0) {
    const block = section(
      "media-recordings",
      headingLevel,
      recordings.length > 1 ? "The recordings" : "The recording",
    );
    const hint = document.createElement("p");
    hint.className = "hint";
    hint.textContent = "Nothing plays until you press Play. You can pause or stop at any time.";
    block.append(hint);
    recordings.forEach((part, offset) => {
      const label = mediaLabel(part, offset + 1, recordings.length);
      if (!isPlayable(part.mime)) {
        block.append(cannotShow(label));
        return;
      }
      const player = createMediaPlayer(part, { label, onCheckFailed, onProblem });
      items.push(player);
      block.append(player.element);
    });
    container.append(block);
  }

  if (pages.length > 0) {
    const block = section(
      "media-pages",
      headingLevel,
      pages.length > 1 ? "The scanned pages" : "The scanned page",
    );
    pages.forEach((part, offset) => {
      const pageNumber = offset + 1;
      if (!isShowableImage(part.mime) && !isPdf(part.mime)) {
        block.append(cannotShow(`Page ${pageNumber} of ${pages.length}`));
        return;
      }
      const viewer = createPageViewer(part, {
        pageNumber,
        pageCount: pages.length,
        onCheckFailed,
        onProblem,
      });
      items.push(viewer);
      block.append(viewer.element);
    });
    container.append(block);
  }

  if (others.length > 0) {
    const block = section("media-files", headingLevel, others.length > 1 ? "The files" : "The file");
    others.forEach((part) => {
      const label = mediaLabel(part, 1, 1);
      if (!isPlayable(part.mime)) {
        block.append(cannotShow(part.name ? `The file ${part.name}` : "A file"));
        return;
      }
      const player = createMediaPlayer(part, { label, onCheckFailed, onProblem });
      items.push(player);
      block.append(player.element);
    });
    container.append(block);
  }

  return {
    pause() {
      for (const media of container.querySelectorAll("audio, video")) media.pause();
    },
    destroy() {
      for (const item of items) item.destroy();
      opened.close();
    },
  };
}
