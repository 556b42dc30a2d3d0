// One media message being made: its identity (object id, version, content key K), its recording
// (media/message-recording.js: sealed as it is recorded and kept in IndexedDB), its files, and
// sending it (media/message-upload.js: upload, then the submit fields). The composer
// (media/compose-media.js) owns the buttons; this owns the bytes.
//
//   const m = new MediaMessage(p, keys, { caseId, revisesMessageId, newIdentity });
//   const sink = await m.beginRecording({ mime, video });  sink.push(bytes, ms); sink.finish(ms)
//   const fields = await m.send({ text, files, casePk, onProgress, onWaiting });
//   ...submit them, then await m.forget();
//
//   MediaMessage.findPending(p, keys, revisesMessageId) -> [{record, state}]
//   MediaMessage.resume(p, keys, found)                  -> a MediaMessage, its recording
//                                                           finished from the checkpoint if the
//                                                           tab had crashed while recording
//
// Parts: 0 the text letter (inline); 1 the recording if there is one (its chunks are sealed
// while recording, so its part number is fixed then); then the files, in the order chosen.

import { deleteJSON } from "../lib/http.js";
import {
  RECORDING_PART,
  finishCrashedRecording,
  recordingBlob,
  recordingSink,
  sealRecordingAgain,
} from "./message-recording.js";
import { uploadAndSeal } from "./message-upload.js";
import * as store from "./store.js";
import { UploadCancelled } from "./upload.js";

export { RECORDING_PART, UploadCancelled };

export class MediaMessage {
  /**
   * `newIdentity()` resolves to {objectId, version}: a new object (version 1), or the revised
   * letter's object and version + 1 (client/letters.js letterIdentity). Called once, the first
   * time it is needed.
   */
  constructor(p, keys, { caseId, revisesMessageId = null, newIdentity }) {
    this.p = p;
    this.keys = keys;
    this.caseId = caseId;
    this.newIdentity = newIdentity;
    this.objectId = null;
    this.version = null;
    this.key = null;
    this.state = {
      v: 1,
      revises_message_id: revisesMessageId,
      recipient_id: null,
      draft_id: null,
      text: "",
      recording: null, // {rec_id, mime, video, complete, duration_ms, size, chunks}
      files: [], // [{kind, mime, name, size, last_modified, duration_ms}]
      upload_plan: null, // the parts an upload under K was started with
    };
    this.memory = null; // chunks kept in memory when IndexedDB cannot be used
    this.uploader = null;
  }

  get id() {
    return this.objectId ? store.pendingId(this.objectId, this.version) : null;
  }

  get hasRecording() {
    return !!(this.state.recording && this.state.recording.complete);
  }

  /** Object id, version and K, made once; the sealed record is written at once. */
  async ensureIdentity() {
    if (this.objectId) return;
    const { objectId, version } = await this.newIdentity();
    this.objectId = objectId;
    this.version = version;
    this.key = this.p.generateContentKey();
    await this.persist();
  }

  /** Seal the state (with K) to the author's own key and keep it in IndexedDB. */
  async persist() {
    if (!this.objectId || this.memory) return;
    const state = { ...this.state, k: this.p.b64encode(this.key) };
    try {
      await store.savePending(this.keys.publicKey, {
        objectId: this.objectId, version: this.version, caseId: this.caseId,
        accountId: this.keys.accountId,
      }, state);
    } catch {
      // IndexedDB refused (private browsing, disk full): everything stays in this tab only.
      this.memory = new Map();
    }
  }

  // --- recording -------------------------------------------------------------------------------

  /** Start sealing a new recording (replacing any earlier one): see recordingSink. */
  async beginRecording({ mime, video }) {
    await this.ensureIdentity();
    await this.dropRecording();
    this.state.recording = { rec_id: crypto.randomUUID(), mime, video, complete: false,
      duration_ms: 0, size: 0, chunks: 0 };
    await this.persist();
    return recordingSink(this, { mime });
  }

  /** Forget the recording (delete, or before recording again). */
  async dropRecording() {
    if (!this.state.recording) return;
    this.state.recording = null;
    if (this.memory) this.memory.clear();
    else if (this.id) await store.deleteChunks(this.id, RECORDING_PART);
    await this.persist();
  }

  /** The recording as a Blob (decrypted from this device), to play it back after a reload. */
  recordingBlob() {
    return recordingBlob(this);
  }

  // --- finding and resuming --------------------------------------------------------------------

  static async findPending(p, keys, revisesMessageId = null) {
    if (!store.storageAvailable()) return [];
    try {
      const found = await store.listPending(keys.accountId, keys.secretKey, keys.publicKey);
      return found.filter(({ state }) =>
        (state.revises_message_id || null) === (revisesMessageId || null) &&
        (state.text || state.recording || (state.files && state.files.length)));
    } catch {
      return [];
    }
  }

  static async resume(p, keys, { record, state }, { caseId, newIdentity }) {
    const m = new MediaMessage(p, keys, { caseId, revisesMessageId: state.revises_message_id,
      newIdentity });
    m.objectId = record.objectId;
    m.version = record.version;
    m.key = p.b64decode(state.k);
    delete state.k;
    m.state = { ...m.state, ...state };
    if (m.state.recording && !m.state.recording.complete) await finishCrashedRecording(m);
    return m;
  }

  // --- sending ---------------------------------------------------------------------------------

  /** The parts after the text, in order: [{part, kind, mime, name, size, ...}]. */
  plan(files) {
    const parts = [];
    let next = 1;
    if (this.hasRecording) {
      const r = this.state.recording;
      parts.push({ part: next++, kind: "recording", mime: r.mime, name: "", size: r.size,
        duration_ms: r.duration_ms, rec_id: r.rec_id });
    }
    for (const f of files) {
      parts.push({ part: next++, kind: f.kind, mime: f.mime, name: f.name, size: f.size,
        last_modified: f.lastModified, duration_ms: f.durationMs ?? null, file: f.file });
    }
    return parts;
  }

  static signature(parts) {
    return JSON.stringify(parts.map(({ part, kind, mime, name, size, last_modified, rec_id }) =>
      [part, kind, mime, name, size, last_modified ?? null, rec_id ?? null]));
  }

  /**
   * Upload every part, then build the submit fields. `files` are the composer's file items
   * ({kind, mime, name, size, lastModified, durationMs, file}). Resolves to the fields of
   * sealMessage (letter, grants, format, length). Rejects with ApiError or UploadCancelled.
   */
  async send({ text, files, casePk, recipientId = null, draftId = null, onProgress, onWaiting }) {
    await this.ensureIdentity();
    const parts = this.plan(files);
    const signature = MediaMessage.signature(parts);
    if (this.state.upload_plan && this.state.upload_plan !== signature) {
      // An upload under K was started with other parts: remove it, and never again use K for
      // other bytes in the same places.
      await this.resetUpload();
    }
    Object.assign(this.state, {
      text, recipient_id: recipientId, draft_id: draftId, upload_plan: signature,
      files: files.map((f) => ({ kind: f.kind, mime: f.mime, name: f.name, size: f.size,
        last_modified: f.lastModified, duration_ms: f.durationMs ?? null })),
    });
    await this.persist();
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await uploadAndSeal(this, parts, { text, casePk, onProgress, onWaiting });
      } catch (error) {
        // 409: the server holds other bytes for one of our chunks (an earlier try under this
        // K). Start once more under a new K, from nothing.
        if (attempt === 0 && error && error.status === 409) {
          await this.resetUpload();
          continue;
        }
        throw error;
      }
    }
  }

  get uploadUrl() {
    return `/api/uploads/${encodeURIComponent(this.objectId)}/${this.version}`;
  }

  /** Remove the server's upload and take a new K (the recording is sealed again under it). */
  async resetUpload() {
    const old = this.key;
    await deleteJSON(this.uploadUrl).catch(() => {});
    const key = this.p.generateContentKey();
    if (this.hasRecording) await sealRecordingAgain(this, old, key);
    this.key = key;
    old.fill(0);
    this.state.upload_plan = null;
    await this.persist();
  }

  /** Stop sending: the upload is removed from the server and this device forgets it all. */
  async cancel() {
    if (this.uploader) await this.uploader.cancel();
    else if (this.objectId) await deleteJSON(this.uploadUrl).catch(() => {});
    await this.forget();
  }

  /** After a submit (or a cancel): delete the local record and wipe K. */
  async forget() {
    if (this.id && !this.memory) await store.deletePending(this.id).catch(() => {});
    if (this.key) this.key.fill(0);
    this.key = null;
    this.objectId = null;
    this.version = null;
    this.state.recording = null;
    this.state.upload_plan = null;
    if (this.memory) this.memory = new Map();
  }
}
