// Small DOM helpers shared by every page.
//
// Nothing decrypted or typed ever becomes markup: text goes in with textContent only (el,
// showText), and el() refuses event-handler attributes.

/**
 * el("p", {class: "hint", id: "x"}, "text", child, ...): attributes are set with setAttribute
 * (never event handlers or HTML), children are nodes or strings (added as text).
 * `hidden: true` sets the hidden attribute; false/null/undefined values are left out.
 */
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.toLowerCase().startsWith("on")) {
      throw new Error("event handlers are added with addEventListener");
    }
    element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Text read only by screen readers. */
export function hiddenText(text) {
  return el("span", { class: "visually-hidden" }, text);
}

/**
 * Show text in `element` with its paragraphs: one <p> per blank-line-separated block (line
 * breaks inside a block are kept by CSS: .letter-text p {white-space: pre-wrap}).
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

/** Move focus to an element that is not normally focusable (a heading, a panel). */
export function focusOn(element) {
  if (!element) return;
  if (!element.hasAttribute("tabindex") && !element.matches(FOCUSABLE)) {
    element.setAttribute("tabindex", "-1");
  }
  element.focus();
}

const FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]";

/** Show one part of a page and move focus to its heading, so the change is noticed. */
export function reveal(section, { focus = true } = {}) {
  section.hidden = false;
  if (!focus) return;
  focusOn(section.querySelector("[data-focus-heading]") || section.querySelector("h2, h3"));
}

/**
 * Put a sentence in a live region (role=status or role=alert). Cleared first and filled a
 * moment later, so that a repeated identical sentence is announced again.
 */
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

/** The element with this id inside `root` (or the document); throws if the page lacks it. */
export function part(root, id) {
  const found = (root.ownerDocument || root).getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found;
}
