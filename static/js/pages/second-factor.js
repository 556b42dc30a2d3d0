// The second-factor pages (templates/factors/verify.html and factors.html): passing the step
// after the password with a code or a passkey, and adding a passkey. The server says what is
// allowed; this page only sends and shows (client/second-factor.js does every request).

import { addPasskey, finishSignIn, passWithCode, passWithPasskey } from "../client/second-factor.js";
import { part } from "../lib/dom.js";
import { ApiError, sentenceFor } from "../lib/errors.js";
import {
  clearErrors,
  handleSubmit,
  holdOffIfThrottled,
  requireFilled,
  setBusy,
  showAlert,
  showFieldError,
} from "../lib/forms.js";
import { browserLocation } from "../lib/navigation.js";
import { registerPage } from "../lib/pages.js";

function mount(root) {
  if (root.dataset.step === "verify") mountVerify(root);
  else mountFactors(root);
}

async function onwards(next) {
  await finishSignIn();
  browserLocation.replace(next);
}

function mountVerify(root) {
  const $ = (id) => part(root, id);
  const codeInput = $("code");
  const codeAlert = $("code-alert");
  const codeButton = $("code-button");
  handleSubmit($("code-form"), {
    button: codeButton,
    busyText: "Checking…",
    problems: () => requireFilled([[codeInput, "Type the code."]]),
    async send() {
      const { next } = await passWithCode(codeInput.value.trim());
      codeInput.value = "";
      await onwards(next);
    },
    refused(error) {
      if (holdOffIfThrottled(error, { alert: codeAlert, button: codeButton })) return;
      codeInput.value = "";
      if (error instanceof ApiError && error.field === "code") {
        showFieldError(codeInput, error.message);
      } else {
        showAlert(codeAlert, sentenceFor(error));
        codeInput.focus();
      }
    },
    staysBusy: true,
  });
  const passkeyButton = root.querySelector("#use-passkey");
  if (passkeyButton) {
    const passkeyAlert = $("passkey-alert");
    passkeyButton.addEventListener("click", async () => {
      clearErrors(root);
      const restore = setBusy(passkeyButton, "Waiting for your passkey…");
      try {
        const { next } = await passWithPasskey();
        await onwards(next);
      } catch (error) {
        restore();
        if (holdOffIfThrottled(error, { alert: passkeyAlert, button: passkeyButton })) return;
        showAlert(passkeyAlert, sentenceFor(error));
      }
    });
  }
}

function mountFactors(root) {
  const $ = (id) => part(root, id);
  // Just past the step (an app added on a plain form, say): finish what signing in left.
  if (root.dataset.finishSignIn === "yes") finishSignIn();
  const button = $("add-passkey");
  const alert = $("passkey-alert");
  button.addEventListener("click", async () => {
    clearErrors(root);
    const restore = setBusy(button, "Waiting for your passkey…");
    try {
      const { next } = await addPasskey();
      await onwards(next);
    } catch (error) {
      restore();
      showAlert(alert, sentenceFor(error));
    }
  });
}

registerPage("second-factor", mount);
