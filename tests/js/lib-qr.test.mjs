// lib/qr.js: the QR code drawn for a security number decodes back to exactly its digits (read by
// an independent decoder, jsQR, from the modules as pixels), and is drawn with DOM calls only.
import { page } from "./support/dom.mjs";

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import jsQR from "jsqr";
import { drawQrCodes, qrModules, showQr } from "../../static/js/lib/qr.js";

const SIXTY_DIGITS = "123456789012345678901234567890123456789012345678901234567890";
const SCALE = 4;
const QUIET = 4;

/** The modules as an RGBA bitmap, as a camera would see the screen. */
function decode({ size, dark }) {
  const side = (size + 2 * QUIET) * SCALE;
  const pixels = new Uint8ClampedArray(side * side * 4).fill(255);
  for (const [row, column] of dark) {
    for (let y = 0; y < SCALE; y += 1) {
      for (let x = 0; x < SCALE; x += 1) {
        const at = (((row + QUIET) * SCALE + y) * side + (column + QUIET) * SCALE + x) * 4;
        pixels[at] = pixels[at + 1] = pixels[at + 2] = 0;
      }
    }
  }
  return jsQR(pixels, side, side)?.data;
}

describe("lib/qr.js", () => {
  test("a security number's code reads back as its digits, spaces left out", () => {
    const formatted = SIXTY_DIGITS.replace(/(\d{5})/g, "$1 ").trim();
    assert.equal(decode(qrModules(formatted)), SIXTY_DIGITS);
  });

  test("no digits, no code", () => {
    assert.throws(() => qrModules(" - "), TypeError);
  });

  test("showQr draws one labelled SVG path, no markup parsed and no style written", () => {
    const body = page("<div id='box'><p>old</p></div>");
    const box = body.querySelector("#box");
    const svg = showQr(box, SIXTY_DIGITS, { label: "Your security number as a QR code" });
    assert.equal(box.children.length, 1);
    assert.equal(svg.getAttribute("role"), "img");
    assert.equal(svg.getAttribute("aria-label"), "Your security number as a QR code");
    assert.equal(svg.querySelectorAll("path").length, 1);
    assert.equal(box.querySelector("[style]"), null);
    const { size, dark } = qrModules(SIXTY_DIGITS);
    assert.equal(svg.getAttribute("viewBox"), `0 0 ${size + 8} ${size + 8}`);
    assert.equal(svg.querySelector("path").getAttribute("d").split("z").length - 1, dark.length);
  });

  test("drawQrCodes draws each server-given number once", () => {
    const body = page(`<div data-qr="${SIXTY_DIGITS}"></div><div data-qr-box></div>`);
    drawQrCodes(body);
    const [given, other] = body.querySelectorAll("div");
    assert.equal(given.dataset.qrDrawn, "true");
    const first = given.firstElementChild;
    drawQrCodes(body);
    assert.equal(given.firstElementChild, first);
    assert.equal(other.children.length, 0);
  });
});
