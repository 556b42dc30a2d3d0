// Withdrawing from the process (templates/participant/withdraw.html).
// The page itself is the confirmation: one button -> POST /api/withdraw -> location.replace(next).
// The server withdraws this person's letters that are not yet opened, holds what waits for
// them and tells their facilitator.

import { ApiError } from "./lib/errors.js";
import { isBusy, setBusy, showAlert } from "./lib/forms.js";
import { postJSON, safeNext } from "./lib/http.js";

const button = document.getElementById("withdraw-button");
const statusRegion = document.getElementById("withdraw-status");
const alertRegion = document.getElementById("withdraw-alert");

button.addEventListener("click", async () => {
  if (isBusy(button)) return;
  const restore = setBusy(button, "Withdrawing…");
  alertRegion.textContent = "";
  statusRegion.textContent = "Sending your choice…";
  try {
    const answer = await postJSON("/api/withdraw", {});
    location.replace(safeNext(answer.next, "/home"));
  } catch (error) {
    restore();
    statusRegion.textContent = "";
    showAlert(
      alertRegion,
      error instanceof ApiError
        ? `${error.message} You have not been withdrawn yet. You can try again, or tell your facilitator.`
        : "Something went wrong, and you have not been withdrawn yet. You can try again, or tell your facilitator.",
    );
  }
});
