// The client vault (docs/protocol-v1.md, "Client vault"): a small JSON object sealed under a key
// derived from the account's secret key, stored opaque by the server (GET/PUT /api/vault).
//
// Its job here is pinning: when a facilitator has compared a participant's security number in
// person, their browser records the participant's public key as {"pins": {"<account id>":
// "<public key, base64url>"}}. The server cannot forge or change a pin (it cannot seal the
// vault), so a key the server swaps later shows up as "changed" before anything is released to
// it. Other keys in the vault (drafts index, preferences) are kept as they are.
//
// A vault that exists but does not open is never overwritten: that would silently lose every
// pin. Pinning then fails with VaultUnreadable and the person is told.

import { getJSON, putJSON } from "./api.js";
import { protocol } from "./keys.js";

export class VaultUnreadable extends Error {
  constructor() {
    super(
      "Your list of compared security numbers could not be unlocked, so nothing was changed in it. Please tell your service manager.",
    );
    this.name = "VaultUnreadable";
  }
}

/**
 * {data, readable}: the opened vault ({} when there is none yet). `readable` is false when a
 * stored vault did not open; `data` is then {} and must not be saved.
 */
export async function loadVault(keys) {
  const p = await protocol();
  const answer = await getJSON("/api/vault");
  if (!answer || answer.blob === null || answer.blob === undefined) {
    return { data: {}, readable: true };
  }
  try {
    return {
      data: p.openVault(keys.secretKey, keys.accountId, p.b64decode(answer.blob)),
      readable: true,
    };
  } catch (error) {
    if (error instanceof p.ProtocolError) return { data: {}, readable: false };
    throw error;
  }
}

export async function saveVault(keys, data) {
  const p = await protocol();
  const blob = p.b64encode(p.sealVault(keys.secretKey, keys.accountId, data));
  await putJSON("/api/vault", { blob });
}

/** The pinned public key (base64url) for any of `ids` (account id first), or null. */
export function pinFor(data, ...ids) {
  const pins = data && typeof data.pins === "object" && data.pins !== null ? data.pins : {};
  for (const id of ids) {
    if (id && typeof pins[id] === "string") return pins[id];
  }
  return null;
}

/**
 * Pin `publicKeyB64` for `id` (the participant's account id): read, change, write. Returns the
 * saved data. Throws VaultUnreadable rather than replace a vault it cannot read.
 */
export async function pinKey(keys, id, publicKeyB64) {
  const { data, readable } = await loadVault(keys);
  if (!readable) throw new VaultUnreadable();
  const pins = data.pins && typeof data.pins === "object" ? { ...data.pins } : {};
  pins[id] = publicKeyB64;
  const next = { ...data, pins };
  await saveVault(keys, next);
  return next;
}

/**
 * How a current key compares with what was checked in person:
 *   "verified"    pinned in this browser's vault and equal to the current key;
 *   "changed"     pinned (or recorded as verified by the server) but different from the current key;
 *   "colleague"   the server records it as verified (by any facilitator), but it is not pinned
 *                 in this vault: the server's word alone, so treated as not verified by us;
 *   "unverified"  never compared.
 * `serverVerifiedB64` is the case's verified_public_key field (information, never trust).
 */
export function keyStatus(pinned, currentB64, serverVerifiedB64 = null) {
  if (!currentB64) return "unverified";
  if (pinned && pinned !== currentB64) return "changed";
  if (serverVerifiedB64 && serverVerifiedB64 !== currentB64) return "changed";
  if (pinned === currentB64) return "verified";
  if (serverVerifiedB64 === currentB64) return "colleague";
  return "unverified";
}

