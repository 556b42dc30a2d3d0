// Getting back into an account with the recovery code (templates/accounts/recover.html).
//
// Steps, one on screen at a time:
//   start      sign-in name and recovery code. The code is checked in the browser first (a
//              mistyped code is caught without a request); then POST /api/recovery/start
//              {sign_in_name, recovery_auth} -> the recovery bundle, opened here with the code.
//   password   a new password
//   working    new keys under a NEW random salt, and a NEW recovery key
//   save-code, check-code   the new recovery code (recovery-code-ui.js)
//   (then)     POST /api/recovery/complete; the server signs this browser in and ends every
//              other session
//   done       Continue
// The recovery code and the passwords never leave the browser; the secret key stays the same.

import { deriveInWorker, KdfError } from "./crypto/kdf.js";
import { forget, holdSecret, protocol, storeSecretKey } from "./crypto/keys.js";
import { ApiError } from "./lib/errors.js";
import {
  clearErrors,
  clearSecretInputs,
  holdOff,
  isBusy,
  setBusy,
  showAlert,
  showFieldError,
} from "./lib/forms.js";
import { postJSON, safeNext } from "./lib/http.js";
import {
  attachPassphraseSuggester,
  attachStrengthMeter,
  newPasswordProblem,
} from "./lib/password-strength.js";
import { recoveryCodeUI, showStep, showWorking } from "./lib/recovery-code.js";

const root = document.getElementById("recover");

const startForm = document.getElementById("start-form");
const nameInput = document.getElementById("sign-in-name");
const codeInput = document.getElementById("recovery-code-input");
const startAlert = document.getElementById("start-alert");
const startButton = document.getElementById("start-button");

const passwordForm = document.getElementById("password-form");
const passwordInput = document.getElementById("new-password");
const confirmInput = document.getElementById("confirm-password");
const passwordAlert = document.getElementById("password-alert");

const workingStatus = document.getElementById("working-status");
const workingAlert = document.getElementById("working-alert");
const retryActions = document.getElementById("working-retry-actions");
const retryButton = document.getElementById("working-retry");
const continueButton = document.getElementById("recover-continue");

const MALFORMED_CODE =
  "That is not a complete recovery code. It has 13 groups of 4 letters and numbers. " +
  "Check it and try again.";

const state = {
  name: "",
  accountId: null,
  recoveryAuth: null, // proves the old code once more at the end
  kdf: null, // {ops, mem} for the new password
  secretKey: null,
  wire: null, // the new keys as sent to the server
  next: "/home",
};

attachStrengthMeter(passwordInput, document.getElementById("new-password-strength"), {
  userWords: () => [state.name],
});
const suggester = attachPassphraseSuggester(document.getElementById("passphrase-suggester"), [
  passwordInput,
  confirmInput,
]);
const recovery = recoveryCodeUI(root, { onConfirmed: complete });
protocol().catch(() => {});

// --- step 1: name and recovery code --------------------------------------------------------

startForm.addEventListener("submit", (event) => {
  event.preventDefault();
  if (!isBusy(startButton)) start();
});

async function start() {
  clearErrors(startForm);
  const name = nameInput.value.trim();
  const missing = [];
  if (!name) missing.push([nameInput, "Type your sign-in name."]);
  if (!codeInput.value.trim()) missing.push([codeInput, "Type your recovery code."]);
  if (missing.length) {
    missing.forEach(([input, message], i) => showFieldError(input, message, { focus: i === 0 }));
    return;
  }
  const restore = setBusy(startButton, "Checking…");
  let recoveryKey = null;
  try {
    const p = await protocol();
    recoveryKey = holdSecret(decodeOrNull(p, codeInput.value));
    if (recoveryKey === null) {
      restore();
      showFieldError(codeInput, MALFORMED_CODE);
      return;
    }
    const recoveryAuth = p.b64encode(p.recoveryAuthKey(recoveryKey));
    const answer = await postJSON("/api/recovery/start", {
      sign_in_name: name,
      recovery_auth: recoveryAuth,
    });
    const secretKey = p.unwrapWithRecovery(
      recoveryKey,
      answer.account_id,
      p.b64decode(answer.recovery_bundle),
    );
    forget(state.secretKey);
    Object.assign(state, {
      name,
      accountId: answer.account_id,
      recoveryAuth,
      kdf: answer.kdf,
      secretKey: holdSecret(secretKey),
    });
    clearSecretInputs(codeInput);
    restore();
    showStep(root, "password");
  } catch (error) {
    restore();
    showStartError(error);
  } finally {
    forget(recoveryKey);
  }
}

/** The recovery key, or null when the text is not a well-formed recovery code. */
function decodeOrNull(p, text) {
  try {
    return p.decodeRecoveryCode(text);
  } catch (error) {
    if (error instanceof p.MalformedInput) return null;
    throw error;
  }
}

function showStartError(error) {
  if (error instanceof ApiError && error.status === 429) {
    showAlert(startAlert, error.message);
    holdOff(startButton, error.retryAfter || 60);
    return;
  }
  if (error instanceof ApiError && error.field === "sign_in_name") {
    showFieldError(nameInput, error.message);
    return;
  }
  if (error instanceof ApiError) {
    // 401: "That name and recovery code do not match..." (it never says which one).
    showAlert(startAlert, error.message);
    return;
  }
  showAlert(
    startAlert,
    "Your account's keys could not be opened with this code. Check the code and try again.",
  );
}

// --- step 2: the new password ----------------------------------------------------------------

passwordForm.addEventListener("submit", (event) => {
  event.preventDefault();
  clearErrors(passwordForm);
  const bad = newPasswordProblem(passwordInput.value, confirmInput.value, [state.name]);
  if (bad) {
    showFieldError(bad.which === "password" ? passwordInput : confirmInput, bad.message);
    return;
  }
  makeKeys();
});

// --- step 3: new keys and the new recovery code ------------------------------------------------


async function makeKeys() {
  showWorking(root, "Securing your account… this can take a few seconds.");
  let recoveryKey = null;
  try {
    const p = await protocol();
    const salt = p.b64encode(p.randomBytes(16));
    const { ops, mem } = state.kdf;
    const derived = await deriveInWorker(passwordInput.value, salt, ops, mem);
    const wrapKey = p.b64decode(derived.wrapKey);
    let bundle;
    try {
      bundle = p.wrapSecretKey(wrapKey, state.accountId, state.secretKey);
    } finally {
      wrapKey.fill(0);
    }
    recoveryKey = holdSecret(p.generateRecoveryKey());
    state.wire = {
      salt,
      ops,
      mem,
      auth_key: derived.authKey,
      bundle: p.b64encode(bundle),
      new_recovery_auth: p.b64encode(p.recoveryAuthKey(recoveryKey)),
      new_recovery_bundle: p.b64encode(
        p.wrapWithRecovery(recoveryKey, state.accountId, state.secretKey),
      ),
    };
    const code = p.encodeRecoveryCode(recoveryKey);
    clearSecretInputs(passwordInput, confirmInput);
    suggester.clear();
    recovery.present(code);
  } catch (error) {
    state.wire = null;
    showStep(root, "password");
    showAlert(
      passwordAlert,
      error instanceof KdfError
        ? error.message
        : "Something went wrong while securing your account. Please try again.",
    );
  } finally {
    forget(recoveryKey);
  }
}

// --- step 4: save the new keys ---------------------------------------------------------------

async function complete() {
  showWorking(root, "Saving your new password…");
  let answer;
  try {
    answer = await postJSON("/api/recovery/complete", {
      sign_in_name: state.name,
      recovery_auth: state.recoveryAuth,
      ...state.wire,
    });
  } catch (error) {
    showCompleteError(error);
    return;
  }
  state.next = safeNext(answer.next);
  try {
    await storeSecretKey(answer.account_id, state.secretKey, answer.session_key);
  } catch {
    // Signed in all the same; a page that needs the key will ask to sign in again.
  }
  forget(state.secretKey);
  state.secretKey = null;
  state.recoveryAuth = null;
  state.wire = null;
  recovery.wipe();
  showStep(root, "done");
}

function showCompleteError(error) {
  workingStatus.textContent = "";
  if (error instanceof ApiError && error.status === 401) {
    // The old code no longer works (used in another tab?): start again from the beginning.
    forget(state.secretKey);
    state.secretKey = null;
    state.wire = null;
    recovery.wipe();
    showStep(root, "start", { focus: false });
    showAlert(startAlert, error.message);
    nameInput.focus();
    return;
  }
  showAlert(
    workingAlert,
    error instanceof ApiError ? error.message : "Something went wrong. Please try again.",
  );
  if (error instanceof ApiError && error.status === 429) {
    holdOff(retryButton, error.retryAfter || 60);
  }
  retryActions.hidden = false;
  retryButton.focus();
}

retryButton.addEventListener("click", () => {
  if (!isBusy(retryButton)) complete();
});

continueButton.addEventListener("click", () => location.replace(state.next));

window.addEventListener("pagehide", () => {
  clearSecretInputs(codeInput, passwordInput, confirmInput);
  recovery.wipe();
});
