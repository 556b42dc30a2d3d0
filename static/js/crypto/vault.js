// The client vault's contents (docs/protocol-v1.md, "Client vault"): pins of keys compared in
// person. Pure: opening, sealing and reading a vault's data; client/vault.js fetches and saves.
//
// When a facilitator has compared a participant's security number in person, their browser
// records the participant's public key as {"pins": {"<account id>": "<public key, base64url>"}}.
// The server cannot forge or change a pin (it cannot seal the vault), so a key the server swaps
// later shows up as "changed" before anything is released to it. Other keys in the vault are
// kept as they are.
//
// The trust anchors live under `pins` too (docs/api-trust.md, "What a browser pins"): `root`
// {account_id, signing_public_key}, `inviter` {account_id, box_public_key, signing_public_key},
// `trust_log` {count, head} and `cases` {<case id>: {epoch, case_public_key}}. None of these
// names is an account id, so they never clash with a compared key.

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

const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);

/** {root, inviter, trust_log, cases}: the trust pins in `data`, each null (cases {}) if absent. */
export function trustPins(data) {
  const pins = isObject(data?.pins) ? data.pins : {};
  const pick = (name) => (isObject(pins[name]) ? pins[name] : null);
  return {
    root: pick("root"),
    inviter: pick("inviter"),
    trust_log: pick("trust_log"),
    cases: pick("cases") || {},
  };
}

/** `data` with the pins in `changes` ({root?, trust_log?, …}) set, every other pin kept. */
export function withPins(data, changes) {
  const pins = isObject(data.pins) ? data.pins : {};
  return { ...data, pins: { ...pins, ...changes } };
}

/** `data` with case `caseId` pinned to {epoch, case_public_key}. */
export function withCasePin(data, caseId, epoch, casePublicKeyB64) {
  const pin = { epoch, case_public_key: casePublicKeyB64 };
  return withPins(data, { cases: { ...trustPins(data).cases, [caseId]: pin } });
}

/**
 * A signed case key {epoch, case_public_key} against the case's pin:
 *   "pin"      nothing pinned yet: pin it;
 *   "same"     the pinned key;
 *   "newer"    another key of a later epoch: a change the signed epoch explains, pin it;
 *   "changed"  another key of the same or an earlier epoch: an unexplained change, refused
 *              (a server replaying an older grant of the case would look like this).
 */
export function casePinDecision(data, caseId, { epoch, case_public_key: key }) {
  const pinned = trustPins(data).cases[caseId];
  if (!isObject(pinned)) return "pin";
  if (pinned.case_public_key === key) return epoch > pinned.epoch ? "newer" : "same";
  return Number.isInteger(pinned.epoch) && epoch > pinned.epoch ? "newer" : "changed";
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
