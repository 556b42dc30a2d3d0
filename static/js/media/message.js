// One media message being made: its identity (object id, version, content key K), its recording
// (sealed as it is recorded and kept in IndexedDB), its files, and sending it (upload, then the
// submit fields). The page (compose-media.js) owns the buttons; this owns the bytes.
//
//   const m = new MediaMessage(p, keys, { caseId, revisesMessageId, newIdentity });
//   const sink = await m.beginRecording({ mime, video });  sink.push(bytes, ms); sink.finish(ms)
//   const fields = await m.send({ text, files, casePk, onProgress, onWaiting });
//   ...POST them, then await m.forget();
//
//   MediaMessage.findPending(p, keys, revisesMessageId) -> [{record, state}]
//   MediaMessage.resume(p, keys, found)                  -> a MediaMessage, its recording
//                                                           finished from the checkpoint if the
//                                                           tab had crashed while recording
//
// Parts: 0 the text letter (inline); 1 the recording if there is one (its chunks are sealed
// while recording, so its part number is fixed then); then the files, in the order chosen.

import { PartSealer, chunkCountFor, cipherSize, sealMessage, sealTextPart } from "./seal.js";
import * as store from "./store.js";
import { UploadCancelled, Uploader } from "./upload.js";

const CHECKPOINT_EVERY_MS = 3000;
export const RECORDING_PART = 1;

function randomId() {
  return crypto.randomUUID();
}

export class MediaMessage {
  /**
   * `newIdentity()` resolves to {objectId, version}: POST /api/letters/objects (version 1), or
   * the revised letter's object and version + 1. Called once, the first time it is needed.
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

  /**
   * Start sealing a new recording (replacing any earlier one). Returns a sink:
   *   push(bytes, elapsedMs)  seal what is complete, keep it, checkpoint the tail
   *   finish(durationMs)      seal the final chunk; the recording is then complete
   * Calls must not overlap (the recorder feeds them in order).
   */
  async beginRecording({ mime, video }) {
    await this.ensureIdentity();
    await this.dropRecording();
    const id = this.id;
    this.state.recording = { rec_id: randomId(), mime, video, complete: false, duration_ms: 0,
      size: 0, chunks: 0 };
    await this.persist();
    const sealer = new PartSealer(this.p, { key: this.key, objectId: this.objectId,
      version: this.version, part: RECORDING_PART, kind: "recording", mime, name: "" });
    let lastCheckpoint = 0;
    const keep = async (chunk) => {
      if (this.memory) this.memory.set(chunk.index, chunk);
      else await store.putChunk(id, chunk);
    };
    const checkpoint = async (elapsedMs) => {
      if (this.memory) return;
      const header = { part: RECORDING_PART, next_index: sealer.index,
        plain_bytes: sealer.plainBytes - sealer.fill, duration_ms: Math.round(elapsedMs) };
      await store.putCheckpoint(id, RECORDING_PART,
        await store.sealCheckpoint(this.key, header, sealer.tail()));
      lastCheckpoint = performance.now();
    };
    await checkpoint(0);
    return {
      push: async (bytes, elapsedMs) => {
        const chunks = sealer.push(bytes);
        for (const chunk of chunks) await keep(chunk);
        if (chunks.length > 0 || performance.now() - lastCheckpoint >= CHECKPOINT_EVERY_MS) {
          await checkpoint(elapsedMs);
        }
      },
      finish: async (durationMs) => {
        sealer.finish();
        await keep(sealer.lastChunk);
        if (!this.memory) await store.deleteCheckpoint(id, RECORDING_PART);
        Object.assign(this.state.recording, { complete: true, duration_ms: Math.round(durationMs),
          size: sealer.plainBytes, chunks: sealer.index });
        await this.persist();
      },
    };
  }

  /** Forget the recording (delete, or before recording again). */
  async dropRecording() {
    if (!this.state.recording) return;
    this.state.recording = null;
    if (this.memory) this.memory.clear();
    else if (this.id) await store.deleteChunks(this.id, RECORDING_PART);
    await this.persist();
  }

  /** The stored chunks of the recording: [{part, index, final, size, hash}] without bytes. */
  async recordingChunks() {
    if (this.memory) {
      return [...this.memory.values()].sort((a, b) => a.index - b.index)
        .map(({ part, index, final, size, hash }) => ({ part, index, final, size, hash }));
    }
    return store.listChunks(this.id, RECORDING_PART);
  }

  async recordingChunk(index) {
    if (this.memory) return this.memory.get(index).data;
    const row = await store.getChunk(this.id, RECORDING_PART, index);
    if (!row) throw new Error("a piece of the recording is missing on this device");
    return row.data;
  }

  /** The recording as a Blob (decrypted from IndexedDB), to play it back after a reload. */
  async recordingBlob() {
    const { p } = this;
    const list = await this.recordingChunks();
    const pieces = [];
    for (const meta of list) {
      const data = await this.recordingChunk(meta.index);
      pieces.push(p.decryptChunk(this.key, this.objectId, this.version, RECORDING_PART,
        meta.index, meta.final, data));
    }
    return new Blob(pieces, { type: this.state.recording.mime });
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
    if (m.state.recording && !m.state.recording.complete) await m.finishCrashedRecording();
    return m;
  }

  /**
   * The tab closed while recording: every full chunk is in IndexedDB, and the checkpoint holds
   * the rest (sealed under K). The tail becomes the final chunk; the last seconds after the
   * checkpoint are lost. Chunks sealed after the checkpoint are dropped so the two agree.
   */
  async finishCrashedRecording() {
    const { p } = this;
    const id = this.id;
    const blob = await store.getCheckpoint(id, RECORDING_PART);
    const opened = blob ? await store.openCheckpoint(this.key, blob) : null;
    if (!opened) {
      await this.dropRecording();
      return;
    }
    const { header, tail } = opened;
    await store.deleteChunks(id, RECORDING_PART, header.next_index);
    const kept = (await store.listChunks(id, RECORDING_PART)).filter((c) => !c.final);
    if (kept.length !== header.next_index || kept.some((c, i) => c.index !== i)) {
      await this.dropRecording();
      return;
    }
    const sealer = new PartSealer(p, { key: this.key, objectId: this.objectId,
      version: this.version, part: RECORDING_PART, kind: "recording",
      mime: this.state.recording.mime, name: "", startIndex: header.next_index,
      hashes: kept.map((c) => c.hash), sizes: kept.map((c) => c.size),
      plainBytes: header.plain_bytes });
    sealer.push(tail);
    sealer.finish();
    await store.putChunk(id, sealer.lastChunk);
    await store.deleteCheckpoint(id, RECORDING_PART);
    Object.assign(this.state.recording, { complete: true, duration_ms: header.duration_ms,
      size: sealer.plainBytes, chunks: sealer.index });
    await this.persist();
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

  /** Ciphertext bytes the upload declares (recording chunks as stored, files as they will be). */
  static uploadBytes(parts) {
    return parts.reduce((sum, part) => sum + cipherSize(part.size), 0);
  }

  static signature(parts) {
    return JSON.stringify(parts.map(({ part, kind, mime, name, size, last_modified, rec_id }) =>
      [part, kind, mime, name, size, last_modified ?? null, rec_id ?? null]));
  }

  /**
   * Upload every part, then build the submit fields. `files` are the page's file items
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
        return await this.upload(parts, text, casePk, { onProgress, onWaiting });
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

  async upload(parts, text, casePk, { onProgress, onWaiting }) {
    const { p } = this;
    const uploader = new Uploader({ objectId: this.objectId, version: this.version, onProgress,
      onWaiting });
    this.uploader = uploader;
    const { held } = await uploader.start(MediaMessage.uploadBytes(parts));
    const key = this.key;
    const sealers = [];
    const stored = [];
    const self = this;

    async function* chunks() {
      for (const part of parts) {
        if (part.kind === "recording") {
          for (const meta of await self.recordingChunks()) {
            stored.push(meta);
            const have = held.get(`${part.part}/${meta.index}`);
            if (have && have.size === meta.size && have.hash === p.b64encode(meta.hash)) {
              uploader.alreadySent(meta.size);
              continue;
            }
            yield { part: part.part, index: meta.index, data: await self.recordingChunk(meta.index),
              hash: meta.hash };
          }
          sealers.push({ entry: () => recordingEntry(p, part, stored) });
          continue;
        }
        const file = part.file;
        const sealer = new PartSealer(p, { key, objectId: self.objectId, version: self.version,
          part: part.part, kind: part.kind, mime: part.mime, name: part.name,
          knownSize: part.size });
        const count = chunkCountFor(part.size, p.CHUNK_SIZE);
        for (let index = 0; index < count; index += 1) {
          const start = index * p.CHUNK_SIZE;
          const end = Math.min(part.size, start + p.CHUNK_SIZE);
          const final = index === count - 1;
          const have = held.get(`${part.part}/${index}`);
          if (have && have.size === end - start + 40) {
            // Held already (resume): its hash is taken from the server's list without reading
            // the file again. The server cannot forge such a chunk: it would have to be sealed
            // under K, with this object, version, part, index and final flag in its AD, and K
            // never leaves this browser unsealed; anything else fails to open for the reader.
            sealer.skipChunk({ size: have.size, hash: p.b64decode(have.hash) });
            stored.push({ part: part.part, index, final, size: have.size,
              hash: p.b64decode(have.hash) });
            uploader.alreadySent(have.size);
            continue;
          }
          const plain = new Uint8Array(await file.slice(start, end).arrayBuffer());
          const out = sealer.push(plain);
          plain.fill(0);
          if (final) {
            sealer.finish();
            out.push(sealer.lastChunk);
          }
          for (const chunk of out) {
            stored.push({ part: chunk.part, index: chunk.index, final: chunk.final,
              size: chunk.size, hash: chunk.hash });
            yield chunk;
          }
        }
        if (!sealer.finished) sealer.finish();
        sealers.push({ entry: () => sealer.entry({ durationMs: part.duration_ms }) });
      }
    }

    await uploader.send(chunks());
    this.uploader = null;
    const textPart = sealTextPart(p, { key, objectId: this.objectId, version: this.version, text });
    const entries = [textPart.entry, ...sealers.map((s) => s.entry())];
    const authorPk = p.publicKeyFromSecret(this.keys.secretKey);
    const { fields } = sealMessage(p, {
      key, objectId: this.objectId, version: this.version,
      createdAt: new Date().toISOString(), authorId: this.keys.accountId,
      authorSk: this.keys.secretKey, authorPk, casePk, inline: textPart.chunks,
      stored: stored.sort((a, b) => a.part - b.part || a.index - b.index), entries,
    });
    return fields;
  }

  /** Remove the server's upload and take a new K (the recording is sealed again under it). */
  async resetUpload() {
    const { p } = this;
    const old = this.key;
    const base = `/api/uploads/${encodeURIComponent(this.objectId)}/${this.version}`;
    const { deleteJSON } = await import("../lib/http.js");
    await deleteJSON(base).catch(() => {});
    const key = p.generateContentKey();
    if (this.hasRecording) {
      for (const meta of await this.recordingChunks()) {
        const data = await this.recordingChunk(meta.index);
        const plain = p.decryptChunk(old, this.objectId, this.version, RECORDING_PART,
          meta.index, meta.final, data);
        const sealed = p.encryptChunk(key, this.objectId, this.version, RECORDING_PART,
          meta.index, meta.final, plain);
        plain.fill(0);
        const chunk = { part: RECORDING_PART, index: meta.index, final: meta.final, data: sealed,
          size: sealed.length, hash: p.chunkHash(sealed) };
        if (this.memory) this.memory.set(meta.index, chunk);
        else await store.putChunk(this.id, chunk);
      }
    }
    this.key = key;
    old.fill(0);
    this.state.upload_plan = null;
    await this.persist();
  }

  /** Stop sending: the upload is removed from the server and this device forgets it all. */
  async cancel() {
    if (this.uploader) await this.uploader.cancel();
    else if (this.objectId) {
      const { deleteJSON } = await import("../lib/http.js");
      await deleteJSON(`/api/uploads/${encodeURIComponent(this.objectId)}/${this.version}`)
        .catch(() => {});
    }
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

function recordingEntry(p, part, stored) {
  const mine = stored.filter((c) => c.part === part.part).sort((a, b) => a.index - b.index);
  const entry = {
    kind: "recording",
    mime: part.mime,
    name: "",
    size: part.size,
    chunks: mine.length,
    hashes: mine.map((c) => p.b64encode(c.hash)),
  };
  if (Number.isSafeInteger(part.duration_ms)) entry.duration_ms = part.duration_ms;
  return entry;
}

export { UploadCancelled };
