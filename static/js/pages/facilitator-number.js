// The participant's home (templates/participant/home.html, #case-context): the security number
// of the facilitator who set up the case, shown only once the case grant has opened in this
// browser and the trust chain vouches for it (client/participant-case.js), with the sentence
// that it can be compared in person. A refusal is said in its own words, under the warning.

import { forget, protocol } from "../crypto/keys.js";
import { loadCaseContext } from "../client/participant-case.js";
import { loadSecretKey } from "../client/session.js";
import { part } from "../lib/dom.js";
import { ShowableError } from "../lib/errors.js";
import { registerPage } from "../lib/pages.js";
import { showQr } from "../lib/qr.js";

async function mount(root) {
  const $ = (id) => part(root, id);
  const status = $("facilitator-status");
  let keys = null;
  try {
    keys = await loadSecretKey();
    const p = await protocol();
    const context = await loadCaseContext(p, keys);
    if (context.status === "confirmed") {
      // Over both keys, the signing key from the trust chain (never the server's word).
      const signing = context.facilitatorSigningPublicKey;
      const digits = signing
        ? p.identityFingerprintDigits(context.facilitatorPublicKey, signing)
        : p.fingerprintDigits(context.facilitatorPublicKey);
      $("facilitator-fingerprint").textContent = p.formatFingerprint(digits);
      const qr = root.querySelector("[data-qr-box]");
      showQr(qr, digits, { label: "Your facilitator's security number as a QR code" });
      qr.closest("details").hidden = false;
      $("facilitator-confirmed").hidden = false;
    } else if (context.status === "missing") {
      $("facilitator-pending").hidden = false;
    } else {
      $("facilitator-unconfirmed").hidden = false;
      if (context.problem) {
        $("facilitator-problem").textContent = context.problem.message;
        $("facilitator-problem").hidden = false;
      }
    }
    status.textContent = "";
  } catch (error) {
    status.textContent = "";
    const problem = $("facilitator-problem");
    problem.textContent =
      error instanceof ShowableError
        ? error.message
        : "This part of the page could not be loaded. Please try again later.";
    problem.hidden = false;
  } finally {
    if (keys) forget(keys.secretKey);
    root.setAttribute("aria-busy", "false");
  }
}

registerPage("facilitator-number", mount);
