// lib/navigation.js, lib/responses.js, lib/quick-exit.js, lib/idle.js, lib/steps.js and
// lib/recovery-code.js.
import { page, settle } from "./support/dom.mjs";

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { GENERIC_MESSAGE } from "../../static/js/lib/errors.js";
import { startIdleWarning } from "../../static/js/lib/idle.js";
import { browserLocation, startNavigation } from "../../static/js/lib/navigation.js";
import { startQuickExit } from "../../static/js/lib/quick-exit.js";
import { recoveryCodeUI } from "../../static/js/lib/recovery-code.js";
import { startResponses } from "../../static/js/lib/responses.js";
import { showStep, showWorking, showWorkingFailed } from "../../static/js/lib/steps.js";
import { fakeServer, json } from "./support/fake-server.mjs";

const visited = [];
browserLocation.replace = (url) => visited.push(url);
const wiped = [];
startNavigation({ wipe: () => wiped.push("navigation") });
startResponses();
startQuickExit({ wipe: () => wiped.push("quick exit") });

function click(element, init = {}) {
  element.dispatchEvent(new window.MouseEvent("click", { bubbles: true, cancelable: true, button: 0, ...init }));
}

describe("lib/navigation.js: one history entry", () => {
  test("links on this site replace the entry; others keep the browser's way", () => {
    page(`<a id="in" href="/queue">Queue</a><a id="push" href="/x" data-nav-push>X</a>
          <a id="out" href="https://elsewhere.example/">Out</a><a id="frag" href="#main">Skip</a>
          <a id="new" href="/y" target="_blank">Y</a>`);
    visited.length = 0;
    for (const id of ["in", "push", "out", "frag", "new"]) click(document.getElementById(id));
    assert.deepEqual(visited, ["https://portal.test/queue"]);
    click(document.getElementById("in"), { ctrlKey: true });
    assert.equal(visited.length, 1);
  });

  test("a plain GET form replaces the entry with its query; htmx forms are left to htmx", () => {
    page(`<form id="plain" method="get" action="/queue"><input name="state" value="all"></form>
          <form id="htmx" hx-get="/queue" action="/queue"><input name="state" value="x"></form>`);
    visited.length = 0;
    for (const id of ["plain", "htmx"]) {
      document.getElementById(id).dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    }
    assert.deepEqual(visited, ["https://portal.test/queue?state=all"]);
  });
});

describe("lib/responses.js: htmx answers", () => {
  function htmxEvent(type, target, detail) {
    const event = new CustomEvent(type, { bubbles: true, cancelable: true, detail });
    target.dispatchEvent(event);
    return event;
  }
  const xhr = (status, headers = {}) => ({ status, getResponseHeader: (name) => headers[name] ?? null });

  test("HX-Redirect replaces the entry, and only with a path on this site", () => {
    const body = page("<form id='f'></form>");
    visited.length = 0;
    const done = htmxEvent("htmx:beforeOnLoad", body, { xhr: xhr(200, { "HX-Redirect": "/queue?done=approved" }) });
    assert.ok(done.defaultPrevented);
    htmxEvent("htmx:beforeOnLoad", body, { xhr: xhr(200, { "HX-Redirect": "//evil.example" }) });
    const plain = htmxEvent("htmx:beforeOnLoad", body, { xhr: xhr(200) });
    assert.equal(plain.defaultPrevented, false);
    assert.deepEqual(visited, ["/queue?done=approved", "/home"]);
  });

  test("a 4xx sentence goes into the asking form's alert region", () => {
    page(`<form id="f"><p class="form-alert" role="alert" id="a"></p><button id="b">Go</button></form>`);
    const detail = { xhr: xhr(409), elt: document.getElementById("b"), shouldSwap: false, isError: true };
    htmxEvent("htmx:beforeSwap", document.getElementById("b"), detail);
    assert.equal(detail.shouldSwap, true);
    assert.equal(detail.isError, false);
    assert.equal(detail.target.id, "a");
    assert.equal(detail.swapOverride, "innerHTML");
    // A form whose page answer is picked out with hx-select="#main" still gets the sentence.
    assert.equal(detail.selectOverride, "unset");
    const ok = { xhr: xhr(200), elt: document.getElementById("b"), shouldSwap: true };
    htmxEvent("htmx:beforeSwap", document.getElementById("b"), ok);
    assert.equal(ok.target, undefined);
  });

  test("a form that targets #main gets the sentence in its own alert region", () => {
    // htmx dispatches beforeSwap on the swap target (#main), with the form in requestConfig:
    // the sentence goes to that form, not to the first alert region in the target.
    page(`<main id="main"><form id="other"><p class="form-alert" role="alert" id="first"></p></form>
          <form id="row"><p class="form-alert" role="alert" id="mine"></p><button>Withdraw</button></form></main>`);
    const main = document.getElementById("main");
    const detail = { xhr: xhr(409), elt: main, requestConfig: { elt: document.getElementById("row") } };
    htmxEvent("htmx:beforeSwap", main, detail);
    assert.equal(detail.target.id, "mine");
    assert.equal(detail.selectOverride, "unset");
  });

  test("a server failure is a calm sentence in the same place", async () => {
    page(`<form id="f"><p class="form-alert" role="alert" id="a"></p></form>`);
    htmxEvent("htmx:responseError", document.getElementById("f"), { elt: document.getElementById("f") });
    await settle(60);
    assert.equal(document.getElementById("a").textContent, GENERIC_MESSAGE);
  });
});

describe("lib/quick-exit.js", () => {
  test("the button blanks the page, wipes the tab and leaves for the neutral site", () => {
    const body = page('<button data-quick-exit id="q">Leave this site</button>');
    body.dataset.quickExitUrl = "https://weather.example/";
    visited.length = 0;
    wiped.length = 0;
    click(document.getElementById("q"));
    assert.ok(document.documentElement.classList.contains("exiting"));
    assert.deepEqual(wiped, ["quick exit"]);
    assert.deepEqual(visited, ["https://weather.example/"]);
  });
});

describe("lib/idle.js", () => {
  test("the warning opens when the server says little time is left, and Stay asks for more", async () => {
    const body = page(`<dialog id="session-warning"><span data-session-countdown></span>
        <button data-session-stay>Stay</button><button data-session-leave>Leave</button></dialog>`);
    body.dataset.idleSeconds = "60";
    body.dataset.warningSeconds = "120";
    const server = fakeServer({ "POST /api/session/keepalive": () => json({ idle_remaining: 1200 }) });
    startIdleWarning({ wipe: () => {} });
    const dialog = document.getElementById("session-warning");
    assert.ok(dialog.open);
    assert.match(dialog.querySelector("[data-session-countdown]").textContent, /^(1 minute|5\d seconds)/);
    dialog.querySelector("[data-session-stay]").click();
    await settle(10);
    assert.equal(server.requests[0].url, "/api/session/keepalive");
    assert.equal(dialog.open, false);
  });
});

describe("lib/steps.js and lib/recovery-code.js", () => {
  const partial = readFileSync(new URL("../../templates/partials/recovery_code.html", import.meta.url), "utf8")
    .replace(/\{#[\s\S]*?#\}/g, "")
    .replace(/\{\{[^}]*\}\}/g, "");
  const CODE = "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345-6789-ABCD-EFGH-JKMN-PQRS-TV12";

  test("one step at a time, focus on its heading", () => {
    const body = page(`<div id="r">${partial}<section data-step="working" hidden><h2 tabindex="-1">Working</h2>
        <p id="working-status"></p><p id="working-alert"></p><div id="working-retry-actions"></div></section></div>`);
    const root = body.querySelector("#r");
    showStep(root, "save-code");
    assert.equal(root.querySelector('[data-step="save-code"]').hidden, false);
    assert.equal(root.querySelector('[data-step="check-code"]').hidden, true);
    assert.equal(document.activeElement.id, "save-code-heading");
    showWorking(root, "Securing…");
    assert.equal(root.querySelector('[data-step="working"]').hidden, false);
    assert.equal(root.querySelector("#working-retry-actions").hidden, true);
  });

  test("a failed working step says why and offers to try again", async () => {
    const body = page(`<div id="r"><section data-step="working"><p id="working-status">Saving…</p>
        <p id="working-alert"></p><div id="working-retry-actions" hidden>
        <button id="working-retry">Try again</button></div></section></div>`);
    const root = body.querySelector("#r");
    const retry = showWorkingFailed(root, "It did not work.");
    await settle(60);
    assert.equal(root.querySelector("#working-status").textContent, "");
    assert.equal(root.querySelector("#working-alert").textContent, "It did not work.");
    assert.equal(root.querySelector("#working-retry-actions").hidden, false);
    assert.equal(document.activeElement, retry);
  });

  test("the code is shown once, then two of its groups must be typed back", async () => {
    const body = page(`<div id="r">${partial}</div>`);
    const root = body.querySelector("#r");
    let confirmed = 0;
    const ui = recoveryCodeUI(root, { onConfirmed: () => (confirmed += 1) });
    ui.present(CODE);
    const shown = root.querySelector("[data-recovery-code]").textContent;
    assert.match(shown, /ABCD/);
    root.querySelector("[data-recovery-saved]").click();
    const [first, second] = [...root.querySelectorAll("[data-recovery-group-number]")].map((n) => Number(n.textContent));
    const groups = CODE.split("-");
    const [a, b] = root.querySelectorAll("[data-recovery-group-input]");
    const form = root.querySelector("[data-recovery-check]");
    a.value = "ZZZZ";
    b.value = groups[second - 1];
    form.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await settle();
    assert.equal(confirmed, 0);
    a.value = groups[first - 1].toLowerCase();
    form.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await settle();
    assert.equal(confirmed, 1);
    ui.wipe();
    assert.equal(root.querySelector("[data-recovery-code]").textContent, "");
  });
});
