// lib/dom.js, lib/forms.js, lib/new-password.js and lib/confirm.js, in a jsdom document.
import { page, settle } from "./support/dom.mjs";

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { confirmFromMarkup, confirmStep } from "../../static/js/lib/confirm.js";
import { el, focusOn, hiddenText, part, reveal, showText } from "../../static/js/lib/dom.js";
import { ApiError, GENERIC_MESSAGE } from "../../static/js/lib/errors.js";
import {
  InputProblem,
  clearErrors,
  handleSubmit,
  holdOffIfThrottled,
  isBusy,
  requireFilled,
  setBusy,
  showError,
  showFieldError,
  showFieldErrors,
} from "../../static/js/lib/forms.js";
import { newPasswordFields } from "../../static/js/lib/new-password.js";

describe("lib/dom.js", () => {
  test("el sets attributes and text, never markup or handlers", () => {
    const node = el("p", { class: "hint", hidden: true, title: null }, "<b>not bold</b>", el("span", {}, 2));
    assert.equal(node.className, "hint");
    assert.ok(node.hidden);
    assert.equal(node.hasAttribute("title"), false);
    assert.equal(node.querySelector("b"), null);
    assert.equal(node.textContent, "<b>not bold</b>2");
    assert.throws(() => el("a", { onclick: "alert(1)" }));
    assert.throws(() => el("a", { OnClick: "alert(1)" }));
    assert.equal(hiddenText("x").className, "visually-hidden");
  });

  test("showText makes one paragraph per block, as text", () => {
    const holder = el("div");
    showText(holder, "Dear Sam,\r\n\r\nI am sorry.\nTruly.\n\n\n<script>x</script>");
    const paragraphs = [...holder.querySelectorAll("p")].map((p) => p.textContent);
    assert.deepEqual(paragraphs, ["Dear Sam,", "I am sorry.\nTruly.", "<script>x</script>"]);
    assert.equal(holder.querySelector("script"), null);
  });

  test("focusOn and reveal move focus to headings; part finds or throws", () => {
    const body = page('<section id="s" hidden><h2>Next</h2></section>');
    const section = part(body, "s");
    reveal(section);
    assert.equal(section.hidden, false);
    assert.equal(document.activeElement.textContent, "Next");
    assert.equal(document.activeElement.getAttribute("tabindex"), "-1");
    const button = el("button");
    body.append(button);
    focusOn(button);
    assert.equal(button.hasAttribute("tabindex"), false);
    assert.throws(() => part(body, "missing"), /no #missing/);
  });
});

describe("lib/forms.js", () => {
  const FORM = `<form id="f">
      <input id="name"><p class="field-error" id="name-error"></p>
      <input id="code"><p class="field-error" id="code-error"></p>
      <p class="form-alert" role="alert" id="alert"></p>
      <button type="submit" id="go">Send</button></form>`;

  test("field errors are shown, marked and cleared", () => {
    page(FORM);
    const name = document.getElementById("name");
    showFieldError(name, "Type your name.");
    assert.equal(document.getElementById("name-error").textContent, "Type your name.");
    assert.equal(name.getAttribute("aria-invalid"), "true");
    assert.equal(document.activeElement, name);
    const code = document.getElementById("code");
    assert.equal(showFieldErrors([[code, "A"], [name, "B"]]), true);
    assert.equal(document.activeElement, code);
    clearErrors(document.getElementById("f"));
    assert.equal(document.getElementById("name-error").textContent, "");
    assert.equal(name.hasAttribute("aria-invalid"), false);
  });

  test("showError goes next to the field the server named, else to the alert", async () => {
    page(FORM);
    const name = document.getElementById("name");
    const alert = document.getElementById("alert");
    showError(new ApiError("That name is taken.", { field: "sign_in_name" }), {
      fields: { sign_in_name: name },
      alert,
    });
    assert.equal(document.getElementById("name-error").textContent, "That name is taken.");
    showError(new Error("internal detail"), { fields: { sign_in_name: name }, alert });
    await settle(60);
    assert.equal(alert.textContent, GENERIC_MESSAGE);
  });

  test("a busy button keeps focus but says it is working, then comes back", () => {
    page(FORM);
    const button = document.getElementById("go");
    const restore = setBusy(button, "Sending…");
    assert.equal(button.textContent, "Sending…");
    assert.ok(isBusy(button));
    restore();
    assert.equal(button.textContent, "Send");
    assert.equal(isBusy(button), false);
  });

  test("a page-sent form: checked first, busy while sending, once at a time", async () => {
    page(FORM);
    const form = document.getElementById("f");
    const name = document.getElementById("name");
    const button = document.getElementById("go");
    const sent = [];
    const refusals = [];
    let answer = null;
    handleSubmit(form, {
      button,
      busyText: "Sending…",
      problems: () => requireFilled([[name, "Type your name."]]),
      send: () =>
        new Promise((resolve, reject) => {
          sent.push(name.value);
          answer = { resolve, reject };
        }),
      refused: (error) => refusals.push(error.message),
    });
    const submit = () => form.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    submit();
    assert.deepEqual(sent, []);
    assert.equal(document.getElementById("name-error").textContent, "Type your name.");
    name.value = "Sam";
    submit();
    assert.equal(document.getElementById("name-error").textContent, "");
    assert.equal(button.textContent, "Sending…");
    submit(); // pressed again while sending: nothing more is sent
    assert.deepEqual(sent, ["Sam"]);
    answer.reject(new ApiError("Refused."));
    await settle();
    assert.deepEqual(refusals, ["Refused."]);
    assert.equal(isBusy(button), false);
    submit();
    answer.resolve();
    await settle();
    assert.deepEqual(sent, ["Sam", "Sam"]);
    assert.equal(button.textContent, "Send");
  });

  test("empty inputs are named; spaces alone count as empty", () => {
    page(FORM);
    const name = document.getElementById("name");
    const code = document.getElementById("code");
    name.value = "   ";
    code.value = " ABCD ";
    assert.deepEqual(requireFilled([[name, "Type your name."], [code, "Type the code."]]), [
      [name, "Type your name."],
    ]);
  });

  test("after a 429 the sentence is said and the button waits; other errors are left", async () => {
    page(FORM);
    const alert = document.getElementById("alert");
    const button = document.getElementById("go");
    assert.equal(holdOffIfThrottled(new ApiError("Wrong.", { status: 401 }), { alert, button }), false);
    assert.equal(isBusy(button), false);
    const throttled = new ApiError("Too many attempts.", { status: 429, retryAfter: 90 });
    assert.equal(holdOffIfThrottled(throttled, { alert, button }), true);
    await settle(60);
    assert.equal(alert.textContent, "Too many attempts.");
    assert.ok(isBusy(button));
    assert.equal(button.textContent, "Send (wait 1:30)");
  });

  test("an InputProblem carries its pairs", () => {
    const problem = new InputProblem([[null, "x"]], "Please check the form.");
    assert.equal(problem.problems.length, 1);
    assert.equal(problem.message, "Please check the form.");
  });
});

describe("lib/new-password.js", () => {
  const PARTIAL = readFileSync(new URL("../../templates/partials/new_password_fields.html", import.meta.url), "utf8")
    .replace(/\{#[\s\S]*?#\}/g, "")
    .replace(/\{\{[^}]*\}\}/g, "");

  test("the meter and the suggester are set up; problems point at the right input", () => {
    const body = page(`<form>${PARTIAL}</form>`);
    const fields = newPasswordFields(body, { userWords: () => ["river stone"] });
    assert.ok(body.querySelector("#new-password-strength .strength-bar"));
    assert.deepEqual(fields.problems(), [[fields.password, "Choose a password."]]);
    fields.password.value = "correct-horse-battery-staple-river";
    assert.deepEqual(fields.problems(), [[fields.confirm, "Type your password again."]]);
    fields.confirm.value = fields.password.value;
    assert.deepEqual(fields.problems(), []);
  });

  test("a suggested passphrase fills both inputs, and clear() empties them and the words", () => {
    const body = page(`<form>${PARTIAL}</form>`);
    const fields = newPasswordFields(body);
    body.querySelector("#passphrase-suggester button").click();
    assert.ok(fields.password.value.length > 20);
    assert.equal(fields.confirm.value, fields.password.value);
    assert.deepEqual(fields.problems(), []);
    assert.match(body.querySelector(".suggestion").textContent, new RegExp(fields.password.value));
    fields.clear();
    assert.equal(fields.password.value, "");
    assert.equal(fields.confirm.value, "");
    assert.equal(body.querySelector(".suggestion").textContent, "");
  });
});

describe("lib/confirm.js", () => {
  test("the confirming button answers true, and focus returns", async () => {
    const body = page('<button id="start">Close the case</button>');
    const start = document.getElementById("start");
    start.focus();
    const answer = confirmStep({ heading: "Close this case?", text: "It is final.", confirm: "Yes, close it", danger: true });
    const dialog = body.querySelector("dialog");
    assert.ok(dialog.open);
    assert.equal(dialog.querySelector("h2").textContent, "Close this case?");
    const yes = dialog.querySelector('[data-confirm-answer="yes"]');
    assert.equal(yes.className, "button danger");
    assert.equal(document.activeElement.textContent, "Go back"); // the safe answer first
    yes.click();
    assert.equal(await answer, true);
    assert.equal(dialog.open, false);
    assert.equal(document.activeElement, start);
  });

  test("Go back, Escape and a second question all answer false", async () => {
    page("");
    const first = confirmStep({ heading: "One?", confirm: "Yes" });
    const second = confirmStep({ heading: "Two?", confirm: "Yes" });
    assert.equal(await first, false);
    const dialog = document.querySelector("dialog");
    dialog.querySelector('[data-confirm-answer="no"]').click();
    assert.equal(await second, false);
    const third = confirmStep({ heading: "Three?", confirm: "Yes" });
    dialog.dispatchEvent(new Event("cancel", { cancelable: true }));
    assert.equal(await third, false);
  });

  test("a server-rendered element's question comes from its data-confirm attributes", () => {
    page(`<form id="a" data-confirm-heading="Decline it?" data-confirm-text="It will not be shown."
            data-confirm-button="Yes, decline" data-confirm-danger></form><form id="b"></form>`);
    assert.deepEqual(confirmFromMarkup(document.getElementById("a")), {
      heading: "Decline it?",
      text: "It will not be shown.",
      confirm: "Yes, decline",
      cancel: "Go back",
      danger: true,
    });
    assert.equal(confirmFromMarkup(document.getElementById("b")), null);
  });
});
