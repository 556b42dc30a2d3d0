// Joining the portal (/join) or creating the service manager account (/setup), in
// templates/accounts/join.html; every request and key is client/accounts.js's.
//
// Steps, one on screen at a time:
//   code       the invitation or setup code (startJoin: the account id and role it is for; an
//              invitation is checked against its code before anything else is sent)
//   details    sign-in name and password
//   working    the keys are made in the browser (makeJoinKeys; the KDF runs in a Worker), then
//              the account is created (completeJoin)
//   save-code, check-code   the new recovery code, shown once and checked (lib/recovery-code.js)
//   done       the security number (over both my keys), then Continue
//
// The server cannot say whether a sign-in name is free before the account is created (that
// would let anyone list names), so a taken name is only known at the very end. Then the page
// goes back to the details step asking for another name only: the keys, the password and the
// recovery code already saved do not depend on the name and are kept.

import { forgetKeys, prepare } from "../client/account-keys.js";
import { completeJoin, forgetInvitation, makeJoinKeys, startJoin } from "../client/joining.js";
import { part } from "../lib/dom.js";
import { ApiError, sentenceFor } from "../lib/errors.js";
import {
  clearErrors,
  clearSecretInputs,
  handleSubmit,
  isBusy,
  requireFilled,
  showError,
  showFieldError,
  showFieldErrors,
} from "../lib/forms.js";
import { browserLocation } from "../lib/navigation.js";
import { newPasswordFields } from "../lib/new-password.js";
import { registerPage } from "../lib/pages.js";
import { recoveryCodeUI } from "../lib/recovery-code.js";
import { showStep, showWorking, showWorkingFailed, whileSecuring } from "../lib/steps.js";

const NAME_PATTERN = /^[\p{L}\p{M}\p{N}_.\-' ]{3,64}$/u;
const SECURING_FAILED = "Something went wrong while securing your account. Please try again.";
const NO_FINGERPRINT = "It is shown on the “Your account” page.";

function nameProblem(name) {
  if (!name) return "Choose a sign-in name.";
  if (!NAME_PATTERN.test(name)) {
    return "Use 3 to 64 letters, numbers, spaces, dots, dashes or apostrophes.";
  }
  return null;
}

/** A refusal of the code itself: unknown, expired or used (410), or not a code at all. */
function refusesCode(error) {
  return error instanceof ApiError && (error.status === 410 || error.field === "code");
}

/** The code from a link's #code=… (or the setup link's #token=…), taken out of the address bar. */
function codeFromFragment() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const code = fragment.get("code") || fragment.get("token") || "";
  if (location.hash) {
    // The code is a secret: do not leave it in the address bar, where it could be seen.
    history.replaceState(null, "", location.pathname + location.search);
  }
  return code.trim();
}

function mount(root) {
  const $ = (id) => part(root, id);
  const isSetup = root.dataset.purpose === "setup";
  const codeForm = $("code-form");
  const codeInput = $("invitation-code");
  const detailsForm = $("details-form");
  const nameInput = $("sign-in-name");
  const password = newPasswordFields(root, { userWords: () => [nameInput.value.trim()] });

  const state = {
    invitation: null, // startJoin's answer, with the code
    keys: null, // makeJoinKeys's keys: kept until the account exists
    next: "/home",
  };
  const recovery = recoveryCodeUI(root, { onConfirmed: complete });
  prepare();

  // --- the code ---------------------------------------------------------------------------

  handleSubmit(codeForm, {
    button: codeForm.querySelector('button[type="submit"]'),
    busyText: "Checking…",
    problems: () =>
      requireFilled([
        [codeInput, isSetup ? "Type your setup code." : "Type your invitation code."],
      ]),
    async send() {
      // An invitation is checked against its code before anything else is sent; one that does
      // not match is refused (NotGenuine: its calm sentence shows in the code step's alert).
      const invitation = await startJoin(codeInput.value.trim(), { setup: isSetup });
      // A different invitation: keys made for the old one are bound to its account id.
      if (state.keys && state.invitation.accountId !== invitation.accountId) discardKeys();
      forgetInvitation(state.invitation);
      state.invitation = invitation;
      $("join-role").textContent = invitation.roleLabel;
      showDetails();
    },
    refused(error) {
      if (refusesCode(error)) showFieldError(codeInput, error.message);
      else showError(error, { alert: $("code-alert") });
    },
  });

  function useCodeFromLink() {
    const fromLink = codeFromFragment();
    if (!fromLink) return;
    codeInput.value = fromLink;
    showStep(root, "code", { focus: false });
    codeForm.requestSubmit();
  }

  // --- name and password ------------------------------------------------------------------

  /** With keys already made, only the name is asked for (see the comment at the top). */
  function showDetails({ focus = true } = {}) {
    $("join-password-fields").hidden = state.keys !== null;
    $("join-keeping-password").hidden = state.keys === null;
    showStep(root, "details", { focus });
  }

  detailsForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (isBusy(detailsForm.querySelector('button[type="submit"]'))) return;
    clearErrors(detailsForm);
    const problems = [];
    const badName = nameProblem(nameInput.value.trim());
    if (badName) problems.push([nameInput, badName]);
    if (state.keys === null) problems.push(...password.problems());
    if (showFieldErrors(problems)) return;
    if (state.keys === null) makeKeys();
    else complete();
  });

  // --- keys and the recovery code ---------------------------------------------------------

  function makeKeys() {
    const work = async () => {
      const made = await makeJoinKeys(state.invitation, password.password.value);
      state.keys = made.keys;
      // The password has done its job; from here on only derived keys exist.
      password.clear();
      recovery.present(made.recoveryCode);
    };
    return whileSecuring(root, work, () => {
      // Back to the details, with the password still typed in, so trying again is one press.
      state.keys = null;
      showDetails();
      return $("details-alert");
    });
  }

  function discardKeys() {
    forgetKeys(state.keys);
    state.keys = null;
    recovery.wipe();
  }

  // --- the account ------------------------------------------------------------------------

  async function complete() {
    showWorking(root, "Creating your account…");
    let done;
    try {
      done = await completeJoin(state.invitation, nameInput.value.trim(), state.keys);
    } catch (error) {
      showCompleteError(error);
      return;
    }
    // The account exists and this browser is signed in; nothing below may offer to try again.
    state.next = done.next;
    $("account-fingerprint").textContent = done.fingerprint ?? NO_FINGERPRINT;
    $("rekey-done").hidden = state.invitation.purpose !== "rekey";
    discardKeys();
    clearSecretInputs(codeInput);
    forgetInvitation(state.invitation);
    state.invitation = null;
    showStep(root, "done");
  }

  function showCompleteError(error) {
    if (error instanceof ApiError && error.field === "sign_in_name") {
      showDetails({ focus: false });
      showFieldError(nameInput, error.message);
    } else if (refusesCode(error)) {
      showStep(root, "code", { focus: false });
      showFieldError(codeInput, error.message);
    } else {
      showWorkingFailed(root, sentenceFor(error, SECURING_FAILED));
    }
  }

  $("working-retry").addEventListener("click", () => complete());
  $("join-continue").addEventListener("click", () => browserLocation.replace(state.next));

  // Leaving the page (including quick exit) must not leave secrets in a cached page.
  window.addEventListener("pagehide", () => {
    password.clear();
    clearSecretInputs(codeInput);
    recovery.wipe();
  });

  useCodeFromLink();
  // A link with a code opened while this page is already showing changes only the fragment.
  window.addEventListener("hashchange", useCodeFromLink);
}

registerPage("join", mount);
