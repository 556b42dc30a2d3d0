// Recording in the composer (templates/letters/_media_add.html, #record-section): start and
// stop, the sound level and clock, playing it back, keeping, recording again or deleting it.
// Each piece the recorder gives is sealed at once into the message (media/message.js), so
// nothing of a recording is ever kept in clear; media/compose-media.js decides when recording
// is offered (setFormats) and sends what is kept.

import { isVideo } from "./file-kinds.js";
import { RECORDING_LIMIT_MS, Recorder, permissionMessage, recordingSupported } from "./recorder.js";
import { formatClock, formatDuration } from "./upload.js";

export class RecordingPanel {
  /**
   * `el`: the section's elements (compose-media.js finds them). `message()` is the message
   * being made (it changes after a cancel or when an unsent message is taken up again).
   * `onChange()` when what would be sent changes; `onDeleted()` when the recording is gone.
   */
  constructor(el, { message, onChange, onDeleted }) {
    this.el = el;
    this.message = message;
    this.onChange = onChange;
    this.onDeleted = onDeleted;
    this.formats = ["letter"];
    this.recorder = null;
    this.blob = null; // the recording in memory, for the preview
    this.fallback = null; // a file-like recording item after a cancel
    this.previewUrl = null;
    this.busy = false;
    el.limit.textContent = `up to ${formatDuration(RECORDING_LIMIT_MS)}`;
    el.start.addEventListener("click", () => this.start());
    el.stop.addEventListener("click", () => this.recorder && this.recorder.stop("stopped"));
    el.keep.addEventListener("click", () => this.keep());
    el.again.addEventListener("click", () => this.start());
    el.discard.addEventListener("click", () => this.discard());
    for (const radio of [el.kindAudio, el.kindVideo]) {
      radio.addEventListener("change", () => this.showDevices());
    }
    window.addEventListener("pagehide", () => {
      if (this.recorder) this.recorder.close();
    });
  }

  /** Offer recording in these formats (sound, video or both); true when it is offered. */
  setFormats(formats) {
    const { el } = this;
    this.formats = formats;
    const audio = formats.includes("audio");
    const video = formats.includes("video");
    const canRecord = (audio || video) && recordingSupported();
    el.record.hidden = !canRecord && !this.has();
    el.kind.hidden = !(audio && video);
    if (audio && video) {
      if (!el.kindAudio.checked && !el.kindVideo.checked) el.kindAudio.checked = true;
    } else {
      el.kindAudio.checked = audio;
      el.kindVideo.checked = video;
    }
    this.showDevices();
    return canRecord;
  }

  showDevices() {
    this.el.devices.textContent = this.wantsVideo() ? "camera and microphone" : "microphone";
  }

  wantsVideo() {
    return this.el.kindVideo.checked && this.formats.includes("video");
  }

  get recording() {
    return Boolean(this.recorder && this.recorder.recording);
  }

  has() {
    return this.message().hasRecording || !!this.fallback;
  }

  /** {mime, size, durationMs} of the recording that would be sent, or null. */
  item() {
    const message = this.message();
    if (message.hasRecording) {
      const r = message.state.recording;
      return { mime: r.mime, size: r.size, durationMs: r.duration_ms };
    }
    return this.fallback;
  }

  async start() {
    const { el } = this;
    if (this.busy || this.recording) return;
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
        this.blob = blob;
        this.fallback = null;
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
      if (this.has()) this.showReview();
      return;
    }
    try {
      this.blob = null;
      this.fallback = null;
      const message = this.message();
      sinkReady = message.beginRecording({ mime: recorder.mimeType, video });
      await sinkReady;
      this.recorder = recorder;
      recorder.start();
      // The type the browser really records with (it may differ from the one asked for).
      message.state.recording.mime = recorder.mimeType;
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

  /** Show the kept recording with its player, to play it back before sending. */
  async showReview() {
    const { el } = this;
    const item = this.item();
    if (!item) return;
    const video = isVideo(item.mime);
    const message = this.message();
    let blob = this.blob;
    if (!blob && message.hasRecording) {
      try {
        blob = await message.recordingBlob();
        this.blob = blob;
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

  keep() {
    this.el.keep.hidden = true;
    this.el.status.textContent = "Your recording will be sent with your message.";
  }

  async discard() {
    const { el } = this;
    this.closePreview();
    this.blob = null;
    this.fallback = null;
    await this.message().dropRecording();
    el.review.hidden = true;
    el.start.hidden = false;
    el.status.textContent = "The recording was deleted.";
    el.start.focus();
    this.onDeleted();
  }

  /**
   * Sending was cancelled: the message (and its sealed recording) is gone from this device,
   * but the recording stays in the page, from memory, to be sent later as it is.
   */
  async keepInPage(cancel) {
    const message = this.message();
    const rec = message.hasRecording ? message.state.recording : null;
    let blob = this.blob;
    if (rec && !blob) blob = await message.recordingBlob().catch(() => null);
    await cancel();
    if (rec && blob) {
      this.blob = blob;
      this.fallback = { mime: rec.mime, size: blob.size, durationMs: rec.duration_ms,
        file: blob, lastModified: 0 };
    }
  }

  /** The recording as a file to send, when it is kept in the page only (after a cancel). */
  asFile() {
    if (!this.fallback || this.message().hasRecording) return null;
    return { ...this.fallback, kind: "recording", name: "" };
  }
}
