// Showing a new recovery code and checking that the person saved it, when joining
// (pages/join.js) and when getting back in with the old code (pages/recover.js). The markup is
// templates/partials/recovery_code.html: two steps, "save-code" and "check-code" (lib/steps.js).
//
// The check asks for two groups of the code, chosen at random, while the code itself is off
// the screen: copying them from the screen would prove nothing. A person who cannot find the
// groups in their copy can go back and look at the code again.

import { showStep } from "./steps.js";

const GROUPS = 13;

/** Upper-case, drop spaces and dashes, read O as 0 and I/L as 1 (the code's own rules). */
function normalise(text) {
  return text
    .toUpperCase()
    .replace(/[\s-]/g, "")
    .replace(/O/g, "0")
    .replace(/[IL]/g, "1");
}

/** Two different group numbers (0-based), in order, chosen at random. */
function pickTwo() {
  const value = new Uint8Array(1);
  const pick = () => {
    // Rejection sampling: 247 is the largest multiple of 13 that fits in a byte (19 * 13).
    do {
      crypto.getRandomValues(value);
    } while (value[0] >= 247);
    return value[0] % GROUPS;
  };
  const first = pick();
  let second = pick();
  while (second === first) second = pick();
  return [first, second].sort((a, b) => a - b);
}

/**
 * Wire up the partial inside `root`. `onConfirmed()` is called once the two groups match.
 * Returns {present(code), wipe()}.
 */
export function recoveryCodeUI(root, { onConfirmed }) {
  const list = root.querySelector("[data-recovery-code]");
  const copyButton = root.querySelector("[data-recovery-copy]");
  const printButton = root.querySelector("[data-recovery-print]");
  const copyStatus = root.querySelector("[data-recovery-copy-status]");
  const savedButton = root.querySelector("[data-recovery-saved]");
  const form = root.querySelector("[data-recovery-check]");
  const showAgain = root.querySelector("[data-recovery-show-again]");
  const inputs = [...form.querySelectorAll("input[data-recovery-group-input]")];
  const labels = [...form.querySelectorAll("[data-recovery-group-number]")];

  let code = "";
  let groups = [];
  let asked = [];

  function present(newCode) {
    code = newCode;
    groups = newCode.split("-");
    asked = pickTwo();
    const items = groups.map((group, index) => {
      const item = document.createElement("li");
      const number = document.createElement("span");
      number.className = "group-number";
      number.textContent = String(index + 1);
      const text = document.createElement("span");
      text.className = "group-text";
      text.textContent = group;
      item.append(number, " ", text);
      return item;
    });
    list.replaceChildren(...items);
    asked.forEach((group, i) => {
      labels[i].textContent = String(group + 1);
      inputs[i].value = "";
      inputs[i].removeAttribute("aria-invalid");
      setError(inputs[i], "");
    });
    copyStatus.textContent = "";
    showStep(root, "save-code");
  }

  function setError(input, message) {
    const holder = document.getElementById(`${input.id}-error`);
    if (holder) holder.textContent = message;
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  function wipe() {
    code = "";
    groups = [];
    list.replaceChildren();
    for (const input of inputs) input.value = "";
    copyStatus.textContent = "";
  }

  copyButton.addEventListener("click", async () => {
    copyStatus.textContent = "";
    try {
      await navigator.clipboard.writeText(code);
      copyStatus.textContent =
        "The code is copied. Paste it somewhere only you can see, then copy something else so " +
        "it does not stay on this device.";
    } catch {
      copyStatus.textContent = "Copying did not work on this device. Please write the code down.";
    }
  });

  printButton.addEventListener("click", () => {
    // The print style sheet shows only the code while this class is set (and, where :has()
    // works, whenever this step is on screen, so the browser's own Print does the same).
    document.documentElement.classList.add("print-recovery");
    window.addEventListener(
      "afterprint",
      () => document.documentElement.classList.remove("print-recovery"),
      { once: true },
    );
    window.print();
  });

  savedButton.addEventListener("click", () => showStep(root, "check-code"));
  showAgain.addEventListener("click", () => showStep(root, "save-code"));

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    let firstWrong = null;
    asked.forEach((group, i) => {
      const typed = normalise(inputs[i].value);
      let message = "";
      if (!typed) {
        message = `Type group ${group + 1} of your recovery code.`;
      } else if (typed !== groups[group]) {
        message =
          `That does not match group ${group + 1}. Check your copy, or choose ` +
          "“Show the code again” to correct it.";
      }
      setError(inputs[i], message);
      if (message && !firstWrong) firstWrong = inputs[i];
    });
    if (firstWrong) {
      firstWrong.focus();
      return;
    }
    for (const input of inputs) input.value = "";
    onConfirmed();
  });

  return { present, wipe };
}
