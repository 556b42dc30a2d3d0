// Opening a case (templates/cases/new.html): a sealed htmx form. The reference and the label go
// as they are; the sealer adds what client/cases.js newCaseFields makes here: the case id, the
// case's public key, the grant of its secret key to my own key, and the case key for epoch 1
// signed with my signing key (case_key_statement), which is what lets participants and other
// facilitators take the key as mine. The server answers with the new case's page (HX-Redirect,
// lib/responses.js).

import { newCaseFields } from "../client/cases.js";
import { registerPage } from "../lib/pages.js";
import { registerSealer } from "../lib/sealed-forms.js";

function mount() {
  registerSealer("new-case", () => newCaseFields());
}

registerPage("new-case", mount);
