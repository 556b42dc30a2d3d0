// Talking to the portal's JSON API, and showing what it says in forms.
//
// Every call sends the CSRF token from <meta name="csrf-token"> in the X-CSRF-Token header and
// the cookies of this origin only. Failures of any kind become an ApiError whose `message` is a
// plain sentence that can be shown to the person as it is: the server's own sentence when it
// sent one, otherwise one of ours. Nothing here logs, and no request body is kept.
//
// Every answered request (except those made with {extendsSession: false}) fires a
// `portal:server-contact` event on document, so common.js can restart the idle-session timer:
// the server counts any request as activity, and only requests, never key presses.

export const NETWORK_MESSAGE =
  "We could not reach the portal. Check your connection and try again.";
const GENERIC_MESSAGE =
  "Something went wrong and nothing was changed. Please try again in a moment.";

export class ApiError extends Error {
  constructor(message, { status = 0, field = null, retryAfter = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status; // 0 when the portal could not be reached at all
    this.field = field; // the name of the input the sentence is about, if any
    this.retryAfter = retryAfter; // seconds, on 429
  }
}

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

export function postJSON(url, body = {}, options = {}) {
  return request("POST", url, body, options);
}

export function getJSON(url, options = {}) {
  return request("GET", url, undefined, options);
}

export function putJSON(url, body = {}, options = {}) {
  return request("PUT", url, body, options);
}

export function deleteJSON(url, options = {}) {
  return request("DELETE", url, undefined, options);
}

// `keepalive` lets a request outlive the page (a last autosave as the tab is hidden).
async function request(method, url, body, { extendsSession = true, signal, keepalive = false } = {}) {
  const init = {
    method,
    credentials: "same-origin",
    cache: "no-store",
    headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() },
    signal,
    keepalive,
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    if (error && error.name === "AbortError") throw error;
    throw new ApiError(NETWORK_MESSAGE);
  }
  const data = await readJson(response);
  if (extendsSession) {
    const idle = data && Number.isFinite(data.idle_remaining) ? data.idle_remaining : null;
    document.dispatchEvent(
      new CustomEvent("portal:server-contact", { detail: { idleRemaining: idle } }),
    );
  }
  if (response.ok && data !== null) {
    return data;
  }
  throw errorFrom(response, data);
}

async function readJson(response) {
  const type = response.headers.get("content-type") || "";
  if (!type.includes("application/json")) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

function errorFrom(response, data) {
  const retryHeader = Number.parseInt(response.headers.get("retry-after") || "", 10);
  const retryAfter =
    data && Number.isFinite(data.retry_after)
      ? data.retry_after
      : Number.isFinite(retryHeader)
        ? retryHeader
        : null;
  const message =
    data && typeof data.error === "string" && data.error
      ? data.error
      : response.status === 413
        ? "That was too large to send. Nothing was saved."
        : GENERIC_MESSAGE;
  return new ApiError(message, {
    status: response.status,
    field: data && typeof data.field === "string" ? data.field : null,
    retryAfter,
  });
}

/** A `next` address from the server, accepted only if it stays on this site. */
export function safeNext(next, fallback = "/home") {
  if (typeof next === "string" && /^\/(?![/\\])/.test(next)) {
    return next;
  }
  return fallback;
}

// --- showing errors in forms ------------------------------------------------------------------
//
// Markup contract (see the account templates): every input has an error element with the id
// "<input id>-error" and class "field-error", always present and listed in the input's
// aria-describedby, so the message is read with the field; it is also a polite live region, so
// it is announced when it appears. A form-level message goes to an element with role="alert"
// (class "form-alert"), kept in the page and emptied rather than hidden, because screen readers
// only announce changes to live regions that already exist.

export function showFieldError(input, message, { focus = true } = {}) {
  const holder = document.getElementById(`${input.id}-error`);
  if (holder) holder.textContent = message;
  input.setAttribute("aria-invalid", "true");
  if (focus) input.focus();
}

export function showAlert(region, message) {
  if (!region) return;
  // Clearing first makes a repeated identical sentence count as a change and be announced.
  region.textContent = "";
  window.setTimeout(() => {
    region.textContent = message;
  }, 50);
}

export function clearErrors(root) {
  for (const holder of root.querySelectorAll(".field-error")) holder.textContent = "";
  for (const input of root.querySelectorAll('[aria-invalid="true"]')) {
    input.removeAttribute("aria-invalid");
  }
  for (const region of root.querySelectorAll(".form-alert")) region.textContent = "";
}

/**
 * Show an ApiError (or any error) where it belongs: next to the input the server named, when
 * that input is given in `fields` ({server field name: input}), otherwise in `alert`.
 */
export function showError(error, { fields = {}, alert = null } = {}) {
  const message = error instanceof ApiError ? error.message : GENERIC_MESSAGE;
  const input = error instanceof ApiError && error.field ? fields[error.field] : null;
  if (input && !input.closest("[hidden]")) {
    showFieldError(input, message);
  } else {
    showAlert(alert, message);
  }
}

/**
 * Mark a submit button as working. aria-disabled (not `disabled`) keeps the button focusable,
 * so keyboard and screen-reader users do not lose their place; callers check isBusy().
 * Returns a function that restores the button.
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
