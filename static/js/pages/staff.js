// The staff page (templates/staff/people.html): closing a certified account also revokes its
// certificate. The "Close this account" form of such a row is sealed (data-seal="revocation");
// its sealer signs the `revocation` (client/staff-trust.js).

import { revokeStaff } from "../client/staff-trust.js";
import { registerPage } from "../lib/pages.js";
import { registerSealer } from "../lib/sealed-forms.js";

function mount() {
  registerSealer("revocation", async (form) => {
    const row = form.closest("li[data-account-id]");
    return { revocation: await revokeStaff(row.dataset.accountId, "disabled") };
  });
}

registerPage("staff", mount);
