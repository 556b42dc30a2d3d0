// A participant's invitation on the case page (templates/cases/_invitation.html, one per card
// of a participant who has not joined), or a supporter's (templates/cases/_supporters.html,
// data-role="supporter" and data-supporter-id): "Create an invitation" makes it in this
// browser (client/invitations.js); then the server renders the participant's card again (htmx)
// and the code and the join link are shown once in it. With data-rekey (templates/cases/
// _rekey.html) it is a code for a new key for someone who has joined, shown the same way.

import { makeInvitation } from "../client/invitations.js";
import { say } from "../lib/dom.js";
import { handleSubmit, showError } from "../lib/forms.js";
import { registerPage } from "../lib/pages.js";
import { forgetIssuedOnLeave, showIssuedInvitation } from "./invitation-issued.js";

function mount(root) {
  const form = root.querySelector("form[data-invite-form]");
  if (!form) return;
  const { caseId, participantId, supporterId } = root.dataset;
  const role = root.dataset.role || "participant";
  const rekey = "rekey" in root.dataset; // a code for a new key for someone who has joined

  handleSubmit(form, {
    button: form.querySelector('button[type="submit"]'),
    busyText: "Creating…",
    async send() {
      const issued = await makeInvitation({ role, caseId, participantId, supporterId, rekey });
      await showInNewCard(participantId, issued, supporterId, rekey);
    },
    refused(error) {
      showError(error, { alert: form.querySelector('[role="alert"]') });
    },
  });
}

/** The server's card, as it is now (an invitation waiting), with the code shown once in it. */
async function showInNewCard(participantId, issued, supporterId = null, rekey = false) {
  const card = `#participant-${participantId}`;
  if (globalThis.htmx) {
    await globalThis.htmx.ajax("GET", location.pathname, {
      target: card,
      select: card,
      swap: "outerHTML",
    });
  }
  const part = document.getElementById(`${rekey ? "rekey" : "invite"}-${supporterId || participantId}`);
  const notice = part?.querySelector("[data-invitation-issued]");
  if (!notice) return;
  if (rekey) part.open = true;
  for (const hint of part.querySelectorAll("[data-invitation-hint]")) hint.hidden = true;
  const button = part.querySelector('form[data-invite-form] button[type="submit"]');
  if (button) button.classList.add("secondary");
  forgetIssuedOnLeave(notice);
  showIssuedInvitation(notice, issued);
  const newCard = document.querySelector(card);
  const where = rekey ? "“Lost their password and recovery code?”" : supporterId ? "their name" : "“Invitation”";
  const who = supporterId ? "the supporter" : nameInSentence(newCard);
  const what = rekey ? "A code for a new key was created" : "Invitation created";
  say(
    document.getElementById("case-status-message"),
    `${what} for ${who}. The code is shown once, under ${where}.`,
  );
}

/** Their name once it has opened here, else what the server calls them ("the person harmed"). */
function nameInSentence(card) {
  const opened = card?.querySelector('[data-sealed="participant-name"][data-sealed-state="open"]');
  return opened ? opened.textContent : card?.dataset.callName || "them";
}

registerPage("participant-invitation", mount);
