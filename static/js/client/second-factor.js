// The second factor (docs/security.md "Second factor"): passing the step after the password
// with a code or a passkey, adding a passkey, and finishing signing in once the step is passed.
// Every request of the second-factor pages is here; the page reads inputs and shows results.
//
// Passkeys use the platform (navigator.credentials); the server's options come as the WebAuthn
// JSON encoding (binary fields in base64url), and the credential goes back the same way.
// Failures: ApiError (the server's sentence), PasskeyNotUsed (the browser or the person
// stopped the passkey step), PasskeysUnsupported.

import { registerSigningKeyIfMissing } from "./account-keys.js";
import { pinRootOnFirstUse } from "./trust.js";
import { forget, openStoredKey, protocol, storedKeyBlob } from "../crypto/keys.js";
import { ShowableError } from "../lib/errors.js";
import { getJSON, postJSON, safeNext } from "../lib/http.js";

export class PasskeyNotUsed extends ShowableError {
  constructor() {
    super("The passkey was not used. You can try again, or use a code instead.");
    this.name = "PasskeyNotUsed";
  }
}

export class PasskeysUnsupported extends ShowableError {
  constructor() {
    super("This browser cannot use passkeys. Use a code instead, or another browser.");
    this.name = "PasskeysUnsupported";
  }
}

/** base64url (no padding) to bytes. */
export function fromBase64url(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** bytes (ArrayBuffer or view) to base64url without padding. */
export function toBase64url(buffer) {
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function withIds(list = []) {
  return list.map((item) => ({ ...item, id: fromBase64url(item.id) }));
}

/** The server's creation options (JSON) as navigator.credentials.create wants them. */
export function creationOptions(json) {
  return {
    ...json,
    challenge: fromBase64url(json.challenge),
    user: { ...json.user, id: fromBase64url(json.user.id) },
    excludeCredentials: withIds(json.excludeCredentials),
  };
}

/** The server's request options (JSON) as navigator.credentials.get wants them. */
export function requestOptions(json) {
  return {
    ...json,
    challenge: fromBase64url(json.challenge),
    allowCredentials: withIds(json.allowCredentials),
  };
}

/** A PublicKeyCredential as the JSON the server reads. */
export function credentialJSON(credential) {
  const r = credential.response;
  const response = { clientDataJSON: toBase64url(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = toBase64url(r.attestationObject);
    if (typeof r.getTransports === "function") response.transports = r.getTransports();
  } else {
    response.authenticatorData = toBase64url(r.authenticatorData);
    response.signature = toBase64url(r.signature);
    if (r.userHandle) response.userHandle = toBase64url(r.userHandle);
  }
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    response,
    clientExtensionResults: credential.getClientExtensionResults?.() ?? {},
  };
}

function credentialsApi(platform) {
  const api = platform?.credentials;
  if (!api || typeof globalThis.PublicKeyCredential === "undefined") {
    throw new PasskeysUnsupported();
  }
  return api;
}

async function ceremony(run) {
  try {
    const credential = await run();
    if (!credential) throw new PasskeyNotUsed();
    return credential;
  } catch (error) {
    if (error instanceof ShowableError) throw error;
    // NotAllowedError (cancelled, timed out) and the like: nothing the page can say more about.
    throw new PasskeyNotUsed();
  }
}

/** Pass the step with an app's code or a backup code: {next}. */
export async function passWithCode(code) {
  const answer = await postJSON("/api/sign-in/second-factor", { code });
  return { next: safeNext(answer.next) };
}

/** Pass the step with a passkey: {next}. */
export async function passWithPasskey({ platform = globalThis.navigator } = {}) {
  const api = credentialsApi(platform);
  const { options } = await postJSON("/api/sign-in/second-factor/passkey-options");
  const credential = await ceremony(() => api.get({ publicKey: requestOptions(options) }));
  const answer = await postJSON("/api/sign-in/second-factor/passkey", {
    credential: credentialJSON(credential),
  });
  return { next: safeNext(answer.next) };
}

/** Add a passkey to the account: {next}. */
export async function addPasskey({ platform = globalThis.navigator } = {}) {
  const api = credentialsApi(platform);
  const { options } = await postJSON("/api/account/second-factor/passkey-options");
  const credential = await ceremony(() => api.create({ publicKey: creationOptions(options) }));
  const answer = await postJSON("/api/account/second-factor/passkey", {
    credential: credentialJSON(credential),
  });
  return { next: safeNext(answer.next, "/account/second-factor") };
}

/**
 * What signing in leaves for after the step (client/accounts.js): registering an older
 * account's signing key and pinning the service root on first use. Best effort, with the key
 * this tab keeps; a tab without it has nothing to finish.
 */
export async function finishSignIn() {
  let session;
  let keys;
  try {
    const blob = storedKeyBlob();
    session = await getJSON("/api/session", { extendsSession: false });
    keys = await openStoredKey(blob, session);
  } catch {
    return;
  }
  try {
    const p = await protocol();
    await registerSigningKeyIfMissing(p, keys.secretKey, session);
    await pinRootOnFirstUse({ accountId: keys.accountId, secretKey: keys.secretKey });
  } finally {
    forget(keys.secretKey);
  }
}
