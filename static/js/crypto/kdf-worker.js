// Argon2id off the page's thread. Start it as a module worker:
//   const worker = new Worker("/static/js/kdf-worker.js", { type: "module" });
//   worker.postMessage({ password, salt, ops, mem });   // salt: base64url, mem: bytes
//   worker.onmessage = ({ data }) => data.error ? ... : use(data.authKey, data.wrapKey);
// The reply is { authKey, wrapKey } as base64url, or { error }. An `id` in the request is
// echoed back so a page can match replies. The master key is wiped here and never posted.

import { b64decode, b64encode, deriveAccountKeys, ready } from "./protocol.js";

/** One request in, one reply out; exported so tests can drive it without a Worker. */
export async function handleKdfRequest(request) {
  const reply = {};
  if (request !== null && typeof request === "object" && "id" in request) {
    reply.id = request.id;
  }
  try {
    await ready();
    const { password, salt, ops, mem } = request ?? {};
    const keys = deriveAccountKeys(password, b64decode(salt), ops, mem);
    reply.authKey = b64encode(keys.authKey);
    reply.wrapKey = b64encode(keys.wrapKey);
    keys.master.fill(0);
    keys.authKey.fill(0);
    keys.wrapKey.fill(0);
  } catch (error) {
    // Only the error's name and our own message: neither holds the password or a key.
    reply.error = error instanceof Error ? `${error.name}: ${error.message}` : "KDF failed";
  }
  return reply;
}

// Only inside a worker: importing this file elsewhere (tests) must not install a handler.
if (typeof WorkerGlobalScope !== "undefined" && self instanceof WorkerGlobalScope) {
  self.addEventListener("message", async (event) => {
    self.postMessage(await handleKdfRequest(event.data));
  });
}
