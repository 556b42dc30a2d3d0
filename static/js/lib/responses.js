// What happens when an htmx request comes back, for every page in one place.
//
//   HX-Redirect   the action is done and the server names the next page: go there by
//                 *replacing* this history entry (the portal keeps one; lib/navigation.js),
//                 never with htmx's default, which would add one.
//   4xx           the server's sentence (templates/partials/form_error.html) goes next to the
//                 input it is about when the answer names one (X-Field, the input's name) and the
//                 form shows that input with its error holder (lib/forms.js markup contract);
//                 otherwise into the alert region of the form that asked (lib/sealed-forms.js
//                 alertRegionOf), or the page's [data-page-alert]; nothing else on the page
//                 changes.
//   5xx, network  a calm sentence in the same place; the server has already kept nothing.

import { say } from "./dom.js";
import { GENERIC_MESSAGE, NETWORK_MESSAGE } from "./errors.js";
import { safeNext } from "./http.js";
import { browserLocation } from "./navigation.js";
import { alertRegionOf } from "./sealed-forms.js";

/**
 * The alert region for a request's answer. htmx sets detail.elt to the element an event is
 * dispatched on, which for htmx:beforeSwap is the swap target (hx-target="#main"), not the form
 * that asked; requestConfig.elt is always the form.
 */
function alertFor(detail) {
  const element = detail.requestConfig?.elt || detail.elt;
  const region = element instanceof Element ? alertRegionOf(element) : null;
  return region || document.querySelector("[data-page-alert]");
}

/**
 * The input a 4xx answer is about, with its error holder: the asking form's visible input whose
 * name the server gave in X-Field. Null when the answer names none or the form has no such
 * input (a sealed field has no name: its sentence goes to the form's alert region).
 */
export function fieldFor(detail) {
  const name = detail.xhr?.getResponseHeader("X-Field");
  const form = detail.requestConfig?.elt?.closest?.("form");
  if (!name || !form) return null;
  const input = [...form.elements].find((element) => element.name === name);
  if (!input || !input.id || input.closest("[hidden]")) return null;
  const holder = document.getElementById(`${input.id}-error`);
  return holder ? { input, holder } : null;
}

export function startResponses() {
  document.addEventListener("htmx:beforeOnLoad", (event) => {
    const next = event.detail.xhr?.getResponseHeader("HX-Redirect");
    if (!next) return;
    event.preventDefault();
    browserLocation.replace(safeNext(next));
  });

  document.addEventListener("htmx:beforeSwap", (event) => {
    const status = event.detail.xhr?.status || 0;
    if (status < 400 || status >= 500) return;
    const field = fieldFor(event.detail);
    const region = field ? field.holder : alertFor(event.detail);
    if (!region) return;
    if (field) {
      field.input.setAttribute("aria-invalid", "true");
      field.input.focus();
    }
    event.detail.shouldSwap = true;
    event.detail.isError = false;
    event.detail.target = region;
    event.detail.swapOverride = "innerHTML";
    // The sentence is the whole answer: an hx-select meant for a page (hx-select="#main") would
    // find nothing in it and swap in nothing.
    event.detail.selectOverride = "unset";
  });

  document.addEventListener("htmx:responseError", (event) => {
    say(alertFor(event.detail), GENERIC_MESSAGE);
  });

  document.addEventListener("htmx:sendError", (event) => {
    say(alertFor(event.detail), NETWORK_MESSAGE);
  });
}
