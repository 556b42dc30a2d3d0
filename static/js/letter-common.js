// What the participant's letter pages share (compose.js, letter-page.js, inbox.js):
// turning sealed letters into the JSON the server takes and back, opening them, and showing
// text safely.
//
// Decrypted text only ever reaches the page through textContent (showText): never innerHTML,
// never an attribute, never the console.

export const LETTER_LIMIT = 50000;

const numbers = new Intl.NumberFormat("en-GB");

/** 12,345 */
export function formatNumber(n) {
  return numbers.format(n);
}

/** Characters as people count them (code points), not UTF-16 units: an emoji counts once. */
export function countCharacters(text) {
  let count = 0;
  for (let i = 0; i < text.length; i += 1) {
    const unit = text.charCodeAt(i);
    // A high surrogate followed by a low one is one character.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i += 1;
    }
    count += 1;
  }
  return count;
}

/**
 * The stored chunks of a sealed object, as bytes in order. The server sends base64url strings
 * in order; objects {part, index, data} are accepted too (the upload shape), so that a change
 * of shape on either side fails at the hash check rather than here.
 */
export function chunkBytes(p, chunks) {
  if (!Array.isArray(chunks)) throw new p.MalformedInput("chunks must be an array");
  return chunks.map((chunk) => p.b64decode(typeof chunk === "string" ? chunk : chunk?.data));
}

/**
 * Open a letter-shaped content object from the server ({object_id, version, manifest, chunks,
 * grant}) made by `senderPk`. openLetter checks the grant's sender and recipient, the manifest
 * hash and every chunk hash before anything is decrypted; any failure throws a ProtocolError,
 * and no text at all is returned.
 */
export function openSealed(p, secretKey, senderPk, sealed) {
  if (!sealed || typeof sealed !== "object") {
    throw new p.MalformedInput("no sealed object");
  }
  return p.openLetter(
    secretKey,
    senderPk,
    sealed.object_id,
    sealed.version,
    p.b64decode(sealed.grant),
    p.b64decode(sealed.manifest),
    chunkBytes(p, sealed.chunks),
  );
}

/**
 * The JSON fields for POST /api/letters and /api/letters/{id}/revise from sealLetter's answer:
 * {letter: {object_id, version, manifest, manifest_hash, chunks: [{part, index, final, data}]},
 *  grant_to_case, grant_to_author}. A letter is one part (0).
 */
export function letterFields(p, sealed, objectId, version) {
  const last = sealed.chunks.length - 1;
  return {
    letter: {
      object_id: objectId,
      version,
      manifest: p.b64encode(sealed.manifest),
      manifest_hash: p.b64encode(sealed.manifestHash),
      chunks: sealed.chunks.map((data, index) => ({
        part: 0,
        index,
        final: index === last,
        data: p.b64encode(data),
      })),
    },
    grant_to_case: p.b64encode(sealed.grantToCase),
    grant_to_author: p.b64encode(sealed.grantToAuthor),
  };
}

/**
 * Show text in `element` with its paragraphs: one <p> per blank-line-separated block (line
 * breaks inside a block are kept by CSS: .letter-text p {white-space: pre-wrap}). textContent
 * only, so nothing in the text can ever become markup.
 */
export function showText(element, text) {
  element.replaceChildren();
  const blocks = text
    .replace(/\r\n?/g, "\n")
    .split(/\n[ \t]*\n/)
    .map((block) => block.replace(/^\n+|\n+$/g, ""))
    .filter((block) => block.trim() !== "");
  for (const block of blocks) {
    const paragraph = document.createElement("p");
    paragraph.textContent = block;
    element.append(paragraph);
  }
}

/** Show one step of a page and move focus to its heading, so the change is noticed. */
export function reveal(section, { focus = true } = {}) {
  section.hidden = false;
  if (!focus) return;
  const heading = section.querySelector("[data-focus-heading]") || section.querySelector("h2, h3");
  if (heading) {
    if (!heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
    heading.focus();
  }
}

/** "3 May, 14:05" in the person's own time zone. */
export function whenText(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return new Intl.DateTimeFormat("en-GB", {
    day: "numeric",
    month: "long",
    hour: "2-digit",
    minute: "2-digit",
  }).format(date);
}

/** A calm sentence for a letter that could not be opened and checked. */
export const COULD_NOT_CHECK =
  "This could not be shown, because this page could not confirm that it is exactly what was " +
  "written. Nothing from it has been shown. Please tell your facilitator: they can look into it " +
  "with you.";
