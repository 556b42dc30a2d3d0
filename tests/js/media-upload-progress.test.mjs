// media/upload-progress.js: the figures an upload shows, and the panel announcing each quarter
// once (not every chunk) while the bar follows every report.
import "./support/dom.mjs";

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { progressFigures, uploadPanel } from "../../static/js/media/upload-progress.js";

const PANEL = `
<section id="upload-progress" hidden><h2 data-focus-heading tabindex="-1">Sending</h2>
<progress id="upload-bar" max="100" value="0"></progress><p id="upload-figures"></p>
<p id="upload-status"></p><p id="upload-alert">Earlier trouble.</p>
<button id="upload-cancel" hidden>Cancel</button><button id="upload-retry">Again</button></section>`;

describe("media/upload-progress.js", () => {
  test("the figures say how much, how fast and how long is left, until it is all sent", () => {
    const going = { sentBytes: 2 * 1024 ** 2, totalBytes: 5 * 1024 ** 2, percent: 40,
      bytesPerSecond: 1024 ** 2, secondsLeft: 3 };
    const words = progressFigures(going);
    assert.match(words, /^40% sent · /);
    assert.match(words, / a second · .* left$/);
    assert.doesNotMatch(progressFigures({ ...going, percent: 100, secondsLeft: 0 }), /left/);
    assert.doesNotMatch(progressFigures({ ...going, bytesPerSecond: 0 }), /a second/);
  });

  test("the panel starts from nothing and announces each quarter once", () => {
    document.body.innerHTML = PANEL;
    const panel = uploadPanel(document.body);
    panel.begin("Locking it and sending it…");
    assert.equal(panel.panel.hidden, false);
    assert.equal(panel.alert.textContent, "");
    assert.equal(panel.retry.hidden, true);
    assert.equal(panel.cancel.hidden, false);
    assert.equal(panel.status.textContent, "Locking it and sending it…");
    const report = (percent) => ({ sentBytes: percent, totalBytes: 100, percent });
    panel.show(report(10));
    assert.equal(panel.status.textContent, "Locking it and sending it…");
    panel.show(report(30));
    assert.equal(panel.status.textContent, "30% sent.");
    panel.status.textContent = "";
    panel.show(report(40));
    assert.equal(panel.status.textContent, ""); // the same quarter: said once
    assert.equal(panel.bar.value, 40);
    panel.show(report(100));
    assert.equal(panel.status.textContent, ""); // done is said by the page, not as a figure
  });
});
