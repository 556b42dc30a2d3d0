// lib/pages.js, lib/placeholders.js and lib/sealed-forms.js, in a jsdom document.
import { page, settle } from "./support/dom.mjs";

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ShowableError } from "../../static/js/lib/errors.js";
import { InputProblem } from "../../static/js/lib/forms.js";
import { mountWithin, registerPage } from "../../static/js/lib/pages.js";
import { openPlaceholders, registerOpener } from "../../static/js/lib/placeholders.js";
import { fieldFor } from "../../static/js/lib/responses.js";
import {
  enableReadyForms,
  fieldsObject,
  registerCheck,
  registerSealer,
  sealedBody,
  sealedExtension,
} from "../../static/js/lib/sealed-forms.js";

describe("lib/pages.js", () => {
  test("a page mounts once per element, including elements swapped in later", async () => {
    page('<div data-page="counter" id="one"></div>');
    const mounted = [];
    registerPage("counter", (root) => mounted.push(root.id));
    await settle();
    assert.deepEqual(mounted, ["one"]);
    mountWithin(document);
    assert.deepEqual(mounted, ["one"]);
    const later = document.createElement("section");
    later.innerHTML = '<div data-page="counter" id="two"></div>';
    document.body.append(later);
    document.body.dispatchEvent(new Event("noop"));
    later.dispatchEvent(new CustomEvent("htmx:load", { bubbles: true }));
    assert.deepEqual(mounted, ["one", "two"]);
    assert.throws(() => registerPage("counter", () => {}), /registered twice/);
  });

  test("a page whose mount fails says so calmly in its alert region", async () => {
    page('<div data-page="broken"><p class="form-alert" role="alert"></p></div>');
    registerPage("broken", async () => {
      throw new Error("bug");
    });
    await settle();
    const root = document.querySelector('[data-page="broken"]');
    assert.ok(root.hasAttribute("data-page-failed"));
    assert.match(root.querySelector(".form-alert").textContent, /could not be made ready/);
    assert.doesNotMatch(root.textContent, /bug/);
  });
});

describe("lib/placeholders.js", () => {
  test("each placeholder is opened once by its kind's opener; failures are marked", async () => {
    page(`<span data-sealed="name" data-cipher="a">Person harmed</span>
          <span data-sealed="name" data-cipher="bad">Person responsible</span>
          <span data-sealed="later">…</span>`);
    const calls = [];
    registerOpener("name", async (element) => {
      calls.push(element.dataset.cipher);
      if (element.dataset.cipher === "bad") throw new Error("does not open");
      element.textContent = "Sam";
    });
    await settle();
    await openPlaceholders(document);
    assert.deepEqual(calls, ["a", "bad"]);
    const [good, bad, later] = document.querySelectorAll("[data-sealed]");
    assert.equal(good.textContent, "Sam");
    assert.equal(good.dataset.sealedState, "open");
    assert.equal(bad.dataset.sealedState, "failed");
    assert.equal(bad.textContent, "Person responsible");
    assert.equal(later.dataset.sealedState, undefined); // no opener yet: waits for one
    registerOpener("later", (element) => {
      element.textContent = "opened";
    });
    await settle();
    assert.equal(later.textContent, "opened");
  });
});

/** What htmx hands an extension for htmx:confirm, recording whether the request was issued. */
function confirmEvent(form, submitter = null) {
  const event = {
    issued: null,
    prevented: false,
    detail: {
      elt: form,
      triggeringEvent: { submitter },
      issueRequest(skip) {
        event.issued = skip;
      },
    },
    preventDefault() {
      event.prevented = true;
    },
  };
  return event;
}

describe("lib/sealed-forms.js", () => {
  const FORM = `<form id="f" hx-post="/api/x" data-seal="note">
      <input type="radio" name="decision" value="return" checked>
      <textarea id="words">secret words</textarea><p class="field-error" id="words-error"></p>
      <p class="form-alert" role="alert"></p>
      <button type="submit">Return it</button></form>`;

  test("named fields become one object; a name given twice becomes a list", () => {
    const data = new FormData();
    data.append("formats", "letter");
    data.append("formats", "audio");
    data.append("side", "person_harmed");
    assert.deepEqual(fieldsObject(data), { formats: ["letter", "audio"], side: "person_harmed" });
    assert.deepEqual(sealedBody(data, { side: "x", grant: "g" }), {
      formats: ["letter", "audio"],
      side: "x",
      grant: "g",
    });
  });

  test("a sealed form sends the sealer's answer as JSON and never the secret words", async () => {
    page(FORM);
    const form = document.getElementById("f");
    registerSealer("note", async (sealedForm) => ({
      feedback: { sealed: `ciphertext of ${sealedForm.querySelector("textarea").value.length}` },
    }));
    const event = confirmEvent(form);
    assert.equal(sealedExtension.onEvent("htmx:confirm", event), false);
    assert.ok(event.prevented);
    await settle();
    assert.equal(event.issued, true);
    const config = { detail: { elt: form, headers: {} } };
    sealedExtension.onEvent("htmx:configRequest", config);
    assert.equal(config.detail.headers["Content-Type"], "application/json");
    const body = sealedExtension.encodeParameters(null, new FormData(form), form);
    assert.deepEqual(JSON.parse(body), { decision: "return", feedback: { sealed: "ciphertext of 12" } });
    assert.doesNotMatch(body, /secret words/);
    // The answer is used once: a later plain request is not rewritten.
    assert.equal(sealedExtension.encodeParameters(null, new FormData(form), form), null);
  });

  test("a sealer's InputProblem points at the field and nothing is sent", async () => {
    page(FORM);
    const form = document.getElementById("f");
    registerSealer("note", async () => {
      throw new InputProblem([[document.getElementById("words"), "Please write something."]]);
    });
    const event = confirmEvent(form);
    sealedExtension.onEvent("htmx:confirm", event);
    await settle();
    assert.equal(event.issued, null);
    assert.equal(document.getElementById("words-error").textContent, "Please write something.");
    assert.equal(form.querySelector("button").textContent, "Return it");
  });

  test("a sealer's other failure is said in the form's alert region", async () => {
    page(FORM);
    const form = document.getElementById("f");
    registerSealer("note", async () => {
      throw new ShowableError("The case key could not be unlocked.");
    });
    const event = confirmEvent(form);
    sealedExtension.onEvent("htmx:confirm", event);
    await settle(80);
    assert.equal(event.issued, null);
    assert.equal(form.querySelector(".form-alert").textContent, "The case key could not be unlocked.");
  });

  test("a form that asks first sends nothing when the person goes back", async () => {
    page(`<form id="c" hx-post="/api/close" data-confirm-heading="Close this case?"
            data-confirm-button="Yes, close it"><button type="submit">Close</button></form>`);
    const form = document.getElementById("c");
    const event = confirmEvent(form);
    sealedExtension.onEvent("htmx:confirm", event);
    await settle();
    document.querySelector('[data-confirm-answer="no"]').click();
    await settle();
    assert.equal(event.issued, null);
    const again = confirmEvent(form);
    sealedExtension.onEvent("htmx:confirm", again);
    await settle();
    document.querySelector('[data-confirm-answer="yes"]').click();
    await settle();
    assert.equal(again.issued, true);
    // Not sealed: htmx encodes the form as usual.
    assert.equal(sealedExtension.encodeParameters(null, new FormData(form), form), null);
  });

  test("a plain form with data-busy-text says it is working and is sent once", async () => {
    page(`<form id="w" hx-post="/api/withdraw" data-busy-text="Withdrawing…">
            <button type="submit">Yes, withdraw</button></form>`);
    const form = document.getElementById("w");
    const button = form.querySelector("button");
    const event = confirmEvent(form);
    assert.equal(sealedExtension.onEvent("htmx:confirm", event), false);
    await settle();
    assert.equal(event.issued, true);
    assert.equal(button.textContent, "Withdrawing…");
    // A second press while the first is on its way sends nothing.
    const again = confirmEvent(form);
    sealedExtension.onEvent("htmx:confirm", again);
    await settle();
    assert.equal(again.issued, null);
    // Refused (no HX-Redirect): the button comes back for another try.
    const xhr = { getResponseHeader: () => null };
    sealedExtension.onEvent("htmx:afterRequest", { detail: { elt: form, xhr } });
    assert.equal(button.textContent, "Yes, withdraw");
    assert.equal(sealedExtension.encodeParameters(null, new FormData(form), form), null);
  });

  test("a check runs before the question: it stops an unfinished form, or finishes the words", async () => {
    page(`<form id="q" hx-post="/api/return" data-seal="checked" data-confirm-heading="Return it?"
            data-confirm-text="It goes back to the writer." data-confirm-button="Yes, return it">
            <textarea id="why"></textarea><p class="field-error" id="why-error"></p>
            <p class="form-alert" role="alert"></p><button type="submit">Continue</button></form>`);
    const form = document.getElementById("q");
    const why = document.getElementById("why");
    let sealed = 0;
    registerSealer("checked", async () => {
      sealed += 1;
      return { feedback: "ciphertext" };
    });
    registerCheck("checked", async () => {
      if (!why.value) throw new InputProblem([[why, "Write your feedback for the writer."]]);
      return { text: "It goes back to Sam." };
    });
    const unfinished = confirmEvent(form);
    sealedExtension.onEvent("htmx:confirm", unfinished);
    await settle();
    assert.equal(document.getElementById("why-error").textContent, "Write your feedback for the writer.");
    assert.equal(document.getElementById("confirm-dialog")?.open ?? false, false);
    assert.equal(unfinished.issued, null);

    why.value = "Shorter, please.";
    const finished = confirmEvent(form);
    sealedExtension.onEvent("htmx:confirm", finished);
    await settle();
    assert.equal(document.getElementById("confirm-dialog-text").textContent, "It goes back to Sam.");
    assert.equal(sealed, 0); // nothing is sealed before the answer
    document.querySelector('[data-confirm-answer="yes"]').click();
    await settle();
    assert.equal(sealed, 1);
    assert.equal(finished.issued, true);
  });

  test("a sealed form's button stays disabled until its sealer is registered", () => {
    page(`<form id="r" hx-post="/api/r" data-seal="late"><button type="submit" disabled data-until-ready>Send</button></form>
          <form id="o" hx-post="/api/o" data-seal="other"><button type="submit" disabled data-until-ready>Other</button></form>`);
    const [send, other] = document.querySelectorAll("button");
    enableReadyForms(document);
    assert.equal(send.disabled, true); // no sealer yet: a press could only say "getting ready"
    registerSealer("late", async () => ({}));
    assert.equal(send.disabled, false);
    assert.equal(send.hasAttribute("data-until-ready"), false);
    assert.equal(other.disabled, true);
    // A form htmx brings in later, once its sealer is known, is enabled where it lands.
    const later = document.createElement("div");
    later.innerHTML = '<form data-seal="late"><button type="submit" disabled data-until-ready>Again</button></form>';
    document.body.append(later);
    enableReadyForms(later);
    assert.equal(later.querySelector("button").disabled, false);
  });

  test("other htmx requests pass through untouched", () => {
    page('<form id="g" hx-get="/queue"></form>');
    const event = confirmEvent(document.getElementById("g"));
    assert.equal(sealedExtension.onEvent("htmx:confirm", event), true);
    assert.equal(event.prevented, false);
  });
});

describe("lib/responses.js", () => {
  const detailFor = (form, field) => ({
    requestConfig: { elt: form },
    xhr: { getResponseHeader: (name) => (name === "X-Field" ? field : null) },
  });

  test("a refusal naming a field is said next to that input, else in the form's alert", () => {
    page(`<form id="n" hx-post="/api/cases">
            <input id="case-reference" name="reference"><p class="field-error" id="case-reference-error"></p>
            <input id="case-label" name="label">
            <textarea id="sealed-words"></textarea><p class="field-error" id="sealed-words-error"></p>
            <p class="form-alert" role="alert"></p><button type="submit">Open</button></form>`);
    const form = document.getElementById("n");
    const field = fieldFor(detailFor(form.querySelector("button"), "reference"));
    assert.equal(field.input.id, "case-reference");
    assert.equal(field.holder.id, "case-reference-error");
    // An input without an error holder, a name the form lacks, or no field at all: the alert.
    assert.equal(fieldFor(detailFor(form, "label")), null);
    assert.equal(fieldFor(detailFor(form, "case_id")), null);
    assert.equal(fieldFor(detailFor(form, null)), null);
  });
});
