// A participant's invitation on the case page (templates/cases/_invitation.html, one per card
// of a participant who has not joined): "Create an invitation" makes it in this browser
// (client/invitations.js); then the server renders the card again (htmx) and the code and the
// join link are shown once in it.

import { makeInvitation } from "../client/invitations.js";
import { handleSubmit, showError } from "../lib/forms.js";
import { registerPage } from "../lib/pages.js";
import { forgetIssuedOnLeave, showIssuedInvitation } from "./invitation-issued.js";

function mount(root) {
  const form = root.querySelector("form[data-invite-form]");
  if (!form) return;
  const { caseId, participantId } = root.dataset;

  handleSubmit(form, {
    button: form.querySelector('button[type="submit"]'),
    busyText: "Creating…",
    async send() {
      const issued = await makeInvitation({ role: "participant", caseId, participantId });
      await showInNewCard(participantId, issued);
    },
    refused(error) {
      showError(error, { alert: form.querySelector('[role="alert"]') });
    },
  });
}

/** The server's card, as it is now (an invitation waiting), with the code shown once in it. */
async function showInNewCard(participantId, issued) {
  const card = `#participant-${participantId}`;
  if (globalThis.htmx) {
    await globalThis.htmx.ajax("GET", location.pathname, {
      target: card,
      select: card,
      swap: "outerHTML",
    });
  }
  const part = document.getElementById(`invite-${participantId}`);
  const notice = part?.querySelector("[data-invitation-issued]");
  if (!notice) return;
  for (const hint of part.querySelectorAll("[data-invitation-hint]")) hint.hidden = true;
  const button = part.querySelector('form[data-invite-form] button[type="submit"]');
  if (button) button.classList.add("secondary");
  forgetIssuedOnLeave(notice);
  showIssuedInvitation(notice, issued);
}

registerPage("participant-invitation", mount);
