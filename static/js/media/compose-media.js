// The recording and file parts of the composer (templates/letters/compose.html, #media-add).
// compose.js keeps the letter, the recipient, the drafts and the confirmation; this adds:
//   - recording (recorder.js), sealed while it is recorded (message.js, IndexedDB);
//   - files: scanned pages (kept in the chosen order: move up, move down, remove) and sound or
//     video files, checked against the size limit before anything is sent;
//   - only the formats the recipient accepts are offered;
//   - the summary before sending, the upload with its progress bar, and Cancel;
//   - continuing a message that was not sent (after a reload or a crash).
//
// Public: class MediaComposer (see the methods' comments), DEFAULT_MAX_MESSAGE_BYTES.

import { ApiError } from "../lib/errors.js";
import { MAX_PARTS, cipherSize } from "./seal.js";
import { MediaMessage, UploadCancelled } from "./message.js";
import {
  RECORDING_LIMIT_MS,
  Recorder,
  permissionMessage,
  recordingSupported,
} from "./recorder.js";
import { formatBytes, formatClock, formatDuration, formatTimeLeft } from "./upload.js";

export const DEFAULT_MAX_MESSAGE_BYTES = 1024 ** 3;

const PAGE_TYPES = ["image/jpeg", "image/png", "image/webp", "application/pdf"];
const BY_EXTENSION = {
  jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png", webp: "image/webp",
  pdf: "application/pdf", mp3: "audio/mpeg", m4a: "audio/mp4", aac: "audio/aac",
  wav: "audio/wav", ogg: "audio/ogg", oga: "audio/ogg", opus: "audio/ogg", weba: "audio/webm",
  mp4: "video/mp4", m4v: "video/mp4", mov: "video/quicktime", webm: "video/webm",
};

const $ = (id) => document.getElementById(id);

function mimeOf(file) {
  const type = (file.type || "").toLowerCase();
  if (type) return type;
  const ext = (file.name.split(".").pop() || "").toLowerCase();
  return BY_EXTENSION[ext] || "";
}

/** "page" (needs letter), "audio", "video", or null (not accepted at all). */
function classify(mime) {
  if (PAGE_TYPES.includes(mime)) return "page";
  if (mime.startsWith("audio/")) return "audio";
  if (mime.startsWith("video/")) return "video";
  return null;
}

const FORMAT_OF = { page: "letter", audio: "audio", video: "video" };

/** The length of an audio or video file, read locally from its metadata (ms), or null. */
function mediaDuration(file, video) {
  return new Promise((resolve) => {
    const element = document.createElement(video ? "video" : "audio");
    const url = URL.createObjectURL(file);
    const done = (value) => {
      URL.revokeObjectURL(url);
      element.removeAttribute("src");
      resolve(value);
    };
    element.preload = "metadata";
    element.muted = true;
    element.addEventListener("loadedmetadata", () => {
      const seconds = element.duration;
      done(Number.isFinite(seconds) ? Math.round(seconds * 1000) : null);
    }, { once: true });
    element.addEventListener("error", () => done(null), { once: true });
    setTimeout(() => done(null), 10000);
    element.src = url;
  });
}

export class MediaComposer {
  /**
   * `newIdentity()` resolves to {objectId, version} (see message.js). `form` carries
   * data-max-message-bytes. `onChange()` is called whenever what would be sent changes.
   */
  constructor(p, keys, { caseId, revisesMessageId, newIdentity, form, onChange = () => {} }) {
    this.p = p;
    this.keys = keys;
    this.caseId = caseId;
    this.revisesMessageId = revisesMessageId;
    this.newIdentity = newIdentity;
    this.onChange = onChange;
    const limit = Number.parseInt(form.dataset.maxMessageBytes || "", 10);
    this.maxBytes = Number.isSafeInteger(limit) && limit > 0 ? limit : DEFAULT_MAX_MESSAGE_BYTES;
    this.formats = ["letter"];
    this.files = []; // {key, kind, mime, name, size, lastModified, durationMs, file, needsFile}
    this.recordingBlob = null; // the recording in memory, for the preview
    this.recordingFallback = null; // a file-like recording item after a cancel
    this.recorder = null;
    this.sink = null;
    this.previewUrl = null;
    this.busy = false;
    this.message = this.freshMessage();
    this.el = {
      section: $("media-add"), notAccepted: $("media-not-accepted"), hint: $("media-hint"),
      record: $("record-section"), kind: $("record-kind"), kindAudio: $("record-kind-audio"),
      kindVideo: $("record-kind-video"), devices: $("record-devices"), limit: $("record-limit"),
      live: $("record-live"), camera: $("record-camera"), level: $("record-level"),
      clock: $("record-clock"), status: $("record-status"), alert: $("record-alert"),
      start: $("record-start"), stop: $("record-stop"), review: $("record-review"),
      reviewHeading: $("record-review-heading"), previewVideo: $("record-preview-video"),
      previewAudio: $("record-preview-audio"), summary: $("record-summary"),
      keep: $("record-keep"), again: $("record-again"), discard: $("record-discard"),
      files: $("files-section"), input: $("file-input"), inputHint: $("file-input-hint"),
      inputError: $("file-input-error"), filesStatus: $("files-status"), list: $("file-list"),
    };
    this.el.limit.textContent = `up to ${formatDuration(RECORDING_LIMIT_MS)}`;
    this.wire();
  }

  freshMessage() {
    return new MediaMessage(this.p, this.keys, { caseId: this.caseId,
      revisesMessageId: this.revisesMessageId, newIdentity: this.newIdentity });
  }

  wire() {
    const { el } = this;
    el.start.addEventListener("click", () => this.startRecording());
    el.stop.addEventListener("click", () => this.recorder && this.recorder.stop("stopped"));
    el.keep.addEventListener("click", () => this.keepRecording());
    el.again.addEventListener("click", () => this.startRecording());
    el.discard.addEventListener("click", () => this.discardRecording());
    for (const radio of [el.kindAudio, el.kindVideo]) {
      radio.addEventListener("change", () => this.showDevices());
    }
    el.input.addEventListener("change", () => {
      const chosen = [...el.input.files];
      el.input.value = "";
      this.addFiles(chosen);
    });
    window.addEventListener("pagehide", () => {
      if (this.recorder) this.recorder.close();
    });
  }

  // --- formats ---------------------------------------------------------------------------------

  /** What the recipient (and the author) accept: ["letter", "audio", "video"] in any mix. */
  setFormats(formats) {
    this.formats = Array.isArray(formats) && formats.length ? formats : ["letter"];
    const { el } = this;
    const audio = this.formats.includes("audio");
    const video = this.formats.includes("video");
    const letter = this.formats.includes("letter");
    const canRecord = (audio || video) && recordingSupported();
    el.record.hidden = !canRecord && !this.hasRecording();
    el.kind.hidden = !(audio && video);
    if (audio && video) {
      if (!el.kindAudio.checked && !el.kindVideo.checked) el.kindAudio.checked = true;
    } else {
      el.kindAudio.checked = audio;
      el.kindVideo.checked = video;
    }
    this.showDevices();
    const accept = [];
    const kinds = [];
    if (letter) {
      accept.push(...PAGE_TYPES, ".jpg", ".jpeg", ".png", ".webp", ".pdf");
      kinds.push("photos or scans of a handwritten letter (JPEG, PNG, WebP or PDF)");
    }
    if (audio) {
      accept.push("audio/*");
      kinds.push("sound files");
    }
    if (video) {
      accept.push("video/*");
      kinds.push("video files");
    }
    el.input.accept = accept.join(",");
    el.inputHint.textContent =
      `You can add ${joinAnd(kinds)}. Everything together can be up to ${formatBytes(this.maxBytes)}. ` +
      "Pages are sent in the order shown; you can move them up or down.";
    el.files.hidden = accept.length === 0;
    el.section.hidden = el.record.hidden && el.files.hidden && this.files.length === 0;
    el.hint.textContent = canRecord
      ? "You can send a recording or files with your letter, or instead of writing."
      : "You can send photos or scans of a handwritten letter with your letter, or instead of writing.";
    this.renderFiles();
    this.showNotAccepted();
  }

  showDevices() {
    this.el.devices.textContent = this.wantsVideo() ? "camera and microphone" : "microphone";
  }

  wantsVideo() {
    return this.el.kindVideo.checked && this.formats.includes("video");
  }

  /** Sentences about parts the recipient does not accept (sending is blocked while any). */
  refusedParts() {
    const out = [];
    const rec = this.recordingItem();
    if (rec) {
      const f = /^video\//.test(rec.mime) ? "video" : "audio";
      if (!this.formats.includes(f)) out.push(`your ${f === "video" ? "video" : "sound"} recording`);
    }
    for (const item of this.files) {
      const f = FORMAT_OF[classify(item.mime)];
      if (!this.formats.includes(f)) out.push(`“${item.name}”`);
    }
    return out;
  }

  showNotAccepted() {
    const refused = this.refusedParts();
    this.el.notAccepted.hidden = refused.length === 0;
    this.el.notAccepted.textContent = refused.length
      ? `The person you are writing to has not agreed to receive this kind of message: ${joinAnd(refused)}. Please remove it, or ask your facilitator.`
      : "";
  }

  // --- recording -------------------------------------------------------------------------------

  hasRecording() {
    return this.message.hasRecording || !!this.recordingFallback;
  }

  /** {mime, size, durationMs} of the recording that would be sent, or null. */
  recordingItem() {
    if (this.message.hasRecording) {
      const r = this.message.state.recording;
      return { mime: r.mime, size: r.size, durationMs: r.duration_ms };
    }
    return this.recordingFallback;
  }

  async startRecording() {
    const { el } = this;
    if (this.busy || (this.recorder && this.recorder.recording)) return;
    this.busy = true;
    el.alert.textContent = "";
    const video = this.wantsVideo();
    this.closePreview();
    el.review.hidden = true;
    el.status.textContent = video
      ? "Your browser may now ask to use the camera and microphone."
      : "Your browser may now ask to use the microphone.";
    let sinkReady = null;
    const recorder = new Recorder({
      video,
      limitMs: RECORDING_LIMIT_MS,
      onLevel: (value) => {
        el.level.value = value;
      },
      onTick: (ms) => {
        el.clock.textContent = `${formatClock(ms)} of ${formatClock(RECORDING_LIMIT_MS)}`;
      },
      onPiece: async (bytes) => {
        const sink = await sinkReady;
        await sink.push(bytes, performance.now() - recorder.started);
        bytes.fill(0);
      },
      onStop: async ({ blob, durationMs, reason }) => {
        const sink = await sinkReady;
        await sink.finish(durationMs);
        this.recordingBlob = blob;
        this.recordingFallback = null;
        recorder.close();
        this.recorder = null;
        el.live.hidden = true;
        el.camera.srcObject = null;
        el.stop.hidden = true;
        el.start.hidden = true;
        el.status.textContent = reason === "limit"
          ? `The recording stopped at the limit of ${formatDuration(RECORDING_LIMIT_MS)}. It is kept.`
          : "Recording stopped. It is kept on this device, locked.";
        this.showReview();
        this.onChange();
      },
    });
    try {
      const stream = await recorder.open();
      el.camera.hidden = !video;
      if (video) {
        el.camera.srcObject = stream;
        el.camera.play().catch(() => {});
      }
    } catch (error) {
      recorder.close();
      el.status.textContent = "";
      el.alert.textContent = permissionMessage(error, video);
      this.busy = false;
      if (this.hasRecording()) this.showReview();
      return;
    }
    try {
      this.recordingBlob = null;
      this.recordingFallback = null;
      sinkReady = this.message.beginRecording({ mime: recorder.mimeType, video });
      await sinkReady;
      this.recorder = recorder;
      recorder.start();
      // The type the browser really records with (it may differ from the one asked for).
      this.message.state.recording.mime = recorder.mimeType;
      el.live.hidden = false;
      el.start.hidden = true;
      el.stop.hidden = false;
      el.status.textContent = "Recording. Press “Stop recording” when you have finished.";
      el.stop.focus();
    } catch {
      recorder.close();
      el.status.textContent = "";
      el.alert.textContent =
        "Recording could not start, because this device could not keep it safely. Please try again.";
    } finally {
      this.busy = false;
    }
  }

  async showReview() {
    const { el } = this;
    const item = this.recordingItem();
    if (!item) return;
    const video = /^video\//.test(item.mime);
    let blob = this.recordingBlob;
    if (!blob && this.message.hasRecording) {
      try {
        blob = await this.message.recordingBlob();
        this.recordingBlob = blob;
      } catch {
        blob = null;
      }
    }
    this.closePreview();
    const player = video ? el.previewVideo : el.previewAudio;
    el.previewVideo.hidden = !video || !blob;
    el.previewAudio.hidden = video || !blob;
    if (blob) {
      this.previewUrl = URL.createObjectURL(blob);
      player.src = this.previewUrl;
    }
    el.summary.textContent =
      `A ${video ? "video" : "sound"} recording, ${formatDuration(item.durationMs)}. ` +
      "Play it back to check it. It is sent only when you send your message.";
    el.start.hidden = true;
    el.stop.hidden = true;
    el.keep.hidden = false;
    el.review.hidden = false;
    el.record.hidden = false;
    el.reviewHeading.focus();
  }

  closePreview() {
    const { el } = this;
    for (const player of [el.previewVideo, el.previewAudio]) {
      player.pause();
      player.removeAttribute("src");
      player.load();
    }
    if (this.previewUrl) URL.revokeObjectURL(this.previewUrl);
    this.previewUrl = null;
  }

  keepRecording() {
    const { el } = this;
    el.keep.hidden = true;
    el.status.textContent = "Your recording will be sent with your message.";
  }

  async discardRecording() {
    const { el } = this;
    this.closePreview();
    this.recordingBlob = null;
    this.recordingFallback = null;
    await this.message.dropRecording();
    el.review.hidden = true;
    el.start.hidden = false;
    el.status.textContent = "The recording was deleted.";
    el.start.focus();
    this.setFormats(this.formats);
    this.onChange();
  }

  // --- files -----------------------------------------------------------------------------------

  async addFiles(chosen) {
    const { el } = this;
    el.inputError.textContent = "";
    const problems = [];
    const added = [];
    for (const file of chosen) {
      const mime = mimeOf(file);
      const kind = classify(mime);
      if (!kind) {
        problems.push(`“${file.name}” cannot be added: only photos or scans (JPEG, PNG, WebP or PDF), sound files or video files can be sent.`);
        continue;
      }
      if (!this.formats.includes(FORMAT_OF[kind])) {
        problems.push(`“${file.name}” cannot be added: the person you are writing to has not agreed to receive ${kind === "page" ? "letters" : kind === "audio" ? "sound" : "video"}.`);
        continue;
      }
      if (this.files.length + added.length + (this.hasRecording() ? 1 : 0) >= MAX_PARTS - 1) {
        problems.push(`“${file.name}” was not added: a message can have at most ${MAX_PARTS - 2} files.`);
        continue;
      }
      const item = { key: crypto.randomUUID(), kind: kind === "page" ? "page" : "attachment", mime,
        name: file.name, size: file.size, lastModified: file.lastModified, durationMs: null, file,
        needsFile: false };
      if (kind !== "page") item.durationMs = await mediaDuration(file, kind === "video");
      added.push(item);
    }
    this.files.push(...added);
    const over = this.totalBytes("") > this.maxBytes;
    if (over) {
      for (const item of added) this.files.splice(this.files.indexOf(item), 1);
      problems.push(this.tooLargeSentence(added));
    }
    if (problems.length) el.inputError.textContent = problems.join(" ");
    if (added.length && !over) {
      el.filesStatus.textContent = added.length === 1
        ? `Added “${added[0].name}”.`
        : `Added ${added.length} files.`;
    }
    this.renderFiles();
    this.onChange();
  }

  tooLargeSentence(added = []) {
    const what = added.length === 1 ? `“${added[0].name}” was not added` : "These files were not added";
    return `${what}: the message would be ${formatBytes(this.totalBytes("", added))}, and the limit for one message is ${formatBytes(this.maxBytes)}. Nothing has been sent.`;
  }

  renderFiles() {
    const { el } = this;
    el.list.replaceChildren();
    el.list.hidden = this.files.length === 0;
    const pages = this.files.filter((f) => f.kind === "page");
    this.files.forEach((item, position) => {
      const li = document.createElement("li");
      li.className = "file-item";
      const label = item.kind === "page"
        ? `Page ${pages.indexOf(item) + 1} of ${pages.length}: ${item.name}`
        : `${/^video\//.test(item.mime) ? "Video" : "Sound"} file: ${item.name}`;
      const name = document.createElement("p");
      name.className = "file-name";
      name.textContent = label;
      const facts = document.createElement("p");
      facts.className = "hint";
      facts.textContent = [formatBytes(item.size),
        item.durationMs ? formatDuration(item.durationMs) : ""].filter(Boolean).join(", ");
      if (item.kind === "page" && item.mime.startsWith("image/") && item.file) {
        const img = document.createElement("img");
        img.className = "file-thumb";
        img.alt = `Preview of ${item.name}`;
        const url = URL.createObjectURL(item.file);
        const revoke = () => URL.revokeObjectURL(url);
        img.addEventListener("load", revoke, { once: true });
        img.addEventListener("error", revoke, { once: true });
        img.src = url;
        li.append(img);
      }
      li.append(name, facts);
      const actions = document.createElement("div");
      actions.className = "actions file-actions";
      if (item.needsFile) {
        const again = document.createElement("p");
        again.className = "notice warning";
        again.textContent = "To go on sending, please choose this file again. It is not sent until you do.";
        li.append(again);
        const inputId = `again-${item.key}`;
        const lab = document.createElement("label");
        lab.htmlFor = inputId;
        lab.textContent = `Choose “${item.name}” again`;
        const input = document.createElement("input");
        input.type = "file";
        input.id = inputId;
        input.addEventListener("change", () => this.chooseAgain(item, input.files[0]));
        const err = document.createElement("p");
        err.className = "field-error";
        err.id = `${inputId}-error`;
        err.setAttribute("aria-live", "polite");
        input.setAttribute("aria-describedby", err.id);
        li.append(lab, err, input);
      }
      // The visible words start the accessible name, then the file's name for screen readers
      // ("Move up letter-page-1.png"): voice control users say what they see (WCAG 2.5.3).
      const button = (text, action, disabled) => {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "button secondary small";
        const hidden = document.createElement("span");
        hidden.className = "visually-hidden";
        hidden.textContent = ` ${item.name}`;
        b.append(text, hidden);
        if (disabled) b.setAttribute("aria-disabled", "true");
        b.addEventListener("click", () => {
          if (b.getAttribute("aria-disabled") !== "true" && !this.busy) action();
        });
        return b;
      };
      actions.append(
        button("Move up", () => this.move(position, -1), position === 0),
        button("Move down", () => this.move(position, 1), position === this.files.length - 1),
        button("Remove", () => this.remove(position), false),
      );
      li.append(actions);
      el.list.append(li);
    });
  }

  move(position, step) {
    const to = position + step;
    if (to < 0 || to >= this.files.length) return;
    const [item] = this.files.splice(position, 1);
    this.files.splice(to, 0, item);
    this.renderFiles();
    this.el.filesStatus.textContent = `Moved “${item.name}” ${step < 0 ? "up" : "down"}.`;
    const buttons = this.el.list.children[to].querySelectorAll("button");
    const again = buttons[step < 0 ? 0 : 1];
    (again.getAttribute("aria-disabled") === "true" ? buttons[2] : again).focus();
    this.onChange();
  }

  remove(position) {
    const [item] = this.files.splice(position, 1);
    this.renderFiles();
    this.setFormats(this.formats);
    this.el.filesStatus.textContent = `Removed “${item.name}”.`;
    const next = this.el.list.children[Math.min(position, this.files.length - 1)];
    (next ? next.querySelector("button") : this.el.input).focus();
    this.onChange();
  }

  chooseAgain(item, file) {
    const error = $(`again-${item.key}-error`);
    if (!file) return;
    if (file.size !== item.size || file.lastModified !== item.lastModified) {
      error.textContent = `This is not the same file: “${file.name}” has a different size or date. Please choose the file you added before, or remove it.`;
      return;
    }
    item.file = file;
    item.needsFile = false;
    this.renderFiles();
    this.el.filesStatus.textContent = `Found “${item.name}” again.`;
    this.onChange();
  }

  // --- what would be sent ----------------------------------------------------------------------

  hasMedia() {
    return this.hasRecording() || this.files.length > 0;
  }

  /** The bytes this message would take (text inline, everything else uploaded). */
  totalBytes(text, extra = []) {
    const rec = this.recordingItem();
    let total = cipherSize(new TextEncoder().encode(text).length);
    if (rec) total += cipherSize(rec.size);
    for (const f of [...this.files, ...extra]) total += cipherSize(f.size);
    return total;
  }

  /** A sentence about what stops sending, or null. */
  problem(text) {
    if (this.recorder && this.recorder.recording) {
      return "You are still recording. Press “Stop recording” first.";
    }
    const refused = this.refusedParts();
    if (refused.length) {
      return `The person you are writing to has not agreed to receive this kind of message: ${joinAnd(refused)}. Please remove it before sending.`;
    }
    const missing = this.files.filter((f) => f.needsFile);
    if (missing.length) {
      return `Please choose ${joinAnd(missing.map((f) => `“${f.name}”`))} again, or remove ${missing.length === 1 ? "it" : "them"}, before sending.`;
    }
    const total = this.totalBytes(text);
    if (total > this.maxBytes) {
      return `Your message is ${formatBytes(total)}, and the limit for one message is ${formatBytes(this.maxBytes)}. Please remove something or make the recording shorter. Nothing has been sent.`;
    }
    return null;
  }

  /** [sentences] for the summary list; with the total size. */
  summary(text) {
    const items = [];
    const characters = [...text].length;
    if (text.trim()) items.push(`Your written letter (${characters.toLocaleString("en-GB")} characters)`);
    const rec = this.recordingItem();
    if (rec) {
      items.push(`A ${/^video\//.test(rec.mime) ? "video" : "sound"} recording, ${formatDuration(rec.durationMs)} (${formatBytes(rec.size)})`);
    }
    const pages = this.files.filter((f) => f.kind === "page");
    pages.forEach((f, i) => items.push(`Page ${i + 1} of ${pages.length}: ${f.name} (${formatBytes(f.size)})`));
    for (const f of this.files.filter((x) => x.kind !== "page")) {
      const what = /^video\//.test(f.mime) ? "Video file" : "Sound file";
      const length = f.durationMs ? `, ${formatDuration(f.durationMs)}` : "";
      items.push(`${what}: ${f.name}${length} (${formatBytes(f.size)})`);
    }
    return { items, size: `About ${formatBytes(this.totalBytes(text))} in all.` };
  }

  // --- continuing a message that was not sent --------------------------------------------------

  static async findPending(p, keys, revisesMessageId) {
    return MediaMessage.findPending(p, keys, revisesMessageId);
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
    this.message = await MediaMessage.resume(this.p, this.keys, found, { caseId: this.caseId,
      newIdentity: this.newIdentity });
    const state = this.message.state;
    this.files = (state.files || []).map((f) => ({ key: crypto.randomUUID(), kind: f.kind,
      mime: f.mime, name: f.name, size: f.size, lastModified: f.last_modified,
      durationMs: f.duration_ms, file: null, needsFile: true }));
    this.setFormats(this.formats);
    if (this.message.hasRecording) await this.showReview();
    this.onChange();
    return { text: state.text || "", recipientId: state.recipient_id, draftId: state.draft_id };
  }

  /** Delete a pending message from this device (and its upload from the server). */
  static async discardPending(p, keys, found, { caseId, newIdentity }) {
    const m = await MediaMessage.resume(p, keys, found, { caseId, newIdentity });
    await m.cancel();
  }

  // --- sending ---------------------------------------------------------------------------------

  /** Upload and seal; resolves to the submit fields. See MediaMessage.send. */
  async send({ text, casePk, recipientId, draftId, onProgress, onWaiting }) {
    this.busy = true;
    try {
      const files = this.recordingFallback && !this.message.hasRecording
        ? [{ ...this.recordingFallback, kind: "recording", name: "" }, ...this.files]
        : this.files;
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
    const rec = this.message.hasRecording ? this.message.state.recording : null;
    let blob = this.recordingBlob;
    if (rec && !blob) blob = await this.message.recordingBlob().catch(() => null);
    await this.message.cancel();
    this.message = this.freshMessage();
    if (rec && blob) {
      this.recordingBlob = blob;
      this.recordingFallback = { mime: rec.mime, size: blob.size, durationMs: rec.duration_ms,
        file: blob, lastModified: 0 };
    }
  }

  /** After a successful submit. */
  async sent() {
    this.closePreview();
    await this.message.forget();
  }
}

function joinAnd(list) {
  if (list.length <= 1) return list.join("");
  return `${list.slice(0, -1).join(", ")} and ${list[list.length - 1]}`;
}

export { ApiError, UploadCancelled, formatBytes, formatTimeLeft };
