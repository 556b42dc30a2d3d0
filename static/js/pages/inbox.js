// Something passed on to me (templates/inbox/show.html and inbox/_choices.html).
//
// The server renders the notice, what it is and how long, and only the choices allowed now, as
// htmx forms. This module opens what is sealed in the page (client/inbox.js checks every grant,
// manifest and chunk before anything is returned) and shows it:
//   inbox-note     the facilitator's note (data-note), or a calm sentence if it cannot be shown;
//   inbox-message  the message the person chose to open (data-released, in the partial that
//                  "Open it now" brings in): a letter as text, or a message with recordings,
//                  scanned pages or files with their players (media/message-view.js), after the
//                  written part and any transcript or translation. If a check fails, nothing of
//                  it is shown. Nothing plays by itself.
// The sealer "inbox-open" makes sure this tab holds its key before "Open it now" changes
// anything on the server.

import {
  NOTE_NOT_LOADED,
  NotChecked,
  NotGenuine,
  OPEN_FAILED,
  openFacilitatorNote,
  openReleased,
  prepareToOpen,
} from "../client/inbox.js";
import { el, part, reveal, showText } from "../lib/dom.js";
import { sentenceFor } from "../lib/errors.js";
import { showAlert } from "../lib/forms.js";
import { registerPage } from "../lib/pages.js";
import { openPlaceholders, registerOpener } from "../lib/placeholders.js";
import { registerSealer } from "../lib/sealed-forms.js";
import { showOpenedMessage } from "../media/message-view.js";

const TRANSCRIPT_NOT_SHOWN = "A written version from your facilitator could not be shown.";

/** Show what openReleased returned in #opened-section; the media view, if any, to destroy. */
function show(section, opened) {
  const text = section.querySelector("#opened-text");
  const media = section.querySelector("#opened-media");
  if (opened.kind === "media") {
    text.hidden = true;
    media.hidden = false;
    return showOpenedMessage(media, opened.message, {
      headingLevel: 3,
      transcript: opened.transcript,
    });
  }
  showText(text, opened.text);
  if (opened.transcript) {
    // Not expected for a written letter, but never dropped silently.
    const extra = el("div", { class: "letter-text note-text" });
    if (opened.transcript.failed) extra.textContent = TRANSCRIPT_NOT_SHOWN;
    else showText(extra, opened.transcript.text);
    media.replaceChildren(extra);
    media.hidden = false;
  }
  return null;
}

function mount(root) {
  const status = part(root, "inbox-status");
  const alert = part(root, "inbox-alert");
  const about = { messageId: root.dataset.messageId || null }; // named in a refusal's report
  let view = null; // media/message-view.js, once a media message is shown

  registerSealer("inbox-open", async () => {
    await prepareToOpen();
    return {}; // the form's own field (the tick box) is all that is sent
  });

  registerOpener("inbox-note", async (box) => {
    try {
      showText(box, await openFacilitatorNote(JSON.parse(box.dataset.note), about));
    } catch (error) {
      // The choices still work without the note; say so plainly, where the note would be.
      box.textContent = sentenceFor(error, NOTE_NOT_LOADED);
      throw error;
    } finally {
      box.setAttribute("aria-busy", "false");
    }
  });

  registerOpener("inbox-message", async (section) => {
    status.textContent = "Opening…";
    alert.textContent = "";
    let opened;
    try {
      opened = await openReleased(JSON.parse(section.dataset.released), about);
    } catch (error) {
      status.textContent = "";
      showAlert(alert, sentenceFor(error, OPEN_FAILED));
      // Trying again cannot make a check pass: a retry is offered only for a failed load.
      if (!(error instanceof NotChecked || error instanceof NotGenuine)) offerRetry(section);
      throw error;
    }
    view?.destroy();
    view = show(section, opened);
    status.textContent = "";
    reveal(section);
  });

  /** It was opened on the server but could not be shown here (offline, say): try again. */
  function offerRetry(section) {
    const again = el("button", { type: "button", class: "button", id: "open-retry" }, "Try again");
    again.addEventListener("click", () => {
      again.remove();
      delete section.dataset.sealedState;
      openPlaceholders(section);
    });
    section.before(again);
    again.focus();
  }

  window.addEventListener("pagehide", () => {
    view?.destroy(); // stops playing, revokes object URLs, wipes the content key
  });
}

registerPage("inbox", mount);
