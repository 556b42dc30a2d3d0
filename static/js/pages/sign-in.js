// Signing in (templates/accounts/sign_in.html): client/accounts.js signIn derives the keys from
// the password in a Worker, sends only the auth key, opens the key bundle and keeps the key for
// this tab. The password itself is never sent.

import { forgetThisTab, KEYS_NOT_OPENED_HERE, prepare } from "../client/account-keys.js";
import { signIn } from "../client/accounts.js";
import { part } from "../lib/dom.js";
import { ApiError, sentenceFor } from "../lib/errors.js";
import {
  clearSecretInputs,
  handleSubmit,
  holdOffIfThrottled,
  requireFilled,
  showAlert,
  showFieldError,
} from "../lib/forms.js";
import { browserLocation } from "../lib/navigation.js";
import { registerPage } from "../lib/pages.js";

function mount(root) {
  const $ = (id) => part(root, id);
  const nameInput = $("sign-in-name");
  const passwordInput = $("password");
  const showPassword = $("show-password");
  const alert = $("sign-in-alert");
  const button = $("sign-in-button");

  // Anyone on this page is signed out: a key left in this tab from an ended session is useless,
  // so drop it rather than keep it around.
  forgetThisTab();
  prepare();

  showPassword.addEventListener("change", () => {
    passwordInput.type = showPassword.checked ? "text" : "password";
  });

  handleSubmit($("sign-in-form"), {
    button,
    busyText: "Signing in…",
    problems: () =>
      requireFilled([
        [nameInput, "Type your sign-in name."],
        [passwordInput, "Type your password."],
      ]),
    async send() {
      const { next } = await signIn(nameInput.value.trim(), passwordInput.value);
      clearSecretInputs(passwordInput);
      browserLocation.replace(next);
    },
    refused,
    staysBusy: true,
  });

  function refused(error) {
    if (holdOffIfThrottled(error, { alert, button })) return;
    if (error instanceof ApiError && error.status === 401) {
      // The server's sentence never says which of the two was wrong.
      clearSecretInputs(passwordInput);
      showAlert(alert, error.message);
      passwordInput.focus();
    } else if (error instanceof ApiError && error.field === "sign_in_name") {
      showFieldError(nameInput, error.message);
    } else {
      // A bundle that did not open, or anything unexpected once the server had said yes: not
      // something the person can fix by typing again.
      showAlert(alert, sentenceFor(error, KEYS_NOT_OPENED_HERE));
    }
  }

  window.addEventListener("pagehide", () => clearSecretInputs(passwordInput));
}

registerPage("sign-in", mount);
