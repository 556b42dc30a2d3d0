// The staff Invitations page (templates/staff/invitations.html): "Create invitation" makes the
// invitation in this browser (client/invitations.js: reserve, make the code and its MAC, seal);
// the code and the join link are shown once, here. The list of sent invitations is the
// server's, fetched again by htmx after each new one.

import { makeInvitation } from "../client/invitations.js";
import { part } from "../lib/dom.js";
import { handleSubmit, showError } from "../lib/forms.js";
import { registerPage } from "../lib/pages.js";
import { forgetIssuedOnLeave, showIssuedInvitation } from "./invitation-issued.js";

function mount(root) {
  const form = root.querySelector("form[data-invite-form]");
  const notice = root.querySelector("[data-invitation-issued]");
  if (!form || !notice) return;
  forgetIssuedOnLeave(notice);

  handleSubmit(form, {
    button: form.querySelector('button[type="submit"]'),
    busyText: "Creating…",
    async send() {
      const chosen = form.querySelector('input[name="role"]:checked');
      const label = root.querySelector(`label[for="${chosen.id}"]`).textContent.trim();
      notice.hidden = true;
      const issued = await makeInvitation({ role: chosen.value });
      showIssuedInvitation(notice, issued, {
        heading: `Invitation ready for a ${label.toLowerCase()}`,
      });
      refreshList();
    },
    refused(error) {
      showError(error, { alert: part(root, "invite-alert") });
    },
  });

  function refreshList() {
    const list = "#sent-invitations";
    globalThis.htmx?.ajax("GET", location.pathname, { target: list, select: list, swap: "outerHTML" });
  }
}

registerPage("invitations", mount);
