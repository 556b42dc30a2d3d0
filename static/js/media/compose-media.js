// The recording and file parts of the composer (templates/letters/_media_add.html, #media-add).
// The compose page (static/js/pages/compose.js) keeps the letter, the recipient, the drafts and
// the question before sending; this adds:
//   - recording (compose-recording.js), sealed while it is recorded (message.js, IndexedDB);
//   - files (compose-files.js): scanned pages in the chosen order, sound and video files;
//   - only the formats the server says both people agreed to are offered (setFormats);
//   - what stops sending, the summary of what will be sent, the size limit;
//   - the upload (message.js) and Cancel;
//   - continuing a message that was not sent (after a reload or a crash).

import { protocol } from "../crypto/keys.js";
import { part } from "../lib/dom.js";
import { PAGE_EXTENSIONS, PAGE_TYPES, isVideo, joinAnd } from "./file-kinds.js";
import { FileList } from "./compose-files.js";
import { RecordingPanel } from "./compose-recording.js";
import { MediaMessage, UploadCancelled } from "./message.js";
import { cipherSize } from "./seal.js";
import { formatBytes, formatDuration } from "./upload.js";

export { UploadCancelled };

export const DEFAULT_MAX_MESSAGE_BYTES = 1024 ** 3;

const RECORDING_IDS = {
  record: "record-section", kind: "record-kind", kindAudio: "record-kind-audio",
  kindVideo: "record-kind-video", devices: "record-devices", limit: "record-limit",
  live: "record-live", camera: "record-camera", level: "record-level", clock: "record-clock",
  status: "record-status", alert: "record-alert", start: "record-start", stop: "record-stop",
  review: "record-review", reviewHeading: "record-review-heading",
  previewVideo: "record-preview-video", previewAudio: "record-preview-audio",
  summary: "record-summary", keep: "record-keep", again: "record-again",
  discard: "record-discard",
};
const FILE_IDS = {
  files: "files-section", input: "file-input", inputHint: "file-input-hint",
  inputError: "file-input-error", filesStatus: "files-status", list: "file-list",
};

function elements(root, ids) {
  return Object.fromEntries(Object.entries(ids).map(([name, id]) => [name, part(root, id)]));
}

export class MediaComposer {
  /**
   * The composer's media parts in `form` (which carries data-max-message-bytes), for the
   * author's `keys`. `newIdentity()` resolves to {objectId, version} (client/letters.js
   * letterIdentity). `onChange()` is called whenever what would be sent changes.
   */
  static async start(keys, options) {
    return new MediaComposer(await protocol(), keys, options);
  }

  constructor(p, keys, { caseId, revisesMessageId, newIdentity, form, onChange = () => {} }) {
    this.p = p;
    this.keys = keys;
    this.identity = { caseId, revisesMessageId, newIdentity };
    this.onChange = onChange;
    const limit = Number.parseInt(form.dataset.maxMessageBytes || "", 10);
    this.maxBytes = Number.isSafeInteger(limit) && limit > 0 ? limit : DEFAULT_MAX_MESSAGE_BYTES;
    this.formats = ["letter"];
    this.busy = false;
    this.message = this.freshMessage();
    this.el = {
      section: part(form, "media-add"), notAccepted: part(form, "media-not-accepted"),
      hint: part(form, "media-hint"),
    };
    this.recording = new RecordingPanel(elements(form, RECORDING_IDS), {
      message: () => this.message,
      onChange: () => this.onChange(),
      onDeleted: () => {
        this.refresh();
        this.onChange();
      },
    });
    this.files = new FileList(elements(form, FILE_IDS), {
      limits: () => ({
        formats: this.formats,
        maxBytes: this.maxBytes,
        otherParts: this.recording.has() ? 1 : 0,
        totalBytes: (extra = []) => this.totalBytes("", extra),
      }),
      busy: () => this.busy,
      onChange: () => this.onChange(),
      onRemoved: () => this.refresh(),
    });
  }

  freshMessage() {
    return new MediaMessage(this.p, this.keys, this.identity);
  }

  // --- formats ---------------------------------------------------------------------------------

  /** What the recipient and the author both agreed to: ["letter", "audio", "video"] in any mix. */
  setFormats(formats) {
    this.formats = Array.isArray(formats) && formats.length ? formats : ["letter"];
    const canRecord = this.recording.setFormats(this.formats);
    const { el } = this;
    const files = this.files.el;
    const accept = [];
    const kinds = [];
    if (this.formats.includes("letter")) {
      accept.push(...PAGE_TYPES, ...PAGE_EXTENSIONS);
      kinds.push("photos or scans of a handwritten letter (JPEG, PNG, WebP or PDF)");
    }
    if (this.formats.includes("audio")) {
      accept.push("audio/*");
      kinds.push("sound files");
    }
    if (this.formats.includes("video")) {
      accept.push("video/*");
      kinds.push("video files");
    }
    files.input.accept = accept.join(",");
    files.inputHint.textContent =
      `You can add ${joinAnd(kinds)}. Everything together can be up to ${formatBytes(this.maxBytes)}. ` +
      "Pages are sent in the order shown; you can move them up or down.";
    files.files.hidden = accept.length === 0;
    el.section.hidden =
      this.recording.el.record.hidden && files.files.hidden && this.files.items.length === 0;
    el.hint.textContent = canRecord
      ? "You can send a recording or files with your letter, or instead of writing."
      : "You can send photos or scans of a handwritten letter with your letter, or instead of writing.";
    this.files.render();
    this.showNotAccepted();
  }

  /** Everything shown again for the same formats (after something was removed). */
  refresh() {
    this.setFormats(this.formats);
  }

  /** What the recipient did not agree to receive, in words (sending is blocked while any). */
  refusedParts() {
    const out = [];
    const rec = this.recording.item();
    if (rec) {
      const f = isVideo(rec.mime) ? "video" : "audio";
      if (!this.formats.includes(f)) out.push(`your ${f === "video" ? "video" : "sound"} recording`);
    }
    return [...out, ...this.files.refused(this.formats)];
  }

  showNotAccepted() {
    const refused = this.refusedParts();
    this.el.notAccepted.hidden = refused.length === 0;
    this.el.notAccepted.textContent = refused.length
      ? `The person you are writing to has not agreed to receive this kind of message: ${joinAnd(refused)}. Please remove it, or ask your facilitator.`
      : "";
  }

  // --- what would be sent ----------------------------------------------------------------------

  hasMedia() {
    return this.recording.has() || this.files.items.length > 0;
  }

  /** The bytes this message would take (text inline, everything else uploaded). */
  totalBytes(text, extra = []) {
    const rec = this.recording.item();
    let total = cipherSize(new TextEncoder().encode(text).length);
    if (rec) total += cipherSize(rec.size);
    for (const f of [...this.files.items, ...extra]) total += cipherSize(f.size);
    return total;
  }

  /** A sentence about what stops sending, or null. */
  problem(text) {
    if (this.recording.recording) {
      return "You are still recording. Press “Stop recording” first.";
    }
    const refused = this.refusedParts();
    if (refused.length) {
      return `The person you are writing to has not agreed to receive this kind of message: ${joinAnd(refused)}. Please remove it before sending.`;
    }
    const missing = this.files.missing();
    if (missing.length) {
      return `Please choose ${joinAnd(missing.map((f) => `“${f.name}”`))} again, or remove ${missing.length === 1 ? "it" : "them"}, before sending.`;
    }
    const total = this.totalBytes(text);
    if (total > this.maxBytes) {
      return `Your message is ${formatBytes(total)}, and the limit for one message is ${formatBytes(this.maxBytes)}. Please remove something or make the recording shorter. Nothing has been sent.`;
    }
    return null;
  }

  /** {items: [sentences], size: sentence}: what will be sent, for the summary. */
  summary(text) {
    const items = [];
    const characters = [...text].length;
    if (text.trim()) items.push(`Your written letter (${characters.toLocaleString("en-GB")} characters)`);
    const rec = this.recording.item();
    if (rec) {
      items.push(`A ${isVideo(rec.mime) ? "video" : "sound"} recording, ${formatDuration(rec.durationMs)} (${formatBytes(rec.size)})`);
    }
    for (const f of this.files.pages) items.push(`${this.files.label(f)} (${formatBytes(f.size)})`);
    for (const f of this.files.items.filter((x) => x.kind !== "page")) {
      const what = isVideo(f.mime) ? "Video file" : "Sound file";
      const length = f.durationMs ? `, ${formatDuration(f.durationMs)}` : "";
      items.push(`${what}: ${f.name}${length} (${formatBytes(f.size)})`);
    }
    return { items, size: `About ${formatBytes(this.totalBytes(text))} in all.` };
  }

  // --- continuing a message that was not sent --------------------------------------------------

  /** Messages kept on this device that were not sent: [{record, state}]. */
  static async findPending(keys, revisesMessageId) {
    return MediaMessage.findPending(await protocol(), keys, revisesMessageId);
  }

  /** Describe a pending message for the offer (no words of the text are shown). */
  static describe(state) {
    const bits = [];
    if (state.text && state.text.trim()) bits.push("a written letter");
    if (state.recording) bits.push(`a ${state.recording.video ? "video" : "sound"} recording`);
    const n = (state.files || []).length;
    if (n) bits.push(`${n} file${n === 1 ? "" : "s"}`);
    return bits.length ? `It has ${joinAnd(bits)}.` : "";
  }

  /** Take up a pending message: its recording from this device, its files to be chosen again. */
  async restore(found) {
    this.message = await MediaMessage.resume(this.p, this.keys, found, this.identity);
    const state = this.message.state;
    this.files.restore(state.files);
    this.refresh();
    if (this.message.hasRecording) await this.recording.showReview();
    this.onChange();
    return { text: state.text || "", recipientId: state.recipient_id, draftId: state.draft_id };
  }

  /** Delete a pending message from this device (and its upload from the server). */
  async discardPending(found) {
    const m = await MediaMessage.resume(this.p, this.keys, found, this.identity);
    await m.cancel();
  }

  // --- sending ---------------------------------------------------------------------------------

  /** Upload and seal; resolves to the submit fields. See MediaMessage.send. */
  async send({ text, casePk, recipientId, draftId, onProgress, onWaiting }) {
    this.busy = true;
    try {
      const kept = this.recording.asFile();
      const files = kept ? [kept, ...this.files.items] : this.files.items;
      return await this.message.send({ text, files, casePk, recipientId, draftId, onProgress,
        onWaiting });
    } finally {
      this.busy = false;
    }
  }

  /**
   * Cancel: the upload is removed from the server and the record from this device. What is in
   * the page stays: the recording (from memory) and the files can be sent again later.
   */
  async cancel() {
    await this.recording.keepInPage(async () => {
      await this.message.cancel();
      this.message = this.freshMessage();
    });
  }

  /** After a successful submit. */
  async sent() {
    this.recording.closePreview();
    await this.message.forget();
  }
}
