// Autosaved drafts of letters, sealed so that only their author can read them.
//
// A draft is stored by the server as an opaque blob (PUT /api/drafts/{draft_id}):
//   sealDraft(secretKey, accountId, draftId, UTF-8 JSON {v: 1, text, saved_at,
//             revises_message_id, recipient_participant_id})
// The draft id is made here (crypto.randomUUID) the first time there is something to keep, and
// is bound into the seal, so the server cannot show one draft in the place of another.
// `revises_message_id` is inside the seal too, so the server cannot move a draft of changes to
// one letter into the composer of another.
//
// Never losing words:
//   - every change is sealed at once (cheap: one AEAD over at most 200 kB), so a sealed copy of
//     the latest words is always ready, even at a moment when the key can no longer be used;
//   - it is sent SAVE_AFTER_MS after typing stops, and at least every SAVE_AT_LEAST_EVERY_MS
//     while typing goes on;
//   - when the page is hidden or left (visibilitychange, pagehide), whatever is not yet saved is
//     sent at once, with keepalive when the body is small enough for it;
//   - a failed save is kept and tried again; the status line says so calmly.
// And never leaking them: nothing is sealed with a key that has been wiped (quick exit and
// expiry zero the secret key: a zero key is a key anyone knows), and after sending, the keeper
// is closed so that leaving the page cannot save the sent letter again as a draft.

import { protocol } from "../crypto/keys.js";
import { ApiError } from "../lib/errors.js";
import { deleteJSON, getJSON, putJSON } from "../lib/http.js";

const SAVE_AFTER_MS = 2000;
const SAVE_AT_LEAST_EVERY_MS = 15000;
const RETRY_AFTER_MS = 10000;
// Browsers refuse keepalive requests whose bodies add up to more than 64 KiB.
const KEEPALIVE_LIMIT = 60 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function usable(secretKey) {
  return secretKey instanceof Uint8Array && secretKey.some((byte) => byte !== 0);
}

/**
 * The drafts this person can continue here, newest first: [{draftId, text, savedAt,
 * recipientId}]. Only drafts for `revisesMessageId` (null: new letters). A draft that does not
 * open (another key, damaged) or is empty is left out, and left alone on the server.
 */
export async function listDrafts(keys, revisesMessageId = null) {
  const p = await protocol();
  const rows = await getJSON("/api/drafts");
  const found = [];
  for (const row of Array.isArray(rows) ? rows : []) {
    try {
      const sealed = p.b64decode(row.blob);
      const data = JSON.parse(
        decoder.decode(p.openDraft(keys.secretKey, keys.accountId, row.draft_id, sealed)),
      );
      if (!data || typeof data.text !== "string" || data.text.trim() === "") continue;
      if ((data.revises_message_id || null) !== (revisesMessageId || null)) continue;
      found.push({
        draftId: row.draft_id,
        text: data.text,
        savedAt: typeof data.saved_at === "string" ? data.saved_at : row.updated_at,
        recipientId:
          typeof data.recipient_participant_id === "string" ? data.recipient_participant_id : null,
      });
    } catch {
      // Not ours to show: it does not open with this account's key, or is not a draft.
    }
  }
  found.sort((a, b) => (a.savedAt < b.savedAt ? 1 : a.savedAt > b.savedAt ? -1 : 0));
  return found;
}

/**
 * A keeper for one draft: new, or (`draft` {draftId, text} from listDrafts) carrying on a saved
 * one. keys: {accountId, secretKey}; revisesMessageId: string or null; onStatus(text) shows a
 * short calm sentence (role=status).
 */
export async function keepDraft(keys, { draft = null, revisesMessageId = null, onStatus } = {}) {
  const keeper = new DraftKeeper(await protocol(), keys, { revisesMessageId, onStatus });
  if (draft) keeper.resume(draft.draftId, draft.text);
  return keeper;
}

export class DraftKeeper {
  /** p: the protocol module; the rest as keepDraft. */
  constructor(p, keys, { revisesMessageId = null, onStatus = () => {} } = {}) {
    this.p = p;
    this.keys = keys;
    this.revisesMessageId = revisesMessageId;
    this.onStatus = onStatus;
    this.draftId = null;
    this.pending = null; // {body}: sealed, not yet saved
    this.lastText = null; // the text last sealed
    this.inFlight = null;
    this.timer = null;
    this.firstUnsavedAt = null;
    this.closed = false;
    this.onHidden = () => {
      if (document.visibilityState === "hidden") this.flush({ leaving: true });
    };
    this.onPageHide = () => this.flush({ leaving: true });
    document.addEventListener("visibilitychange", this.onHidden);
    window.addEventListener("pagehide", this.onPageHide);
  }

  /** Carry on an existing draft (its id), with the text it holds. */
  resume(draftId, text) {
    this.draftId = draftId;
    this.lastText = text;
  }

  /** The words changed: seal them now, save them soon. */
  changed(text, { recipientId = null } = {}) {
    if (this.closed || text === this.lastText) return;
    if (this.draftId === null && text.trim() === "") return; // nothing worth keeping yet
    if (!usable(this.keys.secretKey)) return; // wiped: leaving the site or signed out
    if (this.draftId === null) this.draftId = crypto.randomUUID();
    const payload = {
      v: 1,
      text,
      saved_at: new Date().toISOString(),
      revises_message_id: this.revisesMessageId,
      recipient_participant_id: recipientId,
    };
    const blob = this.p.sealDraft(
      this.keys.secretKey,
      this.keys.accountId,
      this.draftId,
      encoder.encode(JSON.stringify(payload)),
    );
    this.lastText = text;
    const body = { blob: this.p.b64encode(blob) };
    if (this.revisesMessageId) body.revises_message_id = this.revisesMessageId;
    this.pending = { draftId: this.draftId, body };
    if (this.firstUnsavedAt === null) this.firstUnsavedAt = Date.now();
    this.schedule();
  }

  schedule(delay = SAVE_AFTER_MS) {
    window.clearTimeout(this.timer);
    const waited = this.firstUnsavedAt === null ? 0 : Date.now() - this.firstUnsavedAt;
    const wait = Math.max(0, Math.min(delay, SAVE_AT_LEAST_EVERY_MS - waited));
    this.timer = window.setTimeout(() => this.flush(), wait);
  }

  /** True when every change has been saved. */
  get saved() {
    return this.pending === null && this.inFlight === null;
  }

  /**
   * Send what is not yet saved. Resolves when it is saved (or the attempt failed: the words are
   * kept and tried again). `leaving`: the page is going away, so send now with keepalive.
   */
  async flush({ leaving = false } = {}) {
    window.clearTimeout(this.timer);
    if (this.closed) return;
    if (this.inFlight && !leaving) {
      await this.inFlight.catch(() => {});
      if (this.pending && !this.closed) return this.flush();
      return;
    }
    if (!this.pending) {
      if (this.inFlight) await this.inFlight.catch(() => {});
      return;
    }
    const job = this.pending;
    this.pending = null;
    this.firstUnsavedAt = null;
    const size = job.body.blob.length + 200;
    const request = putJSON(`/api/drafts/${job.draftId}`, job.body, {
      keepalive: leaving && size < KEEPALIVE_LIMIT,
    });
    this.inFlight = request;
    try {
      await request;
      if (!this.closed) this.onStatus("Saved a moment ago.");
    } catch (error) {
      if (this.closed) return;
      // Keep these words unless newer ones have been sealed since.
      if (this.pending === null) this.pending = job;
      if (this.firstUnsavedAt === null) this.firstUnsavedAt = Date.now();
      this.onStatus(
        error instanceof ApiError && error.status === 401
          ? "Your words could not be saved because you have been signed out. Please copy anything you want to keep, then sign in again."
          : "Not saved just now. Your words are still here, and we will try again in a few seconds.",
      );
      // Also after leaving: if the page comes back (a phone woken, a tab switched back to),
      // the words are still sent.
      this.schedule(RETRY_AFTER_MS);
      return;
    } finally {
      if (this.inFlight === request) this.inFlight = null;
    }
    if (this.pending && !this.closed) this.schedule();
  }

  /** After sending: stop saving, and forget the draft on the server (if it was ever saved). */
  async discard() {
    this.close();
    if (this.draftId === null) return;
    if (this.inFlight) await this.inFlight.catch(() => {});
    try {
      await deleteJSON(`/api/drafts/${this.draftId}`);
    } catch {
      // The server drops the draft named in the send request itself; this is a second try.
    }
  }

  close() {
    this.closed = true;
    window.clearTimeout(this.timer);
    this.pending = null;
    document.removeEventListener("visibilitychange", this.onHidden);
    window.removeEventListener("pagehide", this.onPageHide);
  }
}
