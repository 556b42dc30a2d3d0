// Showing a scanned page (an image or a PDF) from a media message, decrypted in this browser.
//
// Every chunk of the page is checked (open.js readAll -> protocol.openChunk) before any of it is
// shown. Images: a Blob -> object URL -> <img alt="Page N of M">. PDFs: Chromium's own viewer in
// an <iframe> (the CSP allows blob: frames for exactly this), and always an "Open the PDF"
// button that opens the same Blob in a new tab. Object URLs are revoked by destroy().
//
//   createPageViewer(part, {pageNumber, pageCount, onCheckFailed, onProblem}) -> {element, destroy()}

import { COULD_NOT_CHECK } from "../lib/errors.js";
import { ChunkUnavailable, isPdf, isShowableImage } from "./open.js";
import { isCheckFailure, problemNotice } from "./problems.js";

export function createPageViewer(
  part,
  { pageNumber, pageCount, onCheckFailed = () => {}, onProblem = () => {} },
) {
  const name = `Page ${pageNumber} of ${pageCount}`;
  const element = document.createElement("div");
  element.className = "media-page";
  const status = document.createElement("p");
  status.className = "status-message";
  status.setAttribute("role", "status");
  status.textContent = `Unlocking ${name.toLowerCase()}…`;
  element.append(status);

  const controller = new AbortController();
  const urls = [];
  let stopped = false;

  function destroy() {
    if (stopped) return;
    stopped = true;
    controller.abort();
    for (const made of urls.splice(0)) URL.revokeObjectURL(made);
  }

  function fail(error) {
    if (stopped) return;
    destroy();
    if (isCheckFailure(error)) {
      element.replaceChildren(problemNotice(`${name}: ${COULD_NOT_CHECK}`));
      onCheckFailed();
      return;
    }
    element.replaceChildren(
      problemNotice(
        error instanceof ChunkUnavailable
          ? `${name}: ${error.message}`
          : `${name} cannot be shown in this browser. Please try another browser, or ask your facilitator.`,
      ),
    );
    onProblem(error);
  }

  async function showImage() {
    const blob = await part.readAll({ signal: controller.signal });
    if (stopped) return;
    const made = URL.createObjectURL(blob);
    urls.push(made);
    const image = document.createElement("img");
    image.className = "media-page-image";
    image.alt = name;
    image.decoding = "async";
    image.addEventListener("error", () => fail(new Error("image")), { once: true });
    image.src = made;
    const caption = document.createElement("p");
    caption.className = "media-caption";
    caption.textContent = name;
    element.replaceChildren(caption, image);
  }

  async function showPdf() {
    const data = await part.readAll({ signal: controller.signal });
    if (stopped) return;
    // A blob: URL has this page's origin. Only bytes that really are a PDF ("%PDF-") go into
    // one, typed as a PDF whatever the manifest said, so nothing can be rendered as a page.
    const head = new Uint8Array(await data.slice(0, 5).arrayBuffer());
    if (String.fromCharCode(...head) !== "%PDF-") throw new Error("not a PDF");
    // Our own type, whatever else the part's mime says: this Blob is only ever a PDF.
    const made = URL.createObjectURL(new Blob([data], { type: "application/pdf" }));
    urls.push(made);
    const heading = document.createElement("p");
    heading.className = "media-caption";
    heading.textContent = `${name} (a PDF)`;
    const children = [heading];
    const inPage = navigator.pdfViewerEnabled === true;
    if (inPage) {
      const frame = document.createElement("iframe");
      frame.className = "media-pdf";
      frame.title = `${name} (PDF)`;
      frame.src = made;
      children.push(frame);
    }
    const actions = document.createElement("div");
    actions.className = "actions";
    const open = document.createElement("button");
    open.type = "button";
    open.className = "button secondary";
    open.textContent = "Open the PDF";
    const hintId = `${made.slice(-12)}-hint`.replace(/[^a-z0-9-]/gi, "");
    open.setAttribute("aria-describedby", hintId);
    open.addEventListener("click", () => {
      // An <a> click, not window.open: no opener, and the new tab gets only the Blob.
      const link = document.createElement("a");
      link.href = made;
      link.target = "_blank";
      link.rel = "noopener";
      link.click();
    });
    actions.append(open);
    const hint = document.createElement("p");
    hint.className = "hint";
    hint.id = hintId;
    hint.textContent = inPage
      ? "Opens it in a new tab, larger. It was unlocked only on this device, and stays only in this browser."
      : "This browser cannot show a PDF inside the page, so it may save a copy to this device instead. That copy is unlocked: delete it when you no longer need it.";
    children.push(actions, hint);
    element.replaceChildren(...children);
  }

  (async () => {
    try {
      if (isShowableImage(part.mime)) {
        await showImage();
      } else if (isPdf(part.mime)) {
        await showPdf();
      } else {
        element.replaceChildren();
        const note = document.createElement("p");
        note.className = "notice info";
        note.textContent = `${name} is of a kind this page cannot show. Please ask your facilitator.`;
        element.append(note);
      }
    } catch (error) {
      if (!stopped && !(error && error.name === "AbortError")) fail(error);
    }
  })();

  return { element, destroy };
}
