// Talking to the portal's JSON API. Only client modules (static/js/client/, media/) call this:
// pages never fetch.
//
// Every call sends the CSRF token from <meta name="csrf-token"> in the X-CSRF-Token header and
// the cookies of this origin only. Failures of any kind become an ApiError whose message is a
// plain sentence (lib/errors.js): the server's own sentence when it sent one, otherwise ours.
// Nothing here logs, and no request body is kept.
//
// Every answered request (except those made with {extendsSession: false}) fires a
// `portal:server-contact` event on document, so the idle-session warning (lib/idle.js) restarts
// its timer: the server counts any request as activity, and only requests, never key presses.

import { ApiError, GENERIC_MESSAGE, NETWORK_MESSAGE } from "./errors.js";

export function csrfToken() {
  const meta = globalThis.document?.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

/** After signing in or joining: the new session's token, for this page's next requests. */
export function setCsrfToken(token) {
  const meta = globalThis.document?.querySelector('meta[name="csrf-token"]');
  if (meta && typeof token === "string" && token) meta.content = token;
}

export function getJSON(url, options = {}) {
  return request("GET", url, undefined, options);
}

export function postJSON(url, body = {}, options = {}) {
  return request("POST", url, body, options);
}

export function putJSON(url, body = {}, options = {}) {
  return request("PUT", url, body, options);
}

export function deleteJSON(url, options = {}) {
  return request("DELETE", url, undefined, options);
}

/**
 * One request. `body` (an object) is sent as JSON; `keepalive` lets a request outlive the page
 * (a last autosave as the tab is hidden); `signal` cancels it (an AbortError is rethrown as is).
 */
export async function request(
  method,
  url,
  body,
  { extendsSession = true, signal, keepalive = false } = {},
) {
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
  if (extendsSession) serverContact(data);
  if (response.ok && data !== null) return data;
  throw errorFrom(response, data);
}

/** Tell the idle-session warning that the server just counted a request as activity. */
export function serverContact(data = null) {
  const idle = data && Number.isFinite(data.idle_remaining) ? data.idle_remaining : null;
  globalThis.document?.dispatchEvent(
    new CustomEvent("portal:server-contact", { detail: { idleRemaining: idle } }),
  );
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

/** The ApiError for a failed response (also used by the uploader for its raw PUTs). */
export function errorFrom(response, data) {
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
  if (typeof next === "string" && /^\/(?![/\\])/.test(next)) return next;
  return fallback;
}
