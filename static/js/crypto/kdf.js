// Argon2id, always in a Worker: with 64 MiB and 3 passes it takes seconds on a phone, and on
// the page's own thread it would freeze the page (and the quick-exit button with it).
//
// One worker per derivation, terminated as soon as it answers, so its memory (which held the
// password and the master key) is released at once instead of lingering in an idle worker.

import { ShowableError } from "../lib/errors.js";

export const KDF_FAILED_MESSAGE =
  "This device could not finish securing your account. Close other apps or tabs, then try again.";

export class KdfError extends ShowableError {
  constructor() {
    super(KDF_FAILED_MESSAGE);
    this.name = "KdfError";
  }
}

/** Resolves to {authKey, wrapKey}, both base64url strings; rejects with KdfError. */
export function deriveInWorker(password, saltB64, ops, mem) {
  return new Promise((resolve, reject) => {
    let worker;
    try {
      worker = new Worker(new URL("./kdf-worker.js", import.meta.url), { type: "module" });
    } catch {
      reject(new KdfError());
      return;
    }
    const fail = (event) => {
      // Keep the browser from reporting the worker's error on the console: its text is
      // ours (protocol.js never puts secrets in messages), but the page handles it.
      if (event && typeof event.preventDefault === "function") event.preventDefault();
      worker.terminate();
      reject(new KdfError());
    };
    worker.addEventListener("message", (event) => {
      worker.terminate();
      const reply = event.data || {};
      if (typeof reply.authKey === "string" && typeof reply.wrapKey === "string") {
        resolve({ authKey: reply.authKey, wrapKey: reply.wrapKey });
      } else {
        reject(new KdfError());
      }
    });
    worker.addEventListener("error", fail);
    worker.addEventListener("messageerror", fail);
    worker.postMessage({ password, salt: saltB64, ops, mem });
  });
}
