// The one confirm step: a modal <dialog> that asks before something that cannot be undone or
// that reaches another person (approving, sending, closing a case, declining).
//
// A page asks with `await confirmStep({heading, text, confirm, cancel, danger})`; a form the
// server rendered asks through its data-confirm-* attributes (lib/sealed-forms.js reads them
// with confirmFromMarkup before the request leaves). Escape and "Go back" both answer false.
// Focus returns to where it was when the dialog closes.

import { el } from "./dom.js";

let dialog = null;

function theDialog() {
  if (dialog && dialog.isConnected) return dialog;
  dialog = el(
    "dialog",
    {
      id: "confirm-dialog",
      class: "confirm-dialog",
      "aria-labelledby": "confirm-dialog-heading",
      "aria-describedby": "confirm-dialog-text",
    },
    el("h2", { id: "confirm-dialog-heading" }),
    el("p", { id: "confirm-dialog-text" }),
    el(
      "div",
      { class: "actions" },
      el("button", { type: "button", class: "button", "data-confirm-answer": "yes" }),
      el("button", { type: "button", class: "button secondary", "data-confirm-answer": "no" }),
    ),
  );
  document.body.append(dialog);
  return dialog;
}

/**
 * Ask, and resolve to true (confirmed) or false. Only one question at a time: asking again while
 * a question is open answers the first one false.
 */
export function confirmStep({ heading, text = "", confirm, cancel = "Go back", danger = false }) {
  const box = theDialog();
  box.dispatchEvent(new Event("confirm:superseded"));
  box.querySelector("#confirm-dialog-heading").textContent = heading;
  const textHolder = box.querySelector("#confirm-dialog-text");
  textHolder.textContent = text;
  textHolder.hidden = !text;
  const yes = box.querySelector('[data-confirm-answer="yes"]');
  const no = box.querySelector('[data-confirm-answer="no"]');
  yes.textContent = confirm;
  yes.className = danger ? "button danger" : "button";
  no.textContent = cancel;
  const returnTo = document.activeElement;
  return new Promise((resolve) => {
    const finish = (answer) => {
      yes.removeEventListener("click", onYes);
      no.removeEventListener("click", onNo);
      box.removeEventListener("cancel", onCancel);
      box.removeEventListener("confirm:superseded", onNo);
      if (box.open) box.close();
      if (returnTo && typeof returnTo.focus === "function" && returnTo.isConnected) {
        returnTo.focus();
      }
      resolve(answer);
    };
    const onYes = () => finish(true);
    const onNo = () => finish(false);
    const onCancel = (event) => {
      event.preventDefault();
      finish(false);
    };
    yes.addEventListener("click", onYes);
    no.addEventListener("click", onNo);
    box.addEventListener("cancel", onCancel);
    box.addEventListener("confirm:superseded", onNo);
    if (!box.open) box.showModal();
    no.focus(); // the safe answer has the focus: Enter alone never confirms
  });
}

/**
 * The question a server-rendered element asks before its request, or null when it asks none:
 *   data-confirm-heading  (required to ask) "Close this case?"
 *   data-confirm-text     what happens, in a sentence or two
 *   data-confirm-button   the confirming button's words ("Yes, close the case")
 *   data-confirm-cancel   the other button's words (default "Go back")
 *   data-confirm-danger   present for something that cannot be undone
 */
export function confirmFromMarkup(element) {
  const data = element.dataset;
  if (!data.confirmHeading) return null;
  return {
    heading: data.confirmHeading,
    text: data.confirmText || "",
    confirm: data.confirmButton || "Yes",
    cancel: data.confirmCancel || "Go back",
    danger: "confirmDanger" in data,
  };
}
