// The Certify page (templates/staff/certify.html): each waiting row's security number is
// worked out here from the row's two keys (data-sealed="identity-number"), with its QR code,
// and "Certify" is a sealed form whose sealer signs the `staff-cert` (client/staff-trust.js).
// For the root, "Hand over the root" is a sealed form whose sealer signs the `root-handover`
// to the service manager chosen, after this browser's walk of the trust log agrees.

import { certifyStaff, handOverRoot, identityNumber } from "../client/staff-trust.js";
import { InputProblem } from "../lib/forms.js";
import { el } from "../lib/dom.js";
import { registerPage } from "../lib/pages.js";
import { registerOpener } from "../lib/placeholders.js";
import { showQr } from "../lib/qr.js";
import { registerSealer } from "../lib/sealed-forms.js";

const NOT_A_NUMBER = "This security number could not be worked out. Do not certify this account.";

function mount() {
  registerOpener("identity-number", async (element) => {
    const { boxPublicKey, signingPublicKey } = element.dataset;
    const digits = await identityNumber(boxPublicKey, signingPublicKey);
    if (digits === null) {
      element.textContent = NOT_A_NUMBER;
      return;
    }
    element.textContent = digits;
    const box = el("div", { class: "qr", "data-qr-box": "" });
    element.after(box);
    showQr(box, digits, { label: "Their security number as a QR code" });
  });

  registerSealer("staff-cert", async (form) => {
    const row = form.closest("[data-certify-row]");
    const { accountId, role, boxPublicKey, signingPublicKey } = row.dataset;
    return certifyStaff({ accountId, role, boxPublicKey, signingPublicKey });
  });

  registerSealer("root-handover", async (form) => {
    const chosen = form.querySelector('input[name="new_root_account_id"]:checked');
    if (!chosen) throw new InputProblem([], "Choose who becomes the root.");
    return handOverRoot(chosen.value);
  });
}

registerPage("certify", mount);
