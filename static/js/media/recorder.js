// Recording audio or video in the browser (MediaRecorder), with a sound level and a clock.
//
//   const rec = new Recorder({ video: true, limitMs, onPiece, onLevel, onTick, onStop });
//   const stream = await rec.open();   // asks for the camera/microphone: call it only when the
//                                      // person has pressed "Start recording"
//   rec.start();  ...  rec.stop();     // or it stops by itself at limitMs
//   rec.close();                       // camera and microphone off
//
// onPiece(bytes) gets the recording's bytes in order, about once a second (timeslice), so that
// the page can seal and keep them as they come; onStop({blob, durationMs, mimeType, reason})
// gets the whole recording (an in-memory Blob, for the preview) once the last piece is in.
// Nothing here sends anything anywhere.

export const RECORDING_LIMIT_MS = 10 * 60 * 1000;
export const TIMESLICE_MS = 1000;

export const VIDEO_TYPES = [
  "video/webm;codecs=vp9,opus",
  "video/webm;codecs=vp8,opus",
  "video/webm",
  "video/mp4;codecs=avc1,mp4a",
  "video/mp4",
];
export const AUDIO_TYPES = [
  "audio/webm;codecs=opus",
  "audio/ogg;codecs=opus",
  "audio/mp4",
  "audio/webm",
];

/** Whether this browser can record at all. */
export function recordingSupported() {
  return typeof window !== "undefined" && typeof window.MediaRecorder === "function" &&
    !!navigator.mediaDevices && typeof navigator.mediaDevices.getUserMedia === "function";
}

/** The first type of the preference list this browser records, or "" (the browser's default). */
export function pickMimeType(video) {
  const list = video ? VIDEO_TYPES : AUDIO_TYPES;
  if (!recordingSupported() || typeof MediaRecorder.isTypeSupported !== "function") return "";
  return list.find((type) => MediaRecorder.isTypeSupported(type)) || "";
}

/** A kind sentence for a getUserMedia failure. */
export function permissionMessage(error, video) {
  const what = video ? "camera and microphone" : "microphone";
  const name = error && error.name;
  if (name === "NotAllowedError" || name === "SecurityError") {
    return `That is fine: the ${what} stayed off. If you change your mind, you can allow the ${what} for this site in your browser's settings, then press "Start recording" again. You can also write your letter instead.`;
  }
  if (name === "NotFoundError" || name === "OverconstrainedError") {
    return `No ${what} was found on this device. You can write your letter instead, or add a recording you made another way.`;
  }
  if (name === "NotReadableError" || name === "AbortError") {
    return `The ${what} seems to be in use by another app. Close that app, then press "Start recording" again.`;
  }
  return `Recording could not start on this device. You can write your letter instead.`;
}

export class Recorder {
  constructor({ video = false, limitMs = RECORDING_LIMIT_MS, onPiece = () => {},
    onLevel = () => {}, onTick = () => {}, onStop = () => {} } = {}) {
    this.video = video;
    this.limitMs = limitMs;
    this.onPiece = onPiece;
    this.onLevel = onLevel;
    this.onTick = onTick;
    this.onStop = onStop;
    this.stream = null;
    this.recorder = null;
    this.audio = null;
    this.pieces = [];
    this.chain = Promise.resolve();
    this.started = 0;
    this.elapsed = 0;
    this.timer = null;
    this.frame = null;
    this.reason = "stopped";
  }

  get mimeType() {
    return (this.recorder && this.recorder.mimeType) || pickMimeType(this.video) ||
      (this.video ? "video/webm" : "audio/webm");
  }

  /** Ask for the devices. Rejects with the browser's error (see permissionMessage). */
  async open() {
    const constraints = this.video
      ? { audio: true, video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: "user" } }
      : { audio: true, video: false };
    this.stream = await navigator.mediaDevices.getUserMedia(constraints);
    this.startLevel();
    return this.stream;
  }

  start() {
    const type = pickMimeType(this.video);
    const options = type ? { mimeType: type } : {};
    // Modest bit rates keep a 10-minute video to a size that sends on a phone connection.
    if (this.video) options.videoBitsPerSecond = 1_000_000;
    options.audioBitsPerSecond = 64_000;
    this.recorder = new MediaRecorder(this.stream, options);
    this.pieces = [];
    this.recorder.addEventListener("dataavailable", (event) => {
      if (!event.data || event.data.size === 0) return;
      this.pieces.push(event.data);
      const blob = event.data;
      // In order, one at a time: the sealer must see the bytes exactly as recorded.
      this.chain = this.chain.then(async () => this.onPiece(new Uint8Array(await blob.arrayBuffer())));
    });
    this.recorder.addEventListener("stop", () => {
      this.elapsed = Math.round(performance.now() - this.started);
      clearInterval(this.timer);
      this.onTick(this.elapsed);
      const blob = new Blob(this.pieces, { type: this.mimeType });
      this.chain = this.chain.then(() =>
        this.onStop({ blob, durationMs: this.elapsed, mimeType: this.mimeType, reason: this.reason }));
    });
    this.started = performance.now();
    this.recorder.start(TIMESLICE_MS);
    this.timer = setInterval(() => {
      const ms = performance.now() - this.started;
      this.onTick(ms);
      if (ms >= this.limitMs) this.stop("limit");
    }, 250);
  }

  get recording() {
    return !!this.recorder && this.recorder.state === "recording";
  }

  stop(reason = "stopped") {
    if (!this.recording) return;
    this.reason = reason;
    this.recorder.stop();
  }

  /** Turn the camera and microphone off. */
  close() {
    if (this.recording) this.stop("closed");
    clearInterval(this.timer);
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = null;
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.stream = null;
    if (this.audio) this.audio.close().catch(() => {});
    this.audio = null;
    this.onLevel(0);
  }

  startLevel() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context || this.stream.getAudioTracks().length === 0) return;
    try {
      this.audio = new Context();
      const source = this.audio.createMediaStreamSource(this.stream);
      const analyser = this.audio.createAnalyser();
      analyser.fftSize = 1024;
      source.connect(analyser);
      const samples = new Uint8Array(analyser.fftSize);
      let last = 0;
      const tick = (now) => {
        this.frame = requestAnimationFrame(tick);
        if (now - last < 100) return;
        last = now;
        analyser.getByteTimeDomainData(samples);
        let sum = 0;
        for (const s of samples) sum += ((s - 128) / 128) ** 2;
        const rms = Math.sqrt(sum / samples.length);
        this.onLevel(Math.min(1, rms * 4));
      };
      this.frame = requestAnimationFrame(tick);
    } catch {
      this.audio = null; // no meter: recording still works
    }
  }
}
