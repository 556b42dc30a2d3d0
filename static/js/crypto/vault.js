// The client vault's contents (docs/protocol-v1.md, "Client vault"): pins of keys compared in
// person. Pure: opening, sealing and reading a vault's data; client/vault.js fetches and saves.
//
// When a facilitator has compared a participant's security number in person, their browser
// records the participant's public key as {"pins": {"<account id>": "<public key, base64url>"}}.
// The server cannot forge or change a pin (it cannot seal the vault), so a key the server swaps
// later shows up as "changed" before anything is released to it. Other keys in the vault are
// kept as they are.

/** The vault's data from its stored blob (base64url, or null for none): {data, readable}. */
export function openVaultData(p, keys, blobB64) {
  if (blobB64 === null || blobB64 === undefined) return { data: {}, readable: true };
  try {
    return {
      data: p.openVault(keys.secretKey, keys.accountId, p.b64decode(blobB64)),
      readable: true,
    };
  } catch (error) {
    if (error instanceof p.ProtocolError) return { data: {}, readable: false };
    throw error;
  }
}

/** The blob (base64url) that stores `data`. */
export function sealVaultData(p, keys, data) {
  return p.b64encode(p.sealVault(keys.secretKey, keys.accountId, data));
}

/** The pinned public key (base64url) for any of `ids` (account id first), or null. */
export function pinFor(data, ...ids) {
  const pins = data && typeof data.pins === "object" && data.pins !== null ? data.pins : {};
  for (const id of ids) {
    if (id && typeof pins[id] === "string") return pins[id];
  }
  return null;
}

/** `data` with `publicKeyB64` pinned for `id`. */
export function withPin(data, id, publicKeyB64) {
  const pins = data.pins && typeof data.pins === "object" ? { ...data.pins } : {};
  pins[id] = publicKeyB64;
  return { ...data, pins };
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
