// One of my messages, or one written on my behalf (templates/letters/show.html).
//
// The server rendered the timeline, where the message is now, and only the actions allowed
// now (htmx forms that ask first; nothing here). What I wrote and the facilitator's note are
// sealed placeholders. Each is opened only when the person presses its "Show …" button, since
// someone may be looking over their shoulder; client/letters.js checks it first (my message is
// granted by me to me, the note by the facilitator to me). The same button then shows and
// hides it. A message with recordings, pages or files is shown with its players
// (media/message-view.js); nothing plays by itself, and hiding it stops the sound.

import { openFeedback, openMyLetter, openWrittenForMe } from "../client/letters.js";
import { loadSecretKey } from "../client/session.js";
import { el, part, showText } from "../lib/dom.js";
import { sentenceFor } from "../lib/errors.js";
import { isBusy, setBusy, showAlert } from "../lib/forms.js";
import { registerPage } from "../lib/pages.js";
import { registerOpener } from "../lib/placeholders.js";
import { showOpenedMessage } from "../media/message-view.js";

const NOT_OPENED = "This could not be opened just now. Please try again in a moment.";

function mount(root) {
  const status = part(root, "letter-status");
  const alert = part(root, "letter-alert");
  let mediaView = null; // media/message-view.js, once my media message is shown

  // My own message, or one written on my behalf (granted to me by a facilitator's browser).
  const openers = { "my-letter": openMyLetter, "written-for-me": openWrittenForMe };
  for (const [kind, openIt] of Object.entries(openers)) {
    registerOpener(kind, (element) =>
      openWhenAsked(element, {
        async open() {
          const mine = await openIt(await loadSecretKey(), element.dataset.messageId);
          if (mine.media) {
            const view = el("div", { class: "media-message" });
            element.replaceChildren(view);
            mediaView = showOpenedMessage(view, mine.media, { headingLevel: 3 });
          } else {
            const text = el("div", { class: "letter-text" });
            showText(text, mine.text);
            element.replaceChildren(text);
          }
        },
        onHide: () => mediaView?.pause(),
      }),
    );
  }

  registerOpener("feedback-on-my-letter", (element) =>
    openWhenAsked(element, {
      async open() {
        const note = await openFeedback(await loadSecretKey(), element.dataset.messageId);
        showText(element, note ?? "");
      },
    }),
  );

  window.addEventListener("pagehide", () => {
    if (mediaView) mediaView.destroy(); // stops playing, revokes object URLs, wipes the key
  });

  /**
   * Open `element` when the person presses the button that controls it (aria-controls), and
   * from then on show and hide it with the same button. Resolves once it is open; a failure is
   * said in the page's alert, and the next press tries again.
   */
  function openWhenAsked(element, { open, onHide = () => {} }) {
    const button = root.querySelector(`[aria-controls="${element.id}"]`);
    const showLabel = button.textContent;
    const hideLabel = button.dataset.hideLabel;
    const show = (shown) => {
      element.hidden = !shown;
      if (!shown) onHide();
      button.textContent = shown ? hideLabel : showLabel;
      button.setAttribute("aria-expanded", String(shown));
    };
    return new Promise((resolve) => {
      let opened = false;
      button.addEventListener("click", async () => {
        if (opened) {
          show(element.hidden);
          return;
        }
        if (isBusy(button)) return;
        const restore = setBusy(button, "Opening…");
        alert.textContent = "";
        status.textContent = "Opening…";
        try {
          await open();
          opened = true;
          restore();
          show(true);
          resolve();
        } catch (error) {
          restore();
          showAlert(alert, sentenceFor(error, NOT_OPENED));
        } finally {
          status.textContent = "";
        }
      });
      button.removeAttribute("aria-disabled"); // ready: it was disabled until now
    });
  }
}

registerPage("letter", mount);
