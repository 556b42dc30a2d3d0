// Opening a case (templates/cases/new.html).
//
// The browser makes the case id (a UUID) and the case's X25519 key pair, grants the case secret
// key to the facilitator's own public key (makeCaseGrant from me to me), and sends
//   POST /api/cases {case_id, reference, label, public_key, grant}
// then replaces this page with the new case's page. The case secret key never leaves the
// browser except inside that grant, which only this facilitator's secret key opens.

import { loadSecretKey } from "./client/session.js";
import { forget, holdSecret, protocol } from "./crypto/keys.js";
import { say } from "./lib/dom.js";
import { sentenceFor } from "./lib/errors.js";
import { clearErrors, isBusy, setBusy, showAlert, showError, showFieldError } from "./lib/forms.js";
import { postJSON, safeNext } from "./lib/http.js";
import { newId } from "./lib/ids.js";

const form = document.getElementById("new-case-form");
const referenceInput = document.getElementById("case-reference");
const labelInput = document.getElementById("case-label");
const button = document.getElementById("new-case-button");
const status = document.getElementById("new-case-status");
const alert = document.getElementById("new-case-alert");

// The server's rule (portal/cases/services.py), checked here first to save a round trip.
const REFERENCE = /^[A-Za-z0-9][A-Za-z0-9 ./_-]{1,39}$/;

function tidy(value) {
  return value.split(/\s+/).filter(Boolean).join(" ");
}

function check() {
  const reference = tidy(referenceInput.value);
  const label = tidy(labelInput.value);
  let first = null;
  if (!reference) {
    showFieldError(referenceInput, "Enter the case reference.", { focus: false });
    first = first || referenceInput;
  } else if (!REFERENCE.test(reference)) {
    showFieldError(
      referenceInput,
      "Use 2 to 40 letters, numbers, spaces, dots, slashes or dashes, starting with a letter or number.",
      { focus: false },
    );
    first = first || referenceInput;
  }
  if (!label) {
    showFieldError(labelInput, "Give the case a short label.", { focus: false });
    first = first || labelInput;
  }
  if (first) {
    first.focus();
    return null;
  }
  return { reference, label };
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (isBusy(button)) return;
  clearErrors(form);
  const values = check();
  if (!values) return;

  const restore = setBusy(button, "Opening the case…");
  say(status, "Making the case's keys…");
  let keys = null;
  let caseSk = null;
  try {
    keys = await loadSecretKey();
    const p = await protocol();
    const caseId = newId();
    const [secretKey, publicKey] = p.generateIdentity();
    caseSk = holdSecret(secretKey);
    const grant = p.makeCaseGrant(keys.secretKey, keys.publicKey, caseId, caseSk);
    const answer = await postJSON("/api/cases", {
      case_id: caseId,
      reference: values.reference,
      label: values.label,
      public_key: p.b64encode(publicKey),
      grant: p.b64encode(grant),
    });
    say(status, "The case is open.");
    location.replace(safeNext(answer.next, `/cases/${caseId}`));
  } catch (error) {
    restore();
    status.textContent = "";
    if (error && error.field) {
      showError(error, {
        fields: { reference: referenceInput, label: labelInput },
        alert,
      });
    } else {
      showAlert(alert, sentenceFor(error));
    }
  } finally {
    forget(caseSk);
    if (keys) forget(keys.secretKey);
  }
});
