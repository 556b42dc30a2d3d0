// Writing a letter (templates/letters/compose.html): /letters/new, and /letters/{id}/revise.
//
// The server rendered whom the letter can go to, in which formats, and whether it can be sent
// now. This page only seals, autosaves, records and uploads:
//   1. it loads this tab's key, checks that the case key opens here (if not, nothing can be
//      sent from here: a browser-only fact), the saved drafts and, when revising, the letter as
//      it was sent (client/letters.js); the facilitator's note is a sealed placeholder;
//   2. it offers first a message that was not sent (kept on this device, media/), then the
//      saved drafts (by date only: no words are shown until the person chooses), else opens
//      the composer (compose/letter-box.js: every change sealed and autosaved);
//   3. sending: compose/sending.js.

import { loadSecretKey } from "../client/session.js";
import { listDrafts } from "../client/drafts.js";
import {
  ContentNotChecked,
  NOT_CONFIRMED,
  letterIdentity,
  letterToRevise,
  openFeedback,
} from "../client/letters.js";
import { caseKeyCheck } from "../client/participant-case.js";
import { formatDayTime } from "../lib/dates.js";
import { el, part, reveal, showText } from "../lib/dom.js";
import { sentenceFor } from "../lib/errors.js";
import { isBusy, setBusy, showAlert } from "../lib/forms.js";
import { registerPage } from "../lib/pages.js";
import { registerOpener } from "../lib/placeholders.js";
import { KeysUnavailable } from "../crypto/keys.js";
import { MediaComposer } from "../media/compose-media.js";
import { LetterBox } from "./compose/letter-box.js";
import { startSending } from "./compose/sending.js";

const NOT_READY =
  "This page could not be made ready. Nothing has been lost. Please try again in a moment.";
const PREVIOUS_NOT_CHECKED =
  "Your letter as you sent it could not be shown, because this page could not confirm that it " +
  "is exactly what you wrote. You can write your letter again below, or tell your facilitator.";
const FEEDBACK_NOT_CHECKED =
  "Your facilitator's note could not be shown, because this page could not confirm that it " +
  "is exactly what they wrote. Please ask your facilitator about it.";

function mount(root) {
  const $ = (id) => part(root, id);
  const revising = root.dataset.revises || null;
  const form = $("compose-form");
  const status = $("composer-status");
  const alert = $("composer-alert");
  const page = { keys: null, media: null, box: null, sending: null, drafts: [], pending: [] };
  let previousText = "";
  let becameReady;
  const ready = new Promise((resolve) => {
    becameReady = resolve;
  });

  // The facilitator's note, once the page is ready: one request at a time.
  registerOpener("feedback-on-my-letter", async (element) => {
    const keys = await ready;
    try {
      const text = await openFeedback(keys, element.dataset.messageId);
      if (text !== null) showText(element, text);
    } catch (error) {
      element.textContent =
        error instanceof ContentNotChecked ? FEEDBACK_NOT_CHECKED : sentenceFor(error, NOT_READY);
    }
  });

  async function start() {
    status.textContent = "Getting things ready…";
    try {
      page.keys ??= await loadSecretKey();
      const { keys } = page;
      const caseKey = await caseKeyCheck(keys);
      page.drafts = await listDrafts(keys, revising);
      if (revising) {
        const previous = await letterToRevise(keys, revising);
        previousText = previous.text;
        if (!previous.checked) showAlert(alert, PREVIOUS_NOT_CHECKED);
      }
      if (caseKey.status === "failed") cannotSendFromHere(NOT_CONFIRMED);
      if (caseKey.status === "refused") cannotSendFromHere(caseKey.problem.message);
      await setUp(keys);
      page.pending = await MediaComposer.findPending(keys, revising);
      status.textContent = "";
      becameReady(keys);
      offerNext({ focus: false });
    } catch (error) {
      status.textContent = "";
      showAlert(alert, sentenceFor(error, NOT_READY));
      if (!(error instanceof KeysUnavailable)) $("composer-retry").hidden = false;
    }
  }

  async function setUp(keys) {
    if (page.media) return;
    const identity = letterIdentity({
      objectId: form.dataset.objectId || null,
      version: Number.parseInt(form.dataset.version || "1", 10),
    });
    const onChange = () => {
      $("letter-text-error").textContent = "";
      page.sending?.update();
    };
    page.media = await MediaComposer.start(keys, {
      caseId: root.dataset.caseId,
      revisesMessageId: revising,
      newIdentity: identity,
      form,
      onChange,
    });
    page.box = new LetterBox(root, {
      keys,
      revisesMessageId: revising,
      media: page.media,
      onChange: () => page.sending?.update(),
    });
    page.sending = startSending(form, {
      box: page.box,
      media: page.media,
      keys,
      identity,
      pageAlert: alert,
    });
  }

  /** The case key did not open or was refused here: writing and saving go on, sending does not. */
  function cannotSendFromHere(why) {
    const notice = $("cannot-send");
    notice.textContent = `${why} You can still write: your words are saved as you go.`;
    notice.hidden = false;
    const actions = root.querySelector("#send-actions");
    if (actions) actions.hidden = true;
  }

  // --- what to carry on with -------------------------------------------------------------------

  function offerNext({ focus }) {
    if (page.pending.length > 0) offerPending(page.pending[0]);
    else if (page.drafts.length > 0) offerDrafts(page.drafts);
    else openComposer(previousText, null, { focus });
  }

  function openComposer(text, draft, options) {
    $("drafts-offer").hidden = true;
    return page.box.open(text, draft, options);
  }

  function offerPending(found) {
    $("resume-what").textContent = MediaComposer.describe(found.state);
    $("resume-alert").textContent = "";
    reveal($("resume-offer"), { focus: false });
  }

  function offerDrafts(drafts) {
    const list = $("drafts-list");
    list.replaceChildren(
      ...drafts.map((draft) => {
        const when = formatDayTime(draft.savedAt);
        const what = list.dataset.continue;
        const button = el("button", { type: "button", class: "button secondary" },
          when ? `${what} saved on ${when}` : what);
        button.addEventListener("click", () => openComposer(draft.text, draft, { focus: true }));
        return el("li", {}, button);
      }),
    );
    reveal($("drafts-offer"), { focus: false });
  }

  $("start-fresh").addEventListener("click", () => {
    openComposer(previousText, null, { focus: true });
  });

  $("resume-continue").addEventListener("click", async (event) => {
    const button = event.currentTarget;
    if (isBusy(button)) return;
    const restore = setBusy(button, "Opening…");
    try {
      const found = page.pending[0];
      const draft = page.drafts.find((d) => d.draftId === found.state.draft_id) || null;
      const { text, recipientId } = await page.media.restore(found);
      $("resume-offer").hidden = true;
      await openComposer(text, draft ? { ...draft, text } : null, { focus: true });
      if (recipientId) page.box.chooseRecipient(recipientId);
    } catch {
      showAlert(
        $("resume-alert"),
        "This message could not be opened on this device. You can delete it and start again.",
      );
    } finally {
      restore();
    }
  });

  $("resume-discard").addEventListener("click", async (event) => {
    const button = event.currentTarget;
    if (isBusy(button)) return;
    const restore = setBusy(button, "Deleting…");
    try {
      await page.media.discardPending(page.pending.shift());
    } catch {
      // Nothing more to do: the server removes unsent uploads by itself after a while.
    } finally {
      restore();
    }
    $("resume-offer").hidden = true;
    status.textContent = "The message was deleted from this device.";
    offerNext({ focus: true });
  });

  $("composer-retry-button").addEventListener("click", () => {
    $("composer-retry").hidden = true;
    alert.textContent = "";
    start();
  });

  start();
}

registerPage("compose", mount);
