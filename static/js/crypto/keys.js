// The account's secret key while signed in (docs/protocol-v1.md, "Session storage").
//
// sessionStorage["portal.sk"] holds AEAD(session_key, secret_key) as base64url. The session key
// lives on the server and is given only to this session's cookie (GET /api/session, fetched by
// client/session.js), so the stored blob is useless once the session ends: signing out, expiry
// or quick exit delete the server's copy. sessionStorage belongs to one tab and is gone when the
// tab closes.
//
// Every secret key handed out is remembered so that wipeKeys() (quick exit, sign-out, expiry)
// can overwrite it with zeros: a page that still holds a key in a variable then holds only
// zeros. A copy in a Worker (media/open-workers.js) is ended with it (whenKeysWiped).
//
// protocol.js (libsodium, about half a megabyte of WebAssembly) is imported on first use only:
// main.js imports this module on every page just for wipeKeys().

import { ShowableError } from "../lib/errors.js";

const STORAGE_KEY = "portal.sk";
const held = new Set();
const wipers = new Set();

let protocolPromise = null;

/** The protocol module, once libsodium is ready. */
export function protocol() {
  if (protocolPromise === null) {
    protocolPromise = import("./protocol.js").then(async (module) => {
      await module.ready();
      return module;
    });
    // A failed load (network) may be retried by the next call.
    protocolPromise.catch(() => {
      protocolPromise = null;
    });
  }
  return protocolPromise;
}

/** The key is missing or no longer opens: the person must sign in again (in this tab). */
export class KeysUnavailable extends ShowableError {
  constructor() {
    super(
      "Your keys are not available in this tab. Please sign out, then sign in again in this tab.",
    );
    this.name = "KeysUnavailable";
  }
}

/** Remember a secret key so that wipeKeys() zeroes it. Returns the same array. */
export function holdSecret(bytes) {
  if (bytes instanceof Uint8Array) held.add(bytes);
  return bytes;
}

/**
 * Call `wipe()` as well whenever wipeKeys() runs: for a copy of a key this page cannot zero
 * itself (a Worker's, which `wipe` ends). Returns a function that stops it (once the copy is
 * gone anyway).
 */
export function whenKeysWiped(wipe) {
  wipers.add(wipe);
  return () => {
    wipers.delete(wipe);
  };
}

/** Zero one key now (when a page is done with it). */
export function forget(bytes) {
  if (bytes instanceof Uint8Array) {
    bytes.fill(0);
    held.delete(bytes);
  }
}

/** Keep `secretKey` for this tab, wrapped under this session's key (base64url). */
export async function storeSecretKey(accountId, secretKey, sessionKeyB64) {
  const p = await protocol();
  const sessionKey = p.b64decode(sessionKeyB64);
  try {
    const blob = p.sessionWrap(sessionKey, accountId, secretKey);
    sessionStorage.setItem(STORAGE_KEY, p.b64encode(blob));
  } catch (error) {
    // Storage can be switched off or full. Signing in still worked; pages that need the key
    // will say so (KeysUnavailable) rather than fail here, half-way through signing in.
    if (error instanceof p.ProtocolError) throw error;
  } finally {
    sessionKey.fill(0);
  }
}

/** The wrapped key this tab keeps, or throws KeysUnavailable. */
export function storedKeyBlob() {
  let blob = null;
  try {
    blob = sessionStorage.getItem(STORAGE_KEY);
  } catch {
    blob = null;
  }
  if (!blob) throw new KeysUnavailable();
  return blob;
}

/**
 * Open the tab's wrapped key with the session's answer ({account_id, session_key, public_key}):
 * {accountId, secretKey (held), publicKey}, or KeysUnavailable for a blob from an earlier session
 * or another account signed in on this tab.
 */
export async function openStoredKey(blob, session) {
  const p = await protocol();
  const sessionKey = p.b64decode(session.session_key);
  try {
    const secretKey = p.sessionUnwrap(sessionKey, session.account_id, p.b64decode(blob));
    return {
      accountId: session.account_id,
      secretKey: holdSecret(secretKey),
      publicKey: p.b64decode(session.public_key),
    };
  } catch (error) {
    if (error instanceof p.ProtocolError) throw new KeysUnavailable();
    throw error;
  } finally {
    sessionKey.fill(0);
  }
}

/** Forget every key: the stored blob and every key array handed out. */
export function wipeKeys() {
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // Storage switched off: there is nothing stored to remove.
  }
  for (const bytes of held) bytes.fill(0);
  held.clear();
  for (const wipe of [...wipers]) {
    try {
      wipe();
    } catch {
      // One failing must not keep the others (or the rest of quick exit) from running.
    }
  }
  wipers.clear();
}
