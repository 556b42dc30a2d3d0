// The warning before an idle session ends, on signed-in pages.
//
// The server ends a session after a period without requests. Moving the mouse or typing does
// not count, only requests do: page loads, htmx requests, and calls through lib/http.js (which
// fire "portal:server-contact"). Shortly before the end, the page first asks the server how long is
// really left (another tab may have kept the session going) and only then shows the warning.

import { formatSeconds } from "./dates.js";
import { csrfToken, getJSON, postJSON } from "./http.js";
import { browserLocation, signOut } from "./navigation.js";

const SIGN_IN_EXPIRED = "/sign-in?reason=expired";

export function startIdleWarning({ wipe }) {
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
    if (countdown) countdown.textContent = formatSeconds(left);
    const minuteMark = left % 60 === 0 || left === 30 || left === 10;
    if (lastAnnounced === null || (minuteMark && left !== lastAnnounced)) {
      lastAnnounced = left;
      announcer.textContent = `You will be signed out in ${formatSeconds(left)}.`;
    }
  }

  async function expire() {
    closeWarning();
    wipe();
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
    browserLocation.replace(SIGN_IN_EXPIRED);
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
    signOut();
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

