// The compose form's words and whom they are for (templates/letters/compose.html): the count
// and its limit, the sealed draft kept as the person writes (client/drafts.js), the recipient
// chosen among those the server rendered, and the formats that person agreed to (data-formats,
// computed by the server), and what stops sending.

import { keepDraft } from "../../client/drafts.js";
import { part } from "../../lib/dom.js";
import { showAlert, showFieldError } from "../../lib/forms.js";
import { LETTER_LIMIT, countCharacters, formatNumber } from "../../lib/text.js";

const RECIPIENT = 'input[name="recipient_participant_id"]';

function tooLong(n) {
  const extra = n - LETTER_LIMIT;
  const characters = extra === 1 ? "character" : "characters";
  return `Your letter is longer than ${formatNumber(LETTER_LIMIT)} characters. Please shorten it by ${formatNumber(extra)} ${characters} before sending it. Everything you have written is kept.`;
}

export class LetterBox {
  /**
   * `root`: the page (#composer); `media`: its MediaComposer; `onChange()` after the words or
   * the recipient changed.
   */
  constructor(root, { keys, revisesMessageId, media, onChange }) {
    const $ = (id) => part(root, id);
    this.keys = keys;
    this.revisesMessageId = revisesMessageId;
    this.media = media;
    this.onChange = onChange;
    this.form = $("compose-form");
    this.textarea = $("letter-text");
    this.error = $("letter-text-error");
    this.counter = $("letter-text-count");
    this.saveStatus = $("save-status");
    this.area = $("composer-area");
    this.feedback = root.querySelector("#feedback-section");
    this.keeper = null;
    this.wasOver = false;
    this.textarea.addEventListener("input", () => {
      this.count();
      if (this.keeper) this.keeper.changed(this.text, { recipientId: this.recipientId() });
      this.onChange();
    });
    for (const radio of this.form.querySelectorAll(RECIPIENT)) {
      radio.addEventListener("change", () => {
        $("recipient-choice-error").textContent = "";
        this.media.setFormats(this.formats());
        this.onChange();
      });
    }
    this.media.setFormats(this.formats());
  }

  get text() {
    return this.textarea.value;
  }

  get draftId() {
    return this.keeper ? this.keeper.draftId : null;
  }

  /** Show the composer with `text`, carrying on `draft` ({draftId, text, recipientId}) if any. */
  async open(text, draft, { focus }) {
    if (this.keeper) this.keeper.close();
    this.keeper = await keepDraft(this.keys, {
      draft,
      revisesMessageId: this.revisesMessageId,
      onStatus: (sentence) => {
        this.saveStatus.textContent = sentence;
      },
    });
    if (draft && draft.recipientId) this.chooseRecipient(draft.recipientId);
    this.saveStatus.textContent = "";
    this.textarea.value = text;
    this.count();
    if (this.feedback) this.feedback.hidden = false;
    this.area.hidden = false;
    this.onChange();
    if (focus) this.textarea.focus();
  }

  /** The recipient input chosen now: a checked radio button, or the one hidden input. */
  recipient() {
    return [...this.form.querySelectorAll(RECIPIENT)].find(
      (input) => input.type === "hidden" || input.checked,
    );
  }

  recipientId() {
    return this.recipient()?.value || null;
  }

  chooseRecipient(participantId) {
    const radio = [...this.form.querySelectorAll(RECIPIENT)].find(
      (input) => input.type === "radio" && input.value === participantId,
    );
    if (!radio) return;
    radio.checked = true;
    this.media.setFormats(this.formats());
  }

  /** The formats both people agreed to: the chosen recipient's, else those all of them did. */
  formats() {
    const holder = this.recipient() || this.form;
    return (holder.dataset.formats || "").split(" ").filter(Boolean);
  }

  count() {
    const n = countCharacters(this.text);
    const over = n > LETTER_LIMIT;
    this.counter.textContent = over
      ? `${formatNumber(n)} characters: ${formatNumber(n - LETTER_LIMIT)} more than the limit of ${formatNumber(LETTER_LIMIT)}`
      : `${formatNumber(n)} of ${formatNumber(LETTER_LIMIT)} characters`;
    this.counter.classList.toggle("over", over);
    if (over && !this.wasOver) {
      showFieldError(this.textarea, tooLong(n), { focus: false });
    } else if (!over && this.wasOver) {
      this.error.textContent = "";
      this.textarea.removeAttribute("aria-invalid");
    }
    this.wasOver = over;
  }

  /** Show what stops sending, next to where it is; true when nothing does. */
  readyToSend() {
    const text = this.text;
    const n = countCharacters(text);
    const media = this.media.hasMedia();
    const mediaAlert = part(this.form, "media-alert");
    if (text.trim() === "" && !media) {
      showFieldError(this.textarea, "Your letter is empty. Write your letter before sending it.");
      return false;
    }
    if (n > LETTER_LIMIT) {
      showFieldError(this.textarea, tooLong(n));
      return false;
    }
    if (!this.recipient() && this.form.querySelector(RECIPIENT)) {
      part(this.form, "recipient-choice-error").textContent = "Choose who this letter is for.";
      this.form.querySelector(RECIPIENT).focus();
      return false;
    }
    const problem = media ? this.media.problem(text) : null;
    if (problem) {
      showAlert(mediaAlert, problem);
      part(this.form, "media-heading").focus();
      return false;
    }
    mediaAlert.textContent = "";
    return true;
  }

  /** Save the words as they are now (before asking, and before sealing them). */
  keepNow() {
    if (!this.keeper) return Promise.resolve();
    this.keeper.changed(this.text, { recipientId: this.recipientId() });
    return this.keeper.flush();
  }

  /** Sent: stop saving, and forget the draft (the server dropped it with the send already). */
  sent() {
    return this.keeper ? this.keeper.discard() : Promise.resolve();
  }

  /** Back to the words after the person chose not to send yet. */
  focus() {
    this.textarea.focus();
  }
}
