// Signing in (templates/accounts/sign_in.html).
//
// 1. POST /api/sign-in/params {sign_in_name} -> the account's salt and Argon2id cost (a name
//    that does not exist gets stable made-up ones, so the answer never says whether it does).
// 2. Derive {authKey, wrapKey} from the password in a Worker (kdf.js).
// 3. POST /api/sign-in {sign_in_name, auth_key} -> the key bundle and this session's key.
// 4. Open the bundle with wrapKey, keep the secret key for this tab (keys.js), go to `next`.
// The password itself is never sent.

import { deriveInWorker, KdfError } from "./crypto/kdf.js";
import { forget, holdSecret, protocol, storeSecretKey, wipeKeys } from "./crypto/keys.js";
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

const form = document.getElementById("sign-in-form");
const nameInput = document.getElementById("sign-in-name");
const passwordInput = document.getElementById("password");
const showPassword = document.getElementById("show-password");
const alertRegion = document.getElementById("sign-in-alert");
const button = document.getElementById("sign-in-button");

// Anyone on this page is signed out: a key left in this tab from an ended session is useless,
// so drop it rather than keep it around.
wipeKeys();
// Load libsodium now, while the person types.
protocol().catch(() => {});

showPassword.addEventListener("change", () => {
  passwordInput.type = showPassword.checked ? "text" : "password";
});

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (!isBusy(button)) signIn();
});

async function signIn() {
  clearErrors(form);
  const name = nameInput.value.trim();
  const password = passwordInput.value;
  const missing = [];
  if (!name) missing.push([nameInput, "Type your sign-in name."]);
  if (!password) missing.push([passwordInput, "Type your password."]);
  if (missing.length) {
    missing.forEach(([input, message], i) => showFieldError(input, message, { focus: i === 0 }));
    return;
  }

  const restore = setBusy(button, "Signing in…");
  let secretKey = null;
  try {
    const params = await postJSON("/api/sign-in/params", { sign_in_name: name });
    const keys = await deriveInWorker(password, params.salt, params.ops, params.mem);
    const answer = await postJSON("/api/sign-in", { sign_in_name: name, auth_key: keys.authKey });
    const p = await protocol();
    const wrapKey = p.b64decode(keys.wrapKey);
    try {
      secretKey = holdSecret(
        p.unwrapSecretKey(wrapKey, answer.account_id, p.b64decode(answer.bundle)),
      );
    } finally {
      wrapKey.fill(0);
    }
    await storeSecretKey(answer.account_id, secretKey, answer.session_key);
    clearSecretInputs(passwordInput);
    // Replace, not push: the portal keeps one history entry (see lib/navigation.js).
    location.replace(safeNext(answer.next));
  } catch (error) {
    restore();
    showSignInError(error);
  } finally {
    forget(secretKey);
  }
}

function showSignInError(error) {
  if (error instanceof ApiError && error.status === 429) {
    showAlert(alertRegion, error.message);
    holdOff(button, error.retryAfter || 60);
    return;
  }
  if (error instanceof ApiError && error.status === 401) {
    // The server's sentence never says which of the two was wrong.
    clearSecretInputs(passwordInput);
    showAlert(alertRegion, error.message);
    passwordInput.focus();
    return;
  }
  if (error instanceof ApiError && error.field === "sign_in_name") {
    showFieldError(nameInput, error.message);
    return;
  }
  if (error instanceof ApiError || error instanceof KdfError) {
    showAlert(alertRegion, error.message);
    return;
  }
  // The server accepted the password but the key bundle did not open: not something the
  // person can fix by typing again.
  showAlert(
    alertRegion,
    "Your account's keys could not be opened on this device. Please try again, and if it " +
      "keeps happening, tell your facilitator.",
  );
}

window.addEventListener("pagehide", () => clearSecretInputs(passwordInput));
