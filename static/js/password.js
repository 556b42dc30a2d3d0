// Changing the password (templates/accounts/password.html).
//
// 1. GET /api/account/kdf -> the current salt and cost, and the service's cost for new
//    passwords (new_ops, new_mem; the server refuses anything else).
// 2. Derive the current keys: the auth key proves the current password to the server, and the
//    wrap key opens the account's bundle (also in that answer), so this works in any tab, even
//    one whose session store holds no key (a link opened in a new tab).
// 3. Derive new keys under a NEW random salt, one after the other (two 64 MiB Workers at once
//    could fail on a phone).
// 4. Wrap the same secret key under the new wrap key and POST /api/account/password.
// The secret key, and so everything already shared with this account, stays the same.

import { deriveInWorker } from "./crypto/kdf.js";
import { forget, holdSecret, KeysUnavailable, protocol, storeSecretKey } from "./crypto/keys.js";
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
import { getJSON, postJSON, safeNext } from "./lib/http.js";
import {
  attachPassphraseSuggester,
  attachStrengthMeter,
  newPasswordProblem,
} from "./lib/password-strength.js";

const form = document.getElementById("password-form");
const currentInput = document.getElementById("current-password");
const newInput = document.getElementById("new-password");
const confirmInput = document.getElementById("confirm-password");
const statusRegion = document.getElementById("password-status");
const alertRegion = document.getElementById("password-alert");
const button = document.getElementById("password-button");
const signInName = document.getElementById("password-username").value;

attachStrengthMeter(newInput, document.getElementById("new-password-strength"), {
  userWords: () => [signInName],
});
const suggester = attachPassphraseSuggester(document.getElementById("passphrase-suggester"), [
  newInput,
  confirmInput,
]);
protocol().catch(() => {});

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (!isBusy(button)) changePassword();
});

function validate() {
  const problems = [];
  if (!currentInput.value) problems.push([currentInput, "Type your current password."]);
  const bad = newPasswordProblem(newInput.value, confirmInput.value, [signInName]);
  if (bad) problems.push([bad.which === "password" ? newInput : confirmInput, bad.message]);
  if (!bad && newInput.value === currentInput.value) {
    problems.push([newInput, "The new password is the same as the current one. Choose a different one."]);
  }
  problems.forEach(([input, message], i) => showFieldError(input, message, { focus: i === 0 }));
  return problems.length === 0;
}

async function changePassword() {
  clearErrors(form);
  if (!validate()) return;
  const restore = setBusy(button, "Changing your password…");
  statusRegion.textContent = "Changing your password… this can take a few seconds.";
  let keys = null;
  try {
    const kdf = await getJSON("/api/account/kdf");
    const current = await deriveInWorker(currentInput.value, kdf.salt, kdf.ops, kdf.mem);
    const p = await protocol();
    keys = { accountId: kdf.account_id, secretKey: openBundle(p, current.wrapKey, kdf) };
    const salt = p.b64encode(p.randomBytes(16));
    const ops = kdf.new_ops ?? kdf.ops;
    const mem = kdf.new_mem ?? kdf.mem;
    const fresh = await deriveInWorker(newInput.value, salt, ops, mem);
    const wrapKey = p.b64decode(fresh.wrapKey);
    let bundle;
    try {
      bundle = p.b64encode(p.wrapSecretKey(wrapKey, keys.accountId, keys.secretKey));
    } finally {
      wrapKey.fill(0);
    }
    const answer = await postJSON("/api/account/password", {
      current_auth_key: current.authKey,
      salt,
      ops,
      mem,
      auth_key: fresh.authKey,
      bundle,
    });
    // Keep (or restore, in a new tab) this tab's copy of the key for the same session.
    const session = await getJSON("/api/session", { extendsSession: false });
    await storeSecretKey(keys.accountId, keys.secretKey, answer.session_key || session.session_key);
    clearSecretInputs(currentInput, newInput, confirmInput);
    suggester.clear();
    location.replace(safeNext(answer.next, "/account?changed=password"));
  } catch (error) {
    restore();
    statusRegion.textContent = "";
    showChangeError(error);
  } finally {
    if (keys) forget(keys.secretKey);
  }
}

/** The secret key from the bundle; a wrap key that does not open it means a wrong password. */
function openBundle(p, wrapKeyB64, kdf) {
  const wrapKey = p.b64decode(wrapKeyB64);
  try {
    return holdSecret(p.unwrapSecretKey(wrapKey, kdf.account_id, p.b64decode(kdf.bundle)));
  } catch (error) {
    if (error instanceof p.ProtocolError) {
      throw new ApiError("Your current password is not right. Please try again.", {
        status: 401,
        field: "current_password",
      });
    }
    throw error;
  } finally {
    wrapKey.fill(0);
  }
}

function showChangeError(error) {
  if (error instanceof ApiError && error.field === "current_password") {
    clearSecretInputs(currentInput);
    showFieldError(currentInput, error.message);
    return;
  }
  if (error instanceof ApiError && error.status === 429) {
    showAlert(alertRegion, error.message);
    holdOff(button, error.retryAfter || 60);
    return;
  }
  if (error instanceof KeysUnavailable || error instanceof ApiError) {
    showAlert(alertRegion, error.message);
    return;
  }
  // A KdfError carries its own plain sentence; anything else gets a general one.
  showAlert(
    alertRegion,
    error && error.name === "KdfError"
      ? error.message
      : "Something went wrong and your password was not changed. Please try again.",
  );
}

window.addEventListener("pagehide", () => {
  clearSecretInputs(currentInput, newInput, confirmInput);
  suggester.clear();
});
