// A participant's invitation on the case page (templates/cases/_invitation.html, one per card
// of a participant who has not joined): "Create an invitation" makes it in this browser
// (client/invitations.js); then the server renders the card again (htmx) and the code and the
// join link are shown once in it.

import { makeInvitation } from "../client/invitations.js";
import { say } from "../lib/dom.js";
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
  const newCard = document.querySelector(card);
  say(
    document.getElementById("case-status-message"),
    `Invitation created for ${nameInSentence(newCard)}. The code is shown once, under “Invitation”.`,
  );
}

/** Their name once it has opened here, else what the server calls them ("the person harmed"). */
function nameInSentence(card) {
  const opened = card?.querySelector('[data-sealed="participant-name"][data-sealed-state="open"]');
  return opened ? opened.textContent : card?.dataset.callName || "them";
}

registerPage("participant-invitation", mount);
