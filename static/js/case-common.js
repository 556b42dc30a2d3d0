// Helpers shared by the facilitator's case pages (case-page.js, cases-new.js, review.js).
//
// Nothing here logs, and nothing decrypted is ever put into the page as HTML: el() builds
// elements and sets text with textContent only.

import { ApiError, getJSON } from "./api.js";
import { KeysUnavailable, holdSecret, protocol } from "./keys.js";

/** A random (version 4) UUID, in the canonical lower-case form the protocol requires. */
export function newId() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  // crypto.randomUUID exists only in secure contexts; getRandomValues exists everywhere.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The case key could not be unlocked (no grant for us, or one that does not open). */
export class CaseKeyUnavailable extends Error {
  constructor(message) {
    super(message);
    this.name = "CaseKeyUnavailable";
  }
}

/**
 * Open this case's secret key: GET /api/cases/{id}/key, then openCaseGrant with my secret key.
 * The grant names the facilitator who made it; it must open for exactly this case. The secret
 * must also match the case public key the server lists, so that letters sealed by participants
 * to that public key are ones we can read (and so that a mismatch is noticed here, not later).
 * Returns {caseSk (held: wiped on quick exit), casePk, epoch}.
 */
export async function openCaseKey(keys, caseId) {
  const p = await protocol();
  let answer;
  try {
    answer = await getJSON(`/api/cases/${encodeURIComponent(caseId)}/key`);
  } catch (error) {
    if (error instanceof ApiError && error.status >= 400 && error.status < 500) {
      throw new CaseKeyUnavailable(
        "You do not hold this case's key yet. A facilitator who works on this case can give it to you.",
      );
    }
    throw error;
  }
  let caseSk;
  try {
    caseSk = holdSecret(
      p.openCaseGrant(
        keys.secretKey,
        p.b64decode(answer.sender_public_key),
        caseId,
        p.b64decode(answer.grant),
      ),
    );
  } catch (error) {
    if (error instanceof p.ProtocolError) {
      throw new CaseKeyUnavailable(
        "This case's key could not be unlocked, so names and letters cannot be shown. Nothing was changed. Please tell your service manager.",
      );
    }
    throw error;
  }
  const casePk = p.publicKeyFromSecret(caseSk);
  if (p.b64encode(casePk) !== answer.case_public_key) {
    caseSk.fill(0);
    throw new CaseKeyUnavailable(
      "This case's keys do not match each other, so nothing can be sealed for it safely. Please tell your service manager.",
    );
  }
  return { caseSk, casePk, epoch: answer.epoch };
}

/** A sentence for any failure, fit to show as it is. */
export function sentenceFor(error) {
  if (error instanceof ApiError || error instanceof KeysUnavailable) return error.message;
  if (error instanceof CaseKeyUnavailable) return error.message;
  return "Something went wrong and nothing was changed. Please try again in a moment.";
}

/** "3 March 2025", in this browser's time zone; "" for nothing. */
export function formatDate(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric" });
}

/** "3 March 2025, 14:05", in this browser's time zone. */
export function formatDateTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleString("en-GB", {
    day: "numeric",
    month: "long",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

/**
 * el("p", {class: "hint", id: "x"}, "text", child, ...): attributes are set with setAttribute
 * (never event handlers or HTML), children are nodes or strings (added as text).
 * `hidden: true` sets the hidden attribute; false/null/undefined values are left out.
 */
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) throw new Error("event handlers are added with addEventListener");
    element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Text read only by screen readers: el("span", {class: "visually-hidden"}, text). */
export function hiddenText(text) {
  return el("span", { class: "visually-hidden" }, text);
}

/** Move focus to an element that is not normally focusable (a heading, a panel). */
export function focusOn(element) {
  if (!element) return;
  if (!element.hasAttribute("tabindex") && !isFocusable(element)) {
    element.setAttribute("tabindex", "-1");
  }
  element.focus();
}

function isFocusable(element) {
  return element.matches("a[href], button, input, select, textarea, [tabindex]");
}

/** Put a sentence in a role=status region (cleared first so a repeat is announced again). */
export function say(region, message) {
  if (!region) return;
  region.textContent = "";
  window.setTimeout(() => {
    region.textContent = message;
  }, 50);
}

/** Copy text to the clipboard; false when the browser refuses (then the person selects it). */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
