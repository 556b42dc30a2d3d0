// A browser-like global environment for node tests of lib/, client/ and pages/ modules: jsdom's
// window, document and friends installed as globals, before the module under test is imported
// (import this file first). Only what jsdom lacks is added: <dialog>'s showModal and close.
//
// Usage: import { page } from "./support/dom.mjs"; page("<main>...</main>") resets the body.

import { after } from "node:test";
import { JSDOM } from "jsdom";

process.env.TZ = "UTC";

const dom = new JSDOM("<!doctype html><html><head></head><body></body></html>", {
  url: "https://portal.test/home",
  pretendToBeVisual: true,
});
const { window } = dom;

const GLOBALS = [
  "window",
  "document",
  "Node",
  "Element",
  "HTMLElement",
  "HTMLFormElement",
  "HTMLDialogElement",
  "Event",
  "CustomEvent",
  "KeyboardEvent",
  "FormData",
  "sessionStorage",
  "location",
  "navigator",
];
for (const name of GLOBALS) {
  Object.defineProperty(globalThis, name, {
    value: name === "window" ? window : window[name],
    configurable: true,
    writable: true,
  });
}

if (typeof window.HTMLDialogElement.prototype.showModal !== "function") {
  window.HTMLDialogElement.prototype.showModal = function showModal() {
    this.setAttribute("open", "");
  };
  window.HTMLDialogElement.prototype.close = function close() {
    this.removeAttribute("open");
  };
}

// jsdom's timers (an idle warning's countdown) would keep the test process alive.
after(() => window.close());

/** Replace the body with `html` and return document.body. */
export function page(html = "") {
  document.body.innerHTML = html;
  return document.body;
}

/** Let promises and zero-delay timers run. */
export function settle(ms = 0) {
  return new Promise((resolve) => window.setTimeout(resolve, ms));
}

export { window };
