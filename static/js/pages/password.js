// Changing the password (templates/accounts/password.html). client/accounts.js changePassword
// proves the current password, re-wraps the same secret key under keys from the new one and
// keeps it for this tab; the passwords are never sent. The secret key, and so everything
// already shared with this account, stays the same.

import { prepare } from "../client/account-keys.js";
import { changePassword } from "../client/accounts.js";
import { part } from "../lib/dom.js";
import { ApiError, sentenceFor } from "../lib/errors.js";
import {
  clearSecretInputs,
  handleSubmit,
  holdOffIfThrottled,
  showAlert,
  showFieldError,
} from "../lib/forms.js";
import { browserLocation } from "../lib/navigation.js";
import { newPasswordFields } from "../lib/new-password.js";
import { registerPage } from "../lib/pages.js";

const NOT_CHANGED = "Something went wrong and your password was not changed. Please try again.";

function mount(root) {
  const $ = (id) => part(root, id);
  const currentInput = $("current-password");
  const status = $("password-status");
  const alert = $("password-alert");
  const button = $("password-button");
  const signInName = $("password-username").value;
  const fresh = newPasswordFields(root, { userWords: () => [signInName] });
  prepare();

  function problems() {
    const found = [];
    if (!currentInput.value) found.push([currentInput, "Type your current password."]);
    found.push(...fresh.problems());
    if (found.length === 0 && fresh.password.value === currentInput.value) {
      found.push([
        fresh.password,
        "The new password is the same as the current one. Choose a different one.",
      ]);
    }
    return found;
  }

  handleSubmit($("password-form"), {
    button,
    busyText: "Changing your password…",
    problems,
    async send() {
      status.textContent = "Changing your password… this can take a few seconds.";
      const { next } = await changePassword(currentInput.value, fresh.password.value);
      clearSecretInputs(currentInput);
      fresh.clear();
      browserLocation.replace(next);
    },
    refused,
    staysBusy: true,
  });

  function refused(error) {
    status.textContent = "";
    if (error instanceof ApiError && error.field === "current_password") {
      clearSecretInputs(currentInput);
      showFieldError(currentInput, error.message);
    } else if (!holdOffIfThrottled(error, { alert, button })) {
      // The server's sentence, this device's KDF failure, or keys not available in this tab.
      showAlert(alert, sentenceFor(error, NOT_CHANGED));
    }
  }

  window.addEventListener("pagehide", () => {
    clearSecretInputs(currentInput);
    fresh.clear();
  });
}

registerPage("password", mount);
