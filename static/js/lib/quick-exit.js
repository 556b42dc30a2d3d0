// Quick exit: the "Leave this site" button, or Shift pressed three times.
//
// Someone may be made to hand over their phone, or may leave in a hurry. Quick exit blanks the
// page at once, forgets everything this tab holds (`wipe`, given by main.js: keys and the session
// store), ends the session in the background, and replaces the portal's one history entry with
// a neutral site, so Back leaves the portal behind (lib/navigation.js).

import { csrfToken } from "./http.js";
import { browserLocation } from "./navigation.js";

let leaving = false;
let wipeEverything = () => {};

function quickExit() {
  if (leaving) return;
  leaving = true;
  // Blank the page first (CSS: html.exiting body {display: none}), so nothing stays on screen
  // while the rest happens.
  document.documentElement.classList.add("exiting");
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
  wipeEverything();
  endSessionInBackground();
  browserLocation.replace(document.body.dataset.quickExitUrl || "about:blank");
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

// Shift three times within 1.5 s. Only bare Shift presses count: any other key (Shift+letter
// while typing a capital) starts the count again, and a held-down Shift (auto-repeat) counts
// once.
const SHIFT_PRESSES = 3;
const SHIFT_WINDOW_MS = 1500;

export function startQuickExit({ wipe }) {
  wipeEverything = wipe;
  let shiftPresses = [];
  // Both listeners are in the capture phase, so that no page script can swallow them.
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
}
