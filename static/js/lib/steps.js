// Pages that show one step at a time (joining, getting back in with the recovery code): each
// step is a [data-step="<name>"] section, and one of them is the "Securing your account" step
// (templates/partials/working_step.html), shown while keys are made and sent.

import { say } from "./dom.js";
import { sentenceFor } from "./errors.js";

const SECURING = "Securing your account… this can take a few seconds.";
const SECURING_FAILED = "Something went wrong while securing your account. Please try again.";

/**
 * Show the [data-step] section named `name` inside `root`, hide the others, and move focus to
 * its heading so that screen readers announce where the person now is.
 */
export function showStep(root, name, { focus = true } = {}) {
  let shown = null;
  for (const section of root.querySelectorAll("[data-step]")) {
    const active = section.dataset.step === name;
    section.hidden = !active;
    if (active) shown = section;
  }
  if (shown && focus) {
    const heading = shown.querySelector("h2");
    if (heading) heading.focus();
  }
  return shown;
}

/** Show the working step with a status message, clearing any earlier failure. */
export function showWorking(root, message) {
  root.querySelector("#working-retry-actions").hidden = true;
  root.querySelector("#working-alert").textContent = "";
  showStep(root, "working");
  // Set after the section is shown, so that the status region announces it.
  const status = root.querySelector("#working-status");
  status.textContent = "";
  window.setTimeout(() => {
    status.textContent = message;
  }, 50);
}

/**
 * Show the working step while `work()` makes keys (seconds: the KDF). If it fails, `back()`
 * shows the step to go back to and returns that step's alert region, where the reason is said.
 */
export async function whileSecuring(root, work, back) {
  showWorking(root, SECURING);
  try {
    await work();
  } catch (error) {
    say(back(), sentenceFor(error, SECURING_FAILED));
  }
}

/**
 * The working step's request failed in a way trying again may fix: say `message` in its alert,
 * offer "Try again" and move focus to it. Returns the button.
 */
export function showWorkingFailed(root, message) {
  root.querySelector("#working-status").textContent = "";
  say(root.querySelector("#working-alert"), message);
  root.querySelector("#working-retry-actions").hidden = false;
  const retry = root.querySelector("#working-retry");
  retry.focus();
  return retry;
}
