// A security number as a QR code, so that two people comparing numbers in person can also hold
// one phone's camera to the other's screen instead of reading 60 digits aloud.
//
// The code is drawn as one SVG path built with DOM calls: nothing is parsed from a string, and
// no style attribute is written (the library's own HTML and SVG output would need one, which the
// strict CSP refuses). The digits are encoded in numeric mode, the densest for digits, with the
// medium error correction level, so a screen with a scratch or glare still scans.
//
//   showQr(container, "123456…")   // replaces the container's children with the code

import qrcode from "../../vendor/qrcode.mjs";

const SVG = "http://www.w3.org/2000/svg";
const QUIET_ZONE = 4; // modules of white around the code, as the QR standard asks

/** The dark modules of the code for `digits`, as {size, dark: [[row, column], ...]}. */
export function qrModules(digits) {
  const text = String(digits).replace(/\D/g, "");
  if (!text) throw new TypeError("a security number has digits");
  const code = qrcode(0, "M"); // 0: the smallest version the data fits in
  code.addData(text, "Numeric");
  code.make();
  const size = code.getModuleCount();
  const dark = [];
  for (let row = 0; row < size; row += 1) {
    for (let column = 0; column < size; column += 1) {
      if (code.isDark(row, column)) dark.push([row, column]);
    }
  }
  return { size, dark };
}

/** One path of unit squares, one per dark module, offset by the quiet zone. */
function pathData({ dark }) {
  return dark
    .map(([row, column]) => `M${column + QUIET_ZONE} ${row + QUIET_ZONE}h1v1h-1z`)
    .join("");
}

/** Draw the QR code of `digits` into `container` (its children are replaced). */
export function showQr(container, digits, { label = "The security number as a QR code" } = {}) {
  const modules = qrModules(digits);
  const document = container.ownerDocument;
  const side = modules.size + 2 * QUIET_ZONE;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${side} ${side}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  svg.setAttribute("class", "qr-code");
  svg.setAttribute("shape-rendering", "crispEdges");
  const background = document.createElementNS(SVG, "rect");
  background.setAttribute("width", String(side));
  background.setAttribute("height", String(side));
  background.setAttribute("fill", "#fff");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", pathData(modules));
  path.setAttribute("fill", "#000");
  svg.append(background, path);
  container.replaceChildren(svg);
  return svg;
}

/** Draw every QR code whose digits the server put in the page (data-qr), once each. */
export function drawQrCodes(root) {
  for (const box of root.querySelectorAll("[data-qr]")) {
    if (box.dataset.qrDrawn) continue;
    showQr(box, box.dataset.qr);
    box.dataset.qrDrawn = "true";
  }
}
