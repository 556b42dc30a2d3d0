// Getting back into an account with the recovery code (templates/accounts/recover.html); every
// request and key is client/accounts.js's.
//
// Steps, one on screen at a time:
//   start      sign-in name and recovery code (startRecovery: a mistyped code is caught in the
//              browser, without a request; then the recovery bundle is opened with the code)
//   password   a new password
//   working    new keys under a NEW random salt, and a NEW recovery key (makeRecoveryKeys)
//   save-code, check-code   the new recovery code (lib/recovery-code.js)
//   (then)     completeRecovery: the server signs this browser in and ends every other session
//   done       Continue
// The recovery code and the passwords never leave the browser; the secret key stays the same.

import {
  forgetKeys,
  KEYS_NOT_OPENED_WITH_CODE,
  MalformedRecoveryCode,
  prepare,
} from "../client/account-keys.js";
import { completeRecovery, makeRecoveryKeys, startRecovery } from "../client/recovery.js";
import { part } from "../lib/dom.js";
import { ApiError, sentenceFor } from "../lib/errors.js";
import {
  clearErrors,
  clearSecretInputs,
  handleSubmit,
  holdOff,
  holdOffIfThrottled,
  isBusy,
  requireFilled,
  showAlert,
  showFieldError,
  showFieldErrors,
} from "../lib/forms.js";
import { browserLocation } from "../lib/navigation.js";
import { newPasswordFields } from "../lib/new-password.js";
import { registerPage } from "../lib/pages.js";
import { recoveryCodeUI } from "../lib/recovery-code.js";
import { showStep, showWorking, showWorkingFailed, whileSecuring } from "../lib/steps.js";

const NOT_SAVED = "Something went wrong. Please try again.";

function mount(root) {
  const $ = (id) => part(root, id);
  const nameInput = $("sign-in-name");
  const codeInput = $("recovery-code-input");
  const startAlert = $("start-alert");
  const startButton = $("start-button");
  const retryButton = $("working-retry");

  const state = {
    recovery: null, // startRecovery's answer: the account, the old code's proof, the secret key
    wire: null, // the new keys as sent to the server
    next: "/home",
  };
  const password = newPasswordFields(root, { userWords: () => [state.recovery?.name ?? ""] });
  const recovery = recoveryCodeUI(root, { onConfirmed: complete });
  prepare();

  // --- name and recovery code --------------------------------------------------------------

  handleSubmit($("start-form"), {
    button: startButton,
    busyText: "Checking…",
    problems: () =>
      requireFilled([
        [nameInput, "Type your sign-in name."],
        [codeInput, "Type your recovery code."],
      ]),
    async send() {
      const opened = await startRecovery(nameInput.value.trim(), codeInput.value);
      forgetEverything();
      state.recovery = opened;
      clearSecretInputs(codeInput);
      showStep(root, "password");
    },
    refused: showStartError,
  });

  function showStartError(error) {
    if (error instanceof MalformedRecoveryCode) {
      showFieldError(codeInput, error.message);
    } else if (error instanceof ApiError && error.field === "sign_in_name") {
      showFieldError(nameInput, error.message);
    } else if (!holdOffIfThrottled(error, { alert: startAlert, button: startButton })) {
      // 401: "That name and recovery code do not match..." (it never says which one).
      showAlert(startAlert, sentenceFor(error, KEYS_NOT_OPENED_WITH_CODE));
    }
  }

  // --- the new password --------------------------------------------------------------------

  $("password-form").addEventListener("submit", (event) => {
    event.preventDefault();
    clearErrors(event.currentTarget);
    if (!showFieldErrors(password.problems())) makeKeys();
  });

  // --- new keys and the new recovery code ----------------------------------------------------

  function makeKeys() {
    const work = async () => {
      const made = await makeRecoveryKeys(state.recovery, password.password.value);
      state.wire = made.wire;
      password.clear();
      recovery.present(made.recoveryCode);
    };
    return whileSecuring(root, work, () => {
      state.wire = null;
      showStep(root, "password");
      return $("password-alert");
    });
  }

  // --- save the new keys ---------------------------------------------------------------------

  async function complete() {
    showWorking(root, "Saving your new password…");
    try {
      const { next } = await completeRecovery(state.recovery, state.wire);
      state.next = next;
    } catch (error) {
      showCompleteError(error);
      return;
    }
    forgetEverything();
    showStep(root, "done");
  }

  function showCompleteError(error) {
    if (error instanceof ApiError && error.status === 401) {
      // The old code no longer works (used in another tab?): start again from the beginning.
      forgetEverything();
      showStep(root, "start", { focus: false });
      showAlert(startAlert, error.message);
      nameInput.focus();
      return;
    }
    showWorkingFailed(root, sentenceFor(error, NOT_SAVED));
    if (error instanceof ApiError && error.status === 429) {
      holdOff(retryButton, error.retryAfter || 60);
    }
  }

  /** The secret key, the old code's proof and the new keys, and the new code on screen. */
  function forgetEverything() {
    forgetKeys(state.recovery);
    state.recovery = null;
    state.wire = null;
    recovery.wipe();
  }

  retryButton.addEventListener("click", () => {
    if (!isBusy(retryButton)) complete();
  });
  $("recover-continue").addEventListener("click", () => browserLocation.replace(state.next));

  window.addEventListener("pagehide", () => {
    clearSecretInputs(codeInput);
    password.clear();
    recovery.wipe();
  });
}

registerPage("recover", mount);
