// Forms whose words must not leave the browser in clear, and forms that ask before they act.
//
// The server renders such a form as an ordinary htmx form (hx-post="...") and marks it:
//   data-seal="<name>"        its request carries what the sealer named <name> returns, as JSON,
//                             instead of the form's own fields in clear (see below);
//   data-confirm-heading=...  it asks first (lib/confirm.js, confirmFromMarkup);
//   data-busy-text="..."      what its submit button says while sealing and sending (on a
//                             plain htmx form too: the button says it is working, and a second
//                             press sends nothing until the answer is back).
// Inputs holding secret words (a letter, feedback, a note, a name) have NO name attribute, so
// htmx never includes them; only the sealer reads them, and it returns ciphertext and grants.
//
// How: this module is the htmx extension "sealed" (base.html puts hx-ext="sealed" on <body>).
// On htmx:confirm it stops the request, asks the question, awaits the page's sealer, and then
// issues the request itself; encodeParameters sends the form's named fields (plain choices such
// as a radio button) merged with the sealer's answer as one JSON object.
//
// A sealer is registered by the page that owns the form, when it mounts:
//   registerSealer("approve", async (form, submitter) => ({recipient_grant: "...", ...}))
// It may throw an InputProblem (lib/forms.js) to point at fields, or any ShowableError; the form
// then shows the sentence in its alert region and nothing is sent. A sealer may return null to
// send nothing at all (for example when the person went back in a further question of its own).
//
// A page may also register a check under the same name, which runs before the question is asked:
//   registerCheck("approve", async (form, submitter) => ({text: "It will be offered to Hana."}))
// It may throw as a sealer may (then nothing is asked or sent), so that a person is not asked
// "Are you sure?" about a form they have not finished; and it may return {text} (or null): the
// question's words that only the browser knows, such as a name it has unlocked, which replace
// data-confirm-text.

import { confirmFromMarkup, confirmStep } from "./confirm.js";
import { sentenceFor } from "./errors.js";
import { InputProblem, clearErrors, isBusy, setBusy, showAlert, showFieldErrors } from "./forms.js";

const sealers = new Map();
const checks = new Map();
const sealedBodies = new WeakMap(); // form -> the sealer's answer, for the request about to leave
const restorers = new WeakMap(); // form -> restores its busy button when the request ends

export function registerSealer(name, seal) {
  sealers.set(name, seal);
  if (typeof document !== "undefined") enableReadyForms(document);
}

/**
 * The server renders a sealed form's submit button disabled, marked data-until-ready: until the
 * page's module has registered the form's sealer, a press could only say "getting ready" (or,
 * before htmx has loaded, post the form plainly, which the server refuses). This enables the
 * buttons of every form under `root` whose sealer is registered; it runs when a sealer is
 * registered and when htmx brings in new content.
 */
export function enableReadyForms(root) {
  const forms = [...root.querySelectorAll("form[data-seal]")];
  if (root instanceof Element && root.matches("form[data-seal]")) forms.push(root);
  for (const form of forms) {
    if (!sealers.has(form.dataset.seal)) continue;
    for (const button of form.querySelectorAll("[data-until-ready]")) {
      button.disabled = false;
      button.removeAttribute("data-until-ready");
    }
  }
}

export function registerCheck(name, check) {
  checks.set(name, check);
}

/** The form's alert region: [data-form-alert], else its first .form-alert. */
export function alertRegionOf(element) {
  const form = element.closest("form") || element;
  return form.querySelector("[data-form-alert]") || form.querySelector(".form-alert");
}

/** The named fields of a form submission as one object: a name used twice becomes a list. */
export function fieldsObject(parameters) {
  const result = {};
  for (const [name, value] of parameters.entries()) {
    if (typeof value !== "string") continue; // files never travel this way
    if (name in result) {
      result[name] = [].concat(result[name], value);
    } else {
      result[name] = value;
    }
  }
  return result;
}

/** The JSON body: the form's own named fields, then the sealer's answer (which wins). */
export function sealedBody(parameters, sealed) {
  return { ...fieldsObject(parameters), ...sealed };
}

async function prepare(event) {
  const form = event.detail.elt;
  const submitter = event.detail.triggeringEvent?.submitter || null;
  const button = submitter || form.querySelector('[type="submit"]');
  if (button && isBusy(button)) return;
  const alert = alertRegionOf(form);
  clearErrors(form);

  let question = confirmFromMarkup(form);
  const check = form.dataset.seal ? checks.get(form.dataset.seal) : null;
  if (check) {
    try {
      const words = await check(form, submitter);
      if (question && words) question = { ...question, ...words };
    } catch (error) {
      refuse(error, alert);
      return;
    }
  }
  if (question && !(await confirmStep(question))) return;

  let sealed = null;
  const name = form.dataset.seal;
  if (name) {
    const seal = sealers.get(name);
    if (!seal) {
      showAlert(alert, "This page is still getting ready. Please try again in a moment.");
      return;
    }
    const restore = button ? setBusy(button, form.dataset.busyText || "Locking and sending…") : null;
    try {
      sealed = await seal(form, submitter);
    } catch (error) {
      restore?.();
      refuse(error, alert);
      return;
    }
    if (sealed === null) {
      restore?.();
      return;
    }
    sealedBodies.set(form, sealed);
    if (restore) restorers.set(form, restore);
  } else if (button) {
    restorers.set(form, setBusy(button, form.dataset.busyText || button.textContent));
  }
  event.detail.issueRequest(true);
}

/** A check or a sealer said no: point at the fields, or say why in the form's alert region. */
function refuse(error, alert) {
  if (error instanceof InputProblem) {
    showFieldErrors(error.problems);
    if (error.message) showAlert(alert, error.message);
  } else {
    showAlert(alert, sentenceFor(error));
  }
}

/** Whether this module must take over the element's request. */
function handles(element) {
  if (!(element instanceof Element)) return false;
  const { seal, confirmHeading, busyText } = element.dataset;
  return Boolean(seal || confirmHeading || busyText);
}

export const sealedExtension = {
  onEvent(name, event) {
    const element = event.detail?.elt;
    if (name === "htmx:confirm" && handles(element)) {
      event.preventDefault();
      prepare(event);
      return false;
    }
    if (name === "htmx:configRequest" && sealedBodies.has(element)) {
      event.detail.headers["Content-Type"] = "application/json";
    }
    if (name === "htmx:afterRequest" && restorers.has(element)) {
      const navigating = Boolean(event.detail.xhr?.getResponseHeader("HX-Redirect"));
      const restore = restorers.get(element);
      restorers.delete(element);
      if (!navigating) restore();
    }
    return true;
  },
  encodeParameters(xhr, parameters, element) {
    if (!sealedBodies.has(element)) return null;
    const sealed = sealedBodies.get(element);
    sealedBodies.delete(element);
    return JSON.stringify(sealedBody(parameters, sealed));
  },
};

export function installSealedForms(htmx) {
  htmx.defineExtension("sealed", sealedExtension);
  document.addEventListener("htmx:load", (event) => {
    if (event.target instanceof Element) enableReadyForms(event.target);
  });
}
