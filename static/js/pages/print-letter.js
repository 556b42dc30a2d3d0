// Printing a letter for a participant without access (templates/queue/print.html). The server
// rendered only the frame; this page opens the letter with the case key through client/review.js
// (the grant, the manifest hash and every chunk hash checked before anything shows), places its
// text in as text only, and on "Print the letter" records the print (POST
// /api/messages/{id}/printed: ids only, never the content) before the browser's print dialog.

import { closeReview, nameOf, openContent, openReview } from "../client/review.js";
import { sentenceFor } from "../lib/errors.js";
import { postJSON } from "../lib/http.js";
import { showAlert } from "../lib/forms.js";
import { registerPage } from "../lib/pages.js";
import { registerOpener } from "../lib/placeholders.js";

const NOT_PRINTABLE = "Only a written letter can be printed here.";

async function mount(root) {
  const find = (id) => document.getElementById(id);
  const { messageId, caseId } = root.dataset;
  const loading = openReview(messageId, caseId);
  loading.then((review) => {
    window.addEventListener("pagehide", () => closeReview(review), { once: true });
  }, () => {});
  registerOpener("participant-name", async (element) => {
    const { participantId, sealedName } = element.dataset;
    element.textContent = await nameOf(await loading, participantId, sealedName);
  });
  const button = find("print-button");
  if (!button) return; // nothing to print now: the page says why
  const status = find("print-status");
  const alert = find("print-alert");
  try {
    const content = await openContent(await loading);
    if (content.text === undefined) throw new Error(NOT_PRINTABLE);
    find("printed-text").textContent = content.text;
  } catch (error) {
    status.textContent = "The letter cannot be shown, so it cannot be printed.";
    showAlert(alert, error.message === NOT_PRINTABLE ? NOT_PRINTABLE : sentenceFor(error));
    return;
  }
  find("printed-letter").hidden = false;
  status.textContent = "The letter is ready to print.";
  button.disabled = false;
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await postJSON(`/api/messages/${encodeURIComponent(messageId)}/printed`, {});
      status.textContent = "Printing: the print is recorded in the case's audit trail.";
      window.print();
    } catch (error) {
      showAlert(alert, sentenceFor(error));
    } finally {
      button.disabled = false;
    }
  });
}

registerPage("print-letter", mount);
