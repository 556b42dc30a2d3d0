// Joining the portal (/join) or creating the service manager account (/setup).
//
// Steps, one on screen at a time (templates/accounts/join.html):
//   code       the invitation or setup code -> POST /api/join/start (salt, account id, role)
//   details    sign-in name and password
//   working    the browser makes the identity key pair and the recovery key and derives the
//              password keys in a Worker; later also "creating your account"
//   save-code, check-code   the new recovery code, shown once and checked (recovery-code-ui.js)
//   done       POST /api/join/complete has succeeded: the security number, then Continue
//
// Only derived keys leave the browser: auth_key, the wrapped secret key (bundle), the recovery
// auth key and the recovery bundle. The password and the recovery code never do.
//
// The server cannot say whether a sign-in name is free before the account is created (that
// would let anyone list names), so a taken name is only known at the very end. Then the page
// goes back to the details step asking for another name only: the keys, the password and the
// recovery code already saved do not depend on the name and are kept.

import { deriveInWorker, KdfError } from "./crypto/kdf.js";
import { forget, holdSecret, protocol, storeSecretKey } from "./crypto/keys.js";
import { ApiError } from "./lib/errors.js";
import {
  clearErrors,
  clearSecretInputs,
  isBusy,
  setBusy,
  showAlert,
  showError,
  showFieldError,
} from "./lib/forms.js";
import { postJSON, safeNext } from "./lib/http.js";
import {
  attachPassphraseSuggester,
  attachStrengthMeter,
  newPasswordProblem,
} from "./lib/password-strength.js";
import { recoveryCodeUI, showStep, showWorking } from "./lib/recovery-code.js";

const root = document.getElementById("join");
const isSetup = root.dataset.purpose === "setup";

const codeForm = document.getElementById("code-form");
const codeInput = document.getElementById("invitation-code");
const codeAlert = document.getElementById("code-alert");

const detailsForm = document.getElementById("details-form");
const nameInput = document.getElementById("sign-in-name");
const passwordFields = document.getElementById("join-password-fields");
const passwordInput = document.getElementById("new-password");
const confirmInput = document.getElementById("confirm-password");
const keepingPassword = document.getElementById("join-keeping-password");
const detailsAlert = document.getElementById("details-alert");
const roleLabel = document.getElementById("join-role");

const workingStatus = document.getElementById("working-status");
const workingAlert = document.getElementById("working-alert");
const retryActions = document.getElementById("working-retry-actions");
const retryButton = document.getElementById("working-retry");

const fingerprint = document.getElementById("account-fingerprint");
const continueButton = document.getElementById("join-continue");

const NAME_PATTERN = /^[\p{L}\p{M}\p{N}_.\-' ]{3,64}$/u;

const state = {
  code: "",
  invitation: null, // the answer of /api/join/start
  keys: null, // {secretKey, publicKey, wire: {public_key, auth_key, bundle, recovery_auth, recovery_bundle}}
  next: "/home",
};

attachStrengthMeter(passwordInput, document.getElementById("new-password-strength"), {
  userWords: () => [nameInput.value],
});
const suggester = attachPassphraseSuggester(document.getElementById("passphrase-suggester"), [
  passwordInput,
  confirmInput,
]);
const recovery = recoveryCodeUI(root, { onConfirmed: complete });

// Load libsodium while the person reads: it is needed a few steps from now.
protocol().catch(() => {});

// --- step 1: the code ----------------------------------------------------------------------

function codeFromFragment() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const code = fragment.get("code") || fragment.get("token") || "";
  if (location.hash) {
    // The code is a secret: do not leave it in the address bar, where it could be seen.
    history.replaceState(null, "", location.pathname + location.search);
  }
  return code.trim();
}

codeForm.addEventListener("submit", (event) => {
  event.preventDefault();
  checkCode();
});

async function checkCode() {
  const button = codeForm.querySelector('button[type="submit"]');
  if (isBusy(button)) return;
  clearErrors(codeForm);
  const code = codeInput.value.trim();
  if (!code) {
    showFieldError(codeInput, isSetup ? "Type your setup code." : "Type your invitation code.");
    return;
  }
  const restore = setBusy(button, "Checking…");
  try {
    const invitation = await postJSON("/api/join/start", { code });
    if (state.keys && state.invitation && state.invitation.account_id !== invitation.account_id) {
      // A different invitation: keys made for the old one are bound to its account id.
      discardKeys();
    }
    state.code = code;
    state.invitation = invitation;
    roleLabel.textContent = invitation.role_label;
    showDetails();
  } catch (error) {
    if (error instanceof ApiError && (error.status === 410 || error.field === "code")) {
      showFieldError(codeInput, error.message);
    } else {
      showError(error, { alert: codeAlert });
    }
  } finally {
    restore();
  }
}

// --- step 2: name and password -------------------------------------------------------------

/** With keys already made, only the name is asked for (see the comment at the top). */
function showDetails({ focus = true } = {}) {
  const keepKeys = state.keys !== null;
  passwordFields.hidden = keepKeys;
  keepingPassword.hidden = !keepKeys;
  showStep(root, "details", { focus });
}

function nameProblem(name) {
  if (!name) return "Choose a sign-in name.";
  if (!NAME_PATTERN.test(name)) {
    return "Use 3 to 64 letters, numbers, spaces, dots, dashes or apostrophes.";
  }
  return null;
}

detailsForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const button = detailsForm.querySelector('button[type="submit"]');
  if (isBusy(button)) return;
  clearErrors(detailsForm);
  const name = nameInput.value.trim();
  const problems = [];
  const badName = nameProblem(name);
  if (badName) problems.push([nameInput, badName]);
  if (state.keys === null) {
    const bad = newPasswordProblem(passwordInput.value, confirmInput.value, [name]);
    if (bad) problems.push([bad.which === "password" ? passwordInput : confirmInput, bad.message]);
  }
  if (problems.length) {
    problems.forEach(([input, message], i) => showFieldError(input, message, { focus: i === 0 }));
    return;
  }
  if (state.keys === null) {
    makeKeys();
  } else {
    complete();
  }
});

// --- step 3: keys and the recovery code ----------------------------------------------------


async function makeKeys() {
  showWorking(root, "Securing your account… this can take a few seconds.");
  const { account_id: accountId, kdf } = state.invitation;
  let secretKey = null;
  let recoveryKey = null;
  try {
    const p = await protocol();
    const [sk, pk] = p.generateIdentity();
    secretKey = holdSecret(sk);
    recoveryKey = holdSecret(p.generateRecoveryKey());
    const derived = await deriveInWorker(passwordInput.value, kdf.salt, kdf.ops, kdf.mem);
    const wrapKey = p.b64decode(derived.wrapKey);
    let bundle;
    try {
      bundle = p.wrapSecretKey(wrapKey, accountId, secretKey);
    } finally {
      wrapKey.fill(0);
    }
    state.keys = {
      secretKey,
      publicKey: pk,
      wire: {
        public_key: p.b64encode(pk),
        auth_key: derived.authKey,
        bundle: p.b64encode(bundle),
        recovery_auth: p.b64encode(p.recoveryAuthKey(recoveryKey)),
        recovery_bundle: p.b64encode(p.wrapWithRecovery(recoveryKey, accountId, secretKey)),
      },
    };
    const code = p.encodeRecoveryCode(recoveryKey);
    // The password has done its job; from here on only derived keys exist.
    clearSecretInputs(passwordInput, confirmInput);
    suggester.clear();
    recovery.present(code);
  } catch (error) {
    // Back to the details, with the password still typed in, so trying again is one press.
    forget(secretKey);
    state.keys = null;
    showDetails();
    showAlert(detailsAlert, error instanceof KdfError ? error.message : failedMessage(error));
  } finally {
    forget(recoveryKey);
  }
}

function discardKeys() {
  if (state.keys) forget(state.keys.secretKey);
  state.keys = null;
  recovery.wipe();
}

function failedMessage(error) {
  return error instanceof ApiError
    ? error.message
    : "Something went wrong while securing your account. Please try again.";
}

// --- step 4: create the account ------------------------------------------------------------

async function complete() {
  showWorking(root, "Creating your account…");
  const name = nameInput.value.trim();
  let answer;
  try {
    answer = await postJSON("/api/join/complete", {
      code: state.code,
      sign_in_name: name,
      ...state.keys.wire,
    });
  } catch (error) {
    handleCompleteError(error);
    return;
  }
  // The account exists and this browser is signed in; nothing below may offer to try again.
  state.next = safeNext(answer.next);
  try {
    await storeSecretKey(answer.account_id, state.keys.secretKey, answer.session_key);
    const p = await protocol();
    fingerprint.textContent = p.formatFingerprint(p.fingerprintDigits(state.keys.publicKey));
  } catch {
    // Without the stored key the next page asks to sign in again, which still works.
    fingerprint.textContent = "It is shown on the “Your account” page.";
  }
  discardKeys();
  clearSecretInputs(codeInput);
  state.code = "";
  showStep(root, "done");
}

function handleCompleteError(error) {
  if (error instanceof ApiError && error.field === "sign_in_name") {
    showDetails({ focus: false });
    showFieldError(nameInput, error.message);
  } else if (error instanceof ApiError && (error.status === 410 || error.field === "code")) {
    showStep(root, "code", { focus: false });
    showFieldError(codeInput, error.message);
  } else {
    showAlert(workingAlert, failedMessage(error));
    workingStatus.textContent = "";
    retryActions.hidden = false;
    retryButton.focus();
  }
}

retryButton.addEventListener("click", () => complete());

continueButton.addEventListener("click", () => {
  location.replace(state.next);
});

// --- start -----------------------------------------------------------------------------------

// Leaving the page (including quick exit) must not leave secrets in a cached page.
window.addEventListener("pagehide", () => {
  clearSecretInputs(passwordInput, confirmInput, codeInput);
  recovery.wipe();
});

function useCodeFromLink() {
  const fromLink = codeFromFragment();
  if (fromLink) {
    codeInput.value = fromLink;
    showStep(root, "code", { focus: false });
    checkCode();
  }
}

useCodeFromLink();
// A link with a code opened while this page is already showing changes only the fragment.
window.addEventListener("hashchange", useCodeFromLink);
