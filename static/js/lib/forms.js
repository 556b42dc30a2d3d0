// Showing what happened in forms: field errors, form alerts, busy buttons.
//
// Markup contract (templates/partials/): every input has an error element with the id
// "<input id>-error" and class "field-error", always present and listed in the input's
// aria-describedby, so the message is read with the field; it is also a polite live region, so
// it is announced when it appears. A form-level message goes to an element with role="alert"
// (class "form-alert"), kept in the page and emptied rather than hidden, because screen readers
// only announce changes to live regions that already exist.

import { say } from "./dom.js";
import { ApiError, ShowableError, sentenceFor } from "./errors.js";

/**
 * What the person typed needs changing before anything can be sent: [input, sentence] pairs,
 * and optionally a sentence for the whole form. Thrown by sealers and page checks.
 */
export class InputProblem extends ShowableError {
  constructor(problems, message = "") {
    super(message);
    this.name = "InputProblem";
    this.problems = problems;
  }
}

export function showFieldError(input, message, { focus = true } = {}) {
  const holder = document.getElementById(`${input.id}-error`);
  if (holder) holder.textContent = message;
  input.setAttribute("aria-invalid", "true");
  if (focus) input.focus();
}

/** Several [input, message] pairs at once; focus goes to the first. */
export function showFieldErrors(problems) {
  problems.forEach(([input, message], i) => showFieldError(input, message, { focus: i === 0 }));
  return problems.length > 0;
}

export const showAlert = say;

export function clearErrors(root) {
  for (const holder of root.querySelectorAll(".field-error")) holder.textContent = "";
  for (const input of root.querySelectorAll('[aria-invalid="true"]')) {
    input.removeAttribute("aria-invalid");
  }
  for (const region of root.querySelectorAll(".form-alert")) region.textContent = "";
}

/**
 * Show any error where it belongs: next to the input the server named, when that input is given
 * in `fields` ({server field name: input}) and visible, otherwise in `alert`.
 */
export function showError(error, { fields = {}, alert = null } = {}) {
  const input = error instanceof ApiError && error.field ? fields[error.field] : null;
  if (input && !input.closest("[hidden]")) {
    showFieldError(input, sentenceFor(error));
  } else {
    showAlert(alert, sentenceFor(error));
  }
}

/**
 * Mark a button as working. aria-disabled (not `disabled`) keeps the button focusable, so
 * keyboard and screen-reader users do not lose their place; callers check isBusy(). Returns a
 * function that restores the button.
 */
export function setBusy(button, busyText) {
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  button.textContent = busyText;
  button.setAttribute("aria-disabled", "true");
  return () => {
    button.textContent = label;
    button.removeAttribute("aria-disabled");
  };
}

export function isBusy(button) {
  return button.getAttribute("aria-disabled") === "true";
}

/**
 * After a 429: keep `button` unusable until `seconds` have passed, showing the time left on it
 * (the alert has already said why). Returns a function that ends the wait early.
 */
export function holdOff(button, seconds) {
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  const until = Date.now() + Math.max(1, seconds) * 1000;
  button.setAttribute("aria-disabled", "true");
  let timer = null;
  const stop = () => {
    window.clearInterval(timer);
    button.textContent = label;
    button.removeAttribute("aria-disabled");
  };
  const tick = () => {
    const left = Math.ceil((until - Date.now()) / 1000);
    if (left <= 0) {
      stop();
      return;
    }
    const minutes = Math.floor(left / 60);
    const rest = String(left % 60).padStart(2, "0");
    button.textContent = `${label} (wait ${minutes}:${rest})`;
  };
  tick();
  timer = window.setInterval(tick, 1000);
  return stop;
}

/**
 * A form the page sends itself (its secret inputs have no name: a client module sends what is
 * derived from them). On submit: nothing while `button` is busy; old errors are cleared;
 * `problems()` ([input, sentence] pairs) are shown and stop it; otherwise the button says
 * `busyText` while `send()` runs. A failure restores the button, then goes to `refused(error)`.
 * Success restores it too, unless `staysBusy` (the page is about to go somewhere else).
 */
export function handleSubmit(
  form,
  { button, busyText, problems = () => [], send, refused, staysBusy = false },
) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (isBusy(button)) return;
    clearErrors(form);
    if (showFieldErrors(problems())) return;
    const restore = setBusy(button, busyText);
    try {
      await send();
    } catch (error) {
      restore();
      refused(error);
      return;
    }
    if (!staysBusy) restore();
  });
}

/**
 * After a 429 (ApiError with status 429): say the server's sentence in `alert` and hold
 * `button` off for the wait it named (a minute if it named none). True when it was one.
 */
export function holdOffIfThrottled(error, { alert, button }) {
  if (!(error instanceof ApiError) || error.status !== 429) return false;
  showAlert(alert, error.message);
  holdOff(button, error.retryAfter || 60);
  return true;
}

/** [input, sentence] pairs for the inputs left empty (spaces alone count as empty). */
export function requireFilled(pairs) {
  return pairs.filter(([input]) => !input.value.trim());
}

/** Empty password and recovery-code inputs once their value has been used. */
export function clearSecretInputs(...inputs) {
  for (const input of inputs) {
    if (input) input.value = "";
  }
}
