// Loaded on every page by base.html. Three jobs, and nothing else global:
//   1. quick exit: the "Leave this site" button, or Shift pressed three times;
//   2. one history entry for the whole portal;
//   3. the warning before an idle session ends, on signed-in pages.
// It exports nothing: helpers that pages share live in api.js, keys.js, kdf.js and friends.
//
// One history entry, and why
// --------------------------
// Someone may be made to hand over their phone, or may leave in a hurry. After quick exit,
// pressing Back must not bring the portal back, and the history list must not show a trail of
// portal pages. So the portal never adds to the browser's history: it keeps the one entry made
// when the person arrived, and every move inside the portal *replaces* that entry:
//   - same-origin links are followed with location.replace() instead of a normal click
//     (links marked [data-nav-push], with a target, a download, a modifier key, or only a
//     #fragment keep the browser's normal behaviour);
//   - GET forms are turned into location.replace(action?query);
//   - the sign-out form is sent with fetch() and the page then replaces itself with wherever
//     the server redirected;
//   - pages that run their own forms (sign in, join, ...) finish with location.replace();
//   - htmx requests never push history (hx-push-url must not be used in this portal).
// Quick exit then replaces that single entry with the neutral site, so Back leaves the portal
// behind. Forms that change something on the server use htmx or fetch, not a plain submission,
// which would add an entry.

import { csrfToken, getJSON, postJSON } from "./api.js";
import { wipeKeys } from "./keys.js";

const SIGN_IN_EXPIRED = "/sign-in?reason=expired";
const SIGNED_OUT = "/sign-in?reason=signed-out";

/** Everything this tab keeps: the session store and any key in memory. */
function wipeEverything() {
  wipeKeys();
  try {
    sessionStorage.clear();
  } catch {
    // Storage switched off: nothing was stored.
  }
}

// --- 1. quick exit ---------------------------------------------------------------------------

let leaving = false;

function quickExit() {
  if (leaving) return;
  leaving = true;
  // Blank the page first (CSS: html.exiting body {display: none}), so nothing stays on screen
  // while the rest happens.
  document.documentElement.classList.add("exiting");
  const dialog = document.getElementById("session-warning");
  if (dialog && dialog.open) dialog.close();
  wipeEverything();
  endSessionInBackground();
  location.replace(document.body.dataset.quickExitUrl || "about:blank");
}

/** A beacon survives the page being replaced; fetch with keepalive is the fallback. */
function endSessionInBackground() {
  const body = new URLSearchParams({ csrf_token: csrfToken() });
  let queued = false;
  try {
    queued = navigator.sendBeacon("/session/quick-exit", body);
  } catch {
    queued = false;
  }
  if (!queued) {
    fetch("/session/quick-exit", {
      method: "POST",
      body,
      credentials: "same-origin",
      keepalive: true,
    }).catch(() => {});
  }
}

document.addEventListener(
  "click",
  (event) => {
    if (event.target instanceof Element && event.target.closest("[data-quick-exit]")) {
      event.preventDefault();
      quickExit();
    }
  },
  true,
);

// Shift three times within 1.5 s. Only bare Shift presses count: any other key (Shift+letter
// while typing a capital) starts the count again, and a held-down Shift (auto-repeat) counts
// once. Listened to in the capture phase so that no page script can swallow it.
const SHIFT_PRESSES = 3;
const SHIFT_WINDOW_MS = 1500;
let shiftPresses = [];

document.addEventListener(
  "keydown",
  (event) => {
    if (event.key !== "Shift" || event.ctrlKey || event.altKey || event.metaKey) {
      shiftPresses = [];
      return;
    }
    if (event.repeat) return;
    const now = Date.now();
    shiftPresses = shiftPresses.filter((time) => now - time <= SHIFT_WINDOW_MS);
    shiftPresses.push(now);
    if (shiftPresses.length >= SHIFT_PRESSES) {
      shiftPresses = [];
      quickExit();
    }
  },
  true,
);

// --- 2. one history entry --------------------------------------------------------------------

function sameOrigin(url) {
  return url.origin === location.origin;
}

document.addEventListener("click", (event) => {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  if (!(event.target instanceof Element)) return;
  const link = event.target.closest("a[href]");
  if (!link || link.hasAttribute("download") || link.hasAttribute("data-nav-push")) return;
  if (link.target && link.target !== "_self") return;
  if (link.getAttribute("href").startsWith("#")) return;
  const url = new URL(link.href, location.href);
  if (!sameOrigin(url)) return;
  const samePage = url.pathname === location.pathname && url.search === location.search;
  if (samePage && url.hash) return; // a jump within this page
  event.preventDefault();
  location.replace(url.href);
});

document.addEventListener("submit", (event) => {
  if (event.defaultPrevented) return;
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  if (form.matches("[data-sign-out]")) {
    event.preventDefault();
    signOut(form);
    return;
  }
  // htmx and page scripts handle their own forms (they call preventDefault before this runs).
  const submitter = event.submitter;
  const method = (submitter?.getAttribute("formmethod") || form.method || "get").toLowerCase();
  const target = submitter?.getAttribute("formtarget") || form.target;
  if (method !== "get" || (target && target !== "_self")) return;
  const url = new URL(submitter?.formAction || form.action, location.href);
  if (!sameOrigin(url)) return;
  event.preventDefault();
  let data;
  try {
    data = new FormData(form, submitter);
  } catch {
    data = new FormData(form); // browsers without the submitter argument
  }
  url.search = new URLSearchParams(data).toString();
  location.replace(url.href);
});

/**
 * Sign out: forget the keys here, ask the server to end the session, then replace this page
 * with where the server sent us (the sign-in page). If the request cannot be made, the form is
 * submitted the ordinary way so that signing out still happens.
 */
async function signOut(form) {
  wipeEverything();
  const action = form ? form.action : "/sign-out";
  const body = new URLSearchParams(form ? new FormData(form) : undefined);
  if (!body.has("csrf_token")) body.set("csrf_token", csrfToken());
  try {
    const response = await fetch(action, {
      method: "POST",
      body,
      credentials: "same-origin",
      redirect: "follow",
    });
    if (response.redirected || response.ok) {
      location.replace(response.redirected ? response.url : SIGNED_OUT);
      return;
    }
  } catch {
    // Fall through to the ordinary submission.
  }
  if (form) {
    form.submit();
  } else {
    location.replace(SIGNED_OUT);
  }
}

// --- 3. the idle-session warning -------------------------------------------------------------
//
// The server ends a session after a period without requests. Moving the mouse or typing does
// not count, only requests do: page loads, htmx requests, and calls through api.js (which fire
// "portal:server-contact"). Shortly before the end, the page first asks the server how long is
// really left (another tab may have kept the session going) and only then shows the warning.

function startIdleWarning() {
  const body = document.body;
  const dialog = document.getElementById("session-warning");
  if (!dialog || typeof dialog.showModal !== "function") return;
  const countdown = dialog.querySelector("[data-session-countdown]");
  const stay = dialog.querySelector("[data-session-stay]");
  const leave = dialog.querySelector("[data-session-leave]");
  const idleSeconds = Number.parseInt(body.dataset.idleSeconds, 10) || 0;
  const warningSeconds = Number.parseInt(body.dataset.warningSeconds, 10) || 120;

  // Said aloud only now and then; the visible countdown changes every second.
  const announcer = document.createElement("p");
  announcer.className = "visually-hidden";
  announcer.setAttribute("aria-live", "polite");
  dialog.append(announcer);

  let deadline = Date.now() + idleSeconds * 1000; // when the server will end the session
  let checkTimer = null;
  let tickTimer = null;
  let lastAnnounced = null;

  const secondsLeft = () => Math.max(0, Math.ceil((deadline - Date.now()) / 1000));

  function schedule(remaining) {
    deadline = Date.now() + remaining * 1000;
    window.clearTimeout(checkTimer);
    if (remaining > warningSeconds) {
      closeWarning();
      checkTimer = window.setTimeout(checkServer, (remaining - warningSeconds) * 1000);
    } else {
      openWarning();
    }
  }

  /** Ask the server (without extending the session) how long is left. */
  async function checkServer() {
    let remaining;
    try {
      const status = await getJSON("/api/session/status", { extendsSession: false });
      remaining = Number(status.idle_remaining);
    } catch (error) {
      if (error.status === 401) {
        expire();
        return;
      }
      remaining = secondsLeft(); // cannot reach the server: trust our own clock
    }
    if (remaining <= 0) {
      expire();
    } else {
      schedule(remaining);
    }
  }

  function openWarning() {
    if (!dialog.open) {
      lastAnnounced = null;
      dialog.showModal();
    }
    window.clearInterval(tickTimer);
    tick();
    tickTimer = window.setInterval(tick, 1000);
  }

  function closeWarning() {
    window.clearInterval(tickTimer);
    tickTimer = null;
    if (dialog.open) dialog.close();
  }

  function tick() {
    const left = secondsLeft();
    if (left <= 0) {
      window.clearInterval(tickTimer);
      tickTimer = null;
      checkServer(); // the last word is the server's: another tab may have kept it going
      return;
    }
    if (countdown) countdown.textContent = describe(left);
    const minuteMark = left % 60 === 0 || left === 30 || left === 10;
    if (lastAnnounced === null || (minuteMark && left !== lastAnnounced)) {
      lastAnnounced = left;
      announcer.textContent = `You will be signed out in ${describe(left)}.`;
    }
  }

  async function expire() {
    closeWarning();
    wipeEverything();
    // The server rounds the time left down to whole seconds, so it may still count this
    // session for a moment, and the next page load would extend it. End it explicitly, so
    // that what the person is told ("you were signed out") is true.
    const form = document.querySelector("form[data-sign-out]");
    try {
      await fetch(form ? form.action : "/sign-out", {
        method: "POST",
        body: new URLSearchParams({ csrf_token: csrfToken() }),
        credentials: "same-origin",
        redirect: "manual",
      });
    } catch {
      // Offline: the server ends the session on its own a moment later.
    }
    location.replace(SIGN_IN_EXPIRED);
  }

  stay.addEventListener("click", async () => {
    try {
      const answer = await postJSON("/api/session/keepalive", {});
      schedule(Number(answer.idle_remaining) || idleSeconds);
    } catch (error) {
      if (error.status === 401) {
        expire();
      } else {
        announcer.textContent = error.message;
      }
    }
  });

  leave.addEventListener("click", () => {
    closeWarning();
    signOut(document.querySelector("form[data-sign-out]"));
  });

  // Escape closes a dialog; here it means "I am still here", not "ignore the warning".
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    stay.click();
  });

  document.addEventListener("portal:server-contact", (event) => {
    const remaining = event.detail && event.detail.idleRemaining;
    schedule(Number.isFinite(remaining) ? remaining : idleSeconds);
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    const xhr = event.detail && event.detail.xhr;
    if (xhr && xhr.status > 0) schedule(idleSeconds);
  });

  // Timers are slowed down in background tabs and stop while a phone sleeps: look again when
  // the page is shown.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && secondsLeft() <= warningSeconds) {
      checkServer();
    }
  });

  schedule(idleSeconds);
}

/** "1 minute 5 seconds", "2 minutes", "45 seconds". */
function describe(seconds) {
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  const parts = [];
  if (minutes) parts.push(`${minutes} minute${minutes === 1 ? "" : "s"}`);
  if (rest || !minutes) parts.push(`${rest} second${rest === 1 ? "" : "s"}`);
  return parts.join(" ");
}

if (document.body.dataset.signedIn === "true") startIdleWarning();
