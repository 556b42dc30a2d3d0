// Portal protocol v1, the libsodium.js side. The byte-exact specification is
// docs/protocol-v1.md; portal/protocol.py is the PyNaCl twin and tests/vectors/ pins the two
// against each other in both directions.
//
// Runs in browsers (page and Web Worker) and in Node 20, under a CSP without 'unsafe-eval'.
// Call `await ready()` once before anything else. Bytes are Uint8Array everywhere; a Python
// tuple is an array here, a Python dataclass a plain object, keyword-only arguments an options
// object as the last argument (`{ nonce }`). Nothing here logs.
//
// Errors:
//   ProtocolError           anything this module refuses; never carries secret material
//    +-- DecryptionFailed   authentication failed: wrong key, tampered bytes, wrong associated
//    |                      data, a grant from another sender, or a hash that does not match
//    +-- MalformedInput     wrong type, length, encoding, range or structure
//    +-- WrongContext       authentic, but made for another purpose, object, version, case,
//                           sender or recipient than the caller expected

import _sodium from "../../vendor/libsodium-wrappers.mjs";

export class ProtocolError extends Error {
  constructor(message) {
    super(message);
    this.name = "ProtocolError";
  }
}

export class DecryptionFailed extends ProtocolError {
  constructor(message) {
    super(message);
    this.name = "DecryptionFailed";
  }
}

export class MalformedInput extends ProtocolError {
  constructor(message) {
    super(message);
    this.name = "MalformedInput";
  }
}

export class WrongContext extends ProtocolError {
  constructor(message) {
    super(message);
    this.name = "WrongContext";
  }
}

// --- sizes and parameters ----------------------------------------------------------------------

export const KEY_BYTES = 32;
export const NONCE_BYTES = 24; // XChaCha20-Poly1305 and crypto_box both take 24-byte nonces
export const TAG_BYTES = 16;
export const SALT_BYTES = 16;
export const HASH_BYTES = 32;
export const CHUNK_SIZE = 1024 * 1024;
export const SIGNING_SECRET_BYTES = 64; // libsodium's Ed25519 secret key: seed (32) || public key
export const SIGNATURE_BYTES = 64;
export const MAX_STATEMENT_BYTES = 4096; // every kind of statement is a few hundred bytes
export const INVITATION_CODE_BYTES = 10; // 80 bits
export const LOOKUP_ID_BYTES = 16;
// A sealed referral's plaintext is padded to the smallest of these that holds the form's JSON and
// the 0x80 marker, so its length says only which bucket it fell in (docs/protocol-v1.md).
export const REFERRAL_BUCKETS = Object.freeze([2048, 4096, 8192, 16384, 32768]);
export const SEAL_BYTES = 48; // crypto_box_seal: ephemeral public key (32) and tag (16)

export const DEFAULT_KDF_OPS = 3;
export const DEFAULT_KDF_MEM = 64 * 1024 * 1024;
// The browser refuses anything cheaper, so a hostile server cannot ask for an auth_key that is
// cheap to brute-force back to the password.
export const MIN_KDF_OPS = 1;
export const MIN_KDF_MEM = 8 * 1024 * 1024;

// --- context strings (docs/protocol-v1.md) -----------------------------------------------------

const utf8 = new TextEncoder();
const ascii = (text) => utf8.encode(text);

const AUTH = ascii("portal/v1/auth");
const WRAP = ascii("portal/v1/wrap");
const BUNDLE = ascii("portal/v1/bundle");
const FINGERPRINT = ascii("portal/v1/fingerprint");
const RECOVERY_AUTH = ascii("portal/v1/recovery-auth");
const RECOVERY_WRAP = ascii("portal/v1/recovery-wrap");
const RECOVERY = ascii("portal/v1/recovery");
const SESSION = ascii("portal/v1/session");
const GRANT_CASE = ascii("portal/v1/grant/case\0");
const GRANT_CASE_PUBLIC = ascii("portal/v1/grant/case-public\0");
const GRANT_CONTENT = ascii("portal/v1/grant/content\0");
const GRANT_REFERRAL_KEY = ascii("portal/v1/grant/referral-key\0");
const GRANT_REFERRAL = ascii("portal/v1/grant/referral\0");
const REFERRAL = ascii("portal/v1/referral\0");
const CHUNK = ascii("portal/v1/chunk");
const CHUNK_HASH = ascii("portal/v1/chunk-hash");
const MANIFEST = ascii("portal/v1/manifest");
const MANIFEST_HASH = ascii("portal/v1/manifest-hash");
const VAULT = ascii("portal/v1/vault");
const CASE_DATA = ascii("portal/v1/case-data");
const DRAFT = ascii("portal/v1/draft");
// Trust anchors (docs/protocol-v1.md, "Trust anchors").
const SIGNING_SEED = ascii("portal/v1/signing-seed");
const IDENTITY_FINGERPRINT = ascii("portal/v1/identity-fingerprint");
const STATEMENT = ascii("portal/v1/statement\0");
const CONTEXT_PREFIX = "portal/v1/";
const TRUST_LOG = ascii("portal/v1/trust-log");
const INVITE_LOOKUP = ascii("portal/v1/invite/lookup");
const INVITE_REDEEM = ascii("portal/v1/invite/redeem");
const INVITE_MAC_KEY = ascii("portal/v1/invite/mac");
const INVITE_MAC = ascii("portal/v1/invite\0");
const INVITE_REDEEM_HASH = ascii("portal/v1/invite/redeem-hash");

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DIGITS_RE = /^[0-9]{60}$/;
const LONE_SURROGATE_RE = /[\uD800-\uDFFF]/u; // with the u flag only unpaired halves match
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const RECOVERY_SYMBOLS = 52; // ceil(256 / 5); the last symbol carries 1 bit and 4 zero bits
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
// A case-data purpose is the last field of its AD (so its length needs no prefix): a short label
// of visible ASCII such as "participant-name:<uuid>".
const PURPOSE_RE = /^[\x21-\x7e]{1,100}$/;
const LETTER_KIND = "letter";
const LETTER_MIME = "text/plain; charset=utf-8";
const INVITATION_SYMBOLS = 16; // 80 bits / 5: no padding bits
// "YYYY-MM-DDTHH:MM:SSZ"; the calendar is checked separately.
const TIMESTAMP_RE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z$/;

// --- small helpers -----------------------------------------------------------------------------

let sodium = null;

/** Load libsodium (WebAssembly). Await once before calling anything else. */
export async function ready() {
  await _sodium.ready;
  sodium = _sodium;
}

function na() {
  if (sodium === null) {
    throw new ProtocolError("protocol.js: await ready() first");
  }
  return sodium;
}

function bytes(name, value, length) {
  if (!(value instanceof Uint8Array)) {
    throw new MalformedInput(`${name} must be a Uint8Array`);
  }
  if (length !== undefined && value.length !== length) {
    throw new MalformedInput(`${name} must be ${length} bytes`);
  }
  return value;
}

/** A canonical lowercase UUID as its 36 ASCII bytes (fixed length keeps AD unambiguous). */
function id(name, value) {
  if (typeof value !== "string" || !UUID_RE.test(value)) {
    throw new MalformedInput(`${name} must be a canonical lowercase UUID`);
  }
  return ascii(value);
}

function uint(name, value, bits) {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) {
    throw new MalformedInput(`${name} must be an integer in [0, 2**${bits})`);
  }
  return value;
}

function u16(name, value) {
  const out = new Uint8Array(2);
  new DataView(out.buffer).setUint16(0, uint(name, value, 16));
  return out;
}

function u32(name, value) {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, uint(name, value, 32));
  return out;
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function equal(a, b) {
  return a.length === b.length && na().memcmp(a, b);
}

function text(name, value) {
  if (typeof value !== "string" || LONE_SURROGATE_RE.test(value)) {
    throw new MalformedInput(`${name} must be a well-formed string`);
  }
  return utf8.encode(value);
}

/** Strict UTF-8 decoding; a leading U+FEFF is kept, as Python's bytes.decode keeps it. */
function fromUtf8(raw) {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(raw);
  } catch {
    throw new MalformedInput("text is not UTF-8");
  }
}

/** Keyed BLAKE2b-256: H(key, msg) in the spec. */
function h(key, msg) {
  return na().crypto_generichash(HASH_BYTES, msg, key);
}

function nonceOrRandom(nonce) {
  if (nonce === undefined || nonce === null) {
    return na().randombytes_buf(NONCE_BYTES);
  }
  return bytes("nonce", nonce, NONCE_BYTES);
}

function aeadSeal(key, plaintext, ad, nonce) {
  bytes("key", key, KEY_BYTES);
  const n = nonceOrRandom(nonce);
  const sealed = na().crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, null, n, key);
  return concat(n, sealed);
}

function aeadOpen(key, blob, ad) {
  bytes("key", key, KEY_BYTES);
  bytes("ciphertext", blob);
  if (blob.length < NONCE_BYTES + TAG_BYTES) {
    throw new MalformedInput("ciphertext is too short");
  }
  try {
    return na().crypto_aead_xchacha20poly1305_ietf_decrypt(
      null,
      blob.subarray(NONCE_BYTES),
      ad,
      blob.subarray(0, NONCE_BYTES),
      key,
    );
  } catch {
    throw new DecryptionFailed("ciphertext does not authenticate");
  }
}

/** crypto_box's shared key; a low-order public key is refused like PyNaCl's Box does. */
function boxKey(secretKey, publicKey) {
  bytes("secret key", secretKey, KEY_BYTES);
  bytes("public key", publicKey, KEY_BYTES);
  try {
    return na().crypto_box_beforenm(publicKey, secretKey);
  } catch {
    throw new MalformedInput("public key is not usable");
  }
}

// Canonical JSON (docs/protocol-v1.md): sorted keys, no whitespace, integers only.
function canonical(value) {
  if (value === null || typeof value === "boolean") {
    return JSON.stringify(value);
  }
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) {
      throw new MalformedInput("JSON numbers must be integers that fit in 53 bits");
    }
    return JSON.stringify(value);
  }
  if (typeof value === "string") {
    text("JSON string", value);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map(canonical).join(",")}]`;
  }
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    // Default sort compares UTF-16 code units, as the spec (and the Python side) does.
    const keys = Object.keys(value).sort();
    const members = keys.map((key) => {
      text("JSON key", key);
      return `${JSON.stringify(key)}:${canonical(value[key])}`;
    });
    return `{${members.join(",")}}`;
  }
  throw new MalformedInput(`${typeof value} is not allowed in protocol JSON`);
}

function canonicalJson(data) {
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new MalformedInput("protocol JSON must be an object");
  }
  return utf8.encode(canonical(data));
}

function parseJsonObject(raw) {
  let value;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw));
  } catch {
    throw new MalformedInput("payload is not UTF-8 JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new MalformedInput("payload must be a JSON object");
  }
  return value;
}

// --- encodings ---------------------------------------------------------------------------------

/** Base64url without padding. */
export function b64encode(data) {
  return na().to_base64(bytes("data", data), na().base64_variants.URLSAFE_NO_PADDING);
}

/** Strict base64url without padding: no '=', no whitespace, no stray low bits. */
export function b64decode(textValue) {
  if (typeof textValue !== "string") {
    throw new MalformedInput("not base64url without padding");
  }
  try {
    return na().from_base64(textValue, na().base64_variants.URLSAFE_NO_PADDING);
  } catch {
    throw new MalformedInput("not base64url without padding");
  }
}

/** n random bytes from libsodium's CSPRNG. */
export function randomBytes(n) {
  return na().randombytes_buf(uint("n", n, 32));
}

// --- accounts ----------------------------------------------------------------------------------

/** Argon2id over NFKC(password); `mem` is in bytes and a whole number of KiB. */
export function deriveAccountKeys(password, salt, ops, mem) {
  const secret = text(
    "password",
    typeof password === "string" ? password.normalize("NFKC") : password,
  );
  bytes("salt", salt, SALT_BYTES);
  if (uint("ops", ops, 32) < MIN_KDF_OPS) {
    throw new MalformedInput("ops is below the minimum");
  }
  if (!Number.isSafeInteger(mem) || mem < MIN_KDF_MEM || mem % 1024 !== 0) {
    throw new MalformedInput("mem is below the minimum or not a whole number of KiB");
  }
  let master;
  try {
    master = na().crypto_pwhash(
      KEY_BYTES,
      secret,
      salt,
      ops,
      mem,
      na().crypto_pwhash_ALG_ARGON2ID13,
    );
  } catch {
    throw new MalformedInput("KDF parameters are out of range");
  } finally {
    na().memzero(secret);
  }
  return { master, authKey: h(master, AUTH), wrapKey: h(master, WRAP) };
}

/** A fresh X25519 key pair: [secretKey, publicKey]. */
export function generateIdentity() {
  const pair = na().crypto_box_keypair();
  return [pair.privateKey, pair.publicKey];
}

export function publicKeyFromSecret(secretKey) {
  return na().crypto_scalarmult_base(bytes("secret key", secretKey, KEY_BYTES));
}

/** The key bundle the server stores: only the password (via wrapKey) opens it. */
export function wrapSecretKey(wrapKey, accountId, secretKey, { nonce } = {}) {
  const ad = concat(BUNDLE, id("accountId", accountId));
  return aeadSeal(wrapKey, bytes("secret key", secretKey, KEY_BYTES), ad, nonce);
}

export function unwrapSecretKey(wrapKey, accountId, bundle) {
  const secret = aeadOpen(wrapKey, bundle, concat(BUNDLE, id("accountId", accountId)));
  return bytes("unwrapped secret key", secret, KEY_BYTES);
}

function digits(digest) {
  const number = BigInt(`0x${na().to_hex(digest)}`) % 10n ** 60n;
  return number.toString().padStart(60, "0");
}

/**
 * 60 decimal digits people compare in person before a key is trusted.
 * For an account with no signing key yet; see identityFingerprintDigits.
 */
export function fingerprintDigits(publicKey) {
  return digits(h(FINGERPRINT, bytes("public key", publicKey, KEY_BYTES)));
}

/** "12345 67890 ...": 12 groups of 5 digits. */
export function formatFingerprint(digits) {
  if (typeof digits !== "string" || !DIGITS_RE.test(digits)) {
    throw new MalformedInput("a fingerprint is 60 ASCII digits");
  }
  return digits.match(/.{5}/g).join(" ");
}

// --- recovery ----------------------------------------------------------------------------------

export function generateRecoveryKey() {
  return na().randombytes_buf(KEY_BYTES);
}

/** `count` symbols of `number`, most significant first, in groups of 4 joined by "-". */
function crockfordSymbols(number, count) {
  const symbols = new Array(count);
  let rest = number;
  for (let i = count - 1; i >= 0; i -= 1) {
    symbols[i] = CROCKFORD[Number(rest & 31n)];
    rest >>= 5n;
  }
  return symbols.join("").match(/.{4}/g).join("-");
}

/**
 * Crockford base32 as typed by a person: forgiving about case, spaces, "-" and O/I/L; strict
 * about everything else (non-ASCII, other symbols, a wrong count).
 */
function crockfordNumber(code, count, what) {
  if (typeof code !== "string" || !/^[\x00-\x7f]*$/.test(code)) {
    throw new MalformedInput(`a ${what} is ASCII`);
  }
  const symbols = code
    .toUpperCase()
    .replace(/[ \t\r\n-]/g, "")
    .replace(/O/g, "0")
    .replace(/[IL]/g, "1");
  if (symbols.length !== count) {
    throw new MalformedInput(`a ${what} has ${count} symbols`);
  }
  let number = 0n;
  for (const symbol of symbols) {
    const value = CROCKFORD.indexOf(symbol);
    if (value < 0) {
      throw new MalformedInput(`not a ${what} symbol`);
    }
    number = (number << 5n) | BigInt(value);
  }
  return number;
}

/** Crockford base32 of the 32 bytes, 13 groups of 4 symbols joined by "-". */
export function encodeRecoveryCode(key) {
  const number = BigInt(`0x${na().to_hex(bytes("recovery key", key, KEY_BYTES))}`) << 4n;
  return crockfordSymbols(number, RECOVERY_SYMBOLS);
}

/** Forgiving about case, spaces, "-" and O/I/L; strict about everything else. */
export function decodeRecoveryCode(code) {
  const number = crockfordNumber(code, RECOVERY_SYMBOLS, "recovery code");
  if ((number & 0xfn) !== 0n) {
    // the padding bits of the last symbol; a typo there would otherwise go unnoticed
    throw new MalformedInput("recovery code does not end in a valid symbol");
  }
  return na().from_hex((number >> 4n).toString(16).padStart(2 * KEY_BYTES, "0"));
}

/** What the browser sends to prove it holds the recovery key. */
export function recoveryAuthKey(recoveryKey) {
  return h(bytes("recovery key", recoveryKey, KEY_BYTES), RECOVERY_AUTH);
}

function recoveryWrapKey(recoveryKey) {
  return h(bytes("recovery key", recoveryKey, KEY_BYTES), RECOVERY_WRAP);
}

export function wrapWithRecovery(recoveryKey, accountId, secretKey, { nonce } = {}) {
  const ad = concat(RECOVERY, id("accountId", accountId));
  const secret = bytes("secret key", secretKey, KEY_BYTES);
  return aeadSeal(recoveryWrapKey(recoveryKey), secret, ad, nonce);
}

export function unwrapWithRecovery(recoveryKey, accountId, bundle) {
  const ad = concat(RECOVERY, id("accountId", accountId));
  const secret = aeadOpen(recoveryWrapKey(recoveryKey), bundle, ad);
  return bytes("unwrapped secret key", secret, KEY_BYTES);
}

// --- session storage ---------------------------------------------------------------------------

/** The sessionStorage copy; useless once the server forgets sessionKey. */
export function sessionWrap(sessionKey, accountId, secretKey, { nonce } = {}) {
  const ad = concat(SESSION, id("accountId", accountId));
  return aeadSeal(sessionKey, bytes("secret key", secretKey, KEY_BYTES), ad, nonce);
}

export function sessionUnwrap(sessionKey, accountId, blob) {
  const secret = aeadOpen(sessionKey, blob, concat(SESSION, id("accountId", accountId)));
  return bytes("unwrapped secret key", secret, KEY_BYTES);
}

// --- grants ------------------------------------------------------------------------------------

function sealGrant(context, senderSk, recipientPk, body, nonce) {
  const key = boxKey(senderSk, recipientPk);
  try {
    // Both public keys go inside: crypto_box's key is the same in both directions, so without
    // them a grant from A to B would also open as a grant from B to A.
    const payload = concat(context, publicKeyFromSecret(senderSk), recipientPk, body);
    const n = nonceOrRandom(nonce);
    return concat(n, na().crypto_box_easy_afternm(payload, n, key));
  } finally {
    na().memzero(key);
  }
}

function openGrant(context, recipientSk, senderPk, grant, bodyLength) {
  const key = boxKey(recipientSk, senderPk);
  let payload;
  try {
    bytes("grant", grant);
    if (grant.length < NONCE_BYTES + TAG_BYTES) {
      throw new MalformedInput("grant is too short");
    }
    try {
      payload = na().crypto_box_open_easy_afternm(
        grant.subarray(NONCE_BYTES),
        grant.subarray(0, NONCE_BYTES),
        key,
      );
    } catch {
      throw new DecryptionFailed("grant does not open with these keys");
    }
  } finally {
    na().memzero(key);
  }
  if (payload.length < context.length || !equal(payload.subarray(0, context.length), context)) {
    throw new WrongContext("grant is of another kind");
  }
  const keysEnd = context.length + 2 * KEY_BYTES;
  if (payload.length !== keysEnd + bodyLength) {
    throw new MalformedInput("grant payload has the wrong length");
  }
  const expectedKeys = concat(senderPk, publicKeyFromSecret(recipientSk));
  if (!equal(payload.subarray(context.length, keysEnd), expectedKeys)) {
    throw new WrongContext("grant was made by or for other keys");
  }
  return payload.slice(keysEnd);
}

/** Give a facilitator (or the organisation's recovery key) a case's secret key. */
export function makeCaseGrant(senderSk, recipientPk, caseId, caseSecretKey, { nonce } = {}) {
  const body = concat(id("caseId", caseId), bytes("case secret key", caseSecretKey, KEY_BYTES));
  return sealGrant(GRANT_CASE, senderSk, recipientPk, body, nonce);
}

/** The case secret key, if senderPk granted exactly this case to recipientSk. */
export function openCaseGrant(recipientSk, senderPk, caseId, grant) {
  const expectedId = id("caseId", caseId);
  const body = openGrant(GRANT_CASE, recipientSk, senderPk, grant, 36 + KEY_BYTES);
  if (!equal(body.subarray(0, 36), expectedId)) {
    throw new WrongContext("grant is for another case");
  }
  return body.slice(36);
}

/**
 * Tell a participant the case's public key, vouched for by the granting facilitator.
 * Participants seal letters to this key, so it must come from a facilitator they know, never
 * from a bare server field the server could swap for a key of its own.
 */
export function makeCasePublicGrant(senderSk, recipientPk, caseId, casePublicKey, { nonce } = {}) {
  const body = concat(id("caseId", caseId), bytes("case public key", casePublicKey, KEY_BYTES));
  return sealGrant(GRANT_CASE_PUBLIC, senderSk, recipientPk, body, nonce);
}

/** The case public key, if senderPk vouched for it for exactly this case. */
export function openCasePublicGrant(recipientSk, senderPk, caseId, grant) {
  const expectedId = id("caseId", caseId);
  // Same body length as a case (secret) grant: only the context string tells them apart.
  const body = openGrant(GRANT_CASE_PUBLIC, recipientSk, senderPk, grant, 36 + KEY_BYTES);
  if (!equal(body.subarray(0, 36), expectedId)) {
    throw new WrongContext("grant is for another case");
  }
  return body.slice(36);
}

/** Release one exact version of a content object (its manifest hash) to a recipient. */
export function makeContentGrant(
  senderSk,
  recipientPk,
  objectId,
  version,
  contentKey,
  manifestHashValue,
  { nonce } = {},
) {
  const body = concat(
    id("objectId", objectId),
    u32("version", version),
    bytes("content key", contentKey, KEY_BYTES),
    bytes("manifest hash", manifestHashValue, HASH_BYTES),
  );
  return sealGrant(GRANT_CONTENT, senderSk, recipientPk, body, nonce);
}

/** [K, manifestHash], if senderPk released exactly this object version. */
export function openContentGrant(recipientSk, senderPk, objectId, version, grant) {
  const expected = concat(id("objectId", objectId), u32("version", version));
  const body = openGrant(
    GRANT_CONTENT,
    recipientSk,
    senderPk,
    grant,
    36 + 4 + KEY_BYTES + HASH_BYTES,
  );
  if (!equal(body.subarray(0, 40), expected)) {
    throw new WrongContext("grant is for another object or version");
  }
  return [body.slice(40, 72), body.slice(72)];
}

// --- referrals ---------------------------------------------------------------------------------

/** Give a service manager or a designated facilitator the referral key's secret half. */
export function makeReferralKeyGrant(senderSk, recipientPk, keyId, referralSk, { nonce } = {}) {
  const body = concat(id("keyId", keyId), bytes("referral secret key", referralSk, KEY_BYTES));
  return sealGrant(GRANT_REFERRAL_KEY, senderSk, recipientPk, body, nonce);
}

/** The referral secret key, if senderPk granted exactly this referral key. */
export function openReferralKeyGrant(recipientSk, senderPk, keyId, grant) {
  const expectedId = id("keyId", keyId);
  const body = openGrant(GRANT_REFERRAL_KEY, recipientSk, senderPk, grant, 36 + KEY_BYTES);
  if (!equal(body.subarray(0, 36), expectedId)) {
    throw new WrongContext("grant is for another referral key");
  }
  return body.slice(36);
}

/**
 * What is sealed: "portal/v1/referral" 0x00 || key id || canonical JSON of the form, then 0x80
 * and zeros up to the smallest bucket (REFERRAL_BUCKETS), so the length says only the bucket.
 */
export function referralPlaintext(keyId, form) {
  const padded = paddedForm(form);
  return concat(REFERRAL, id("keyId", keyId), padded);
}

function paddedForm(form) {
  const body = canonicalJson(form);
  const bucket = REFERRAL_BUCKETS.find((size) => body.length + 1 <= size);
  if (bucket === undefined) throw new MalformedInput("the referral is too long");
  const padded = new Uint8Array(bucket);
  padded.set(body);
  padded[body.length] = 0x80;
  return padded;
}

/** Every length a sealed referral can have: the server refuses any other. */
export function referralSealedSizes() {
  return REFERRAL_BUCKETS.map((size) => REFERRAL.length + 36 + size + SEAL_BYTES);
}

/**
 * crypto_box_seal of referralPlaintext to the referral key: anyone can seal, only a holder of
 * the secret key opens, and the sealer keeps nothing that opens it again.
 */
export function sealReferral(referralPublicKey, keyId, form) {
  const plaintext = referralPlaintext(keyId, form);
  bytes("referral public key", referralPublicKey, KEY_BYTES);
  try {
    return na().crypto_box_seal(plaintext, referralPublicKey);
  } catch {
    throw new MalformedInput("public key is not usable");
  }
}

function unpad(padded) {
  if (!REFERRAL_BUCKETS.includes(padded.length)) {
    throw new MalformedInput("the referral is not padded to a bucket");
  }
  let end = padded.length;
  while (end > 0 && padded[end - 1] === 0) end -= 1;
  if (end === 0 || padded[end - 1] !== 0x80) {
    throw new MalformedInput("the referral's padding is not well formed");
  }
  return padded.slice(0, end - 1);
}

/** The form, if `sealed` opens with this referral key and was sealed for exactly it. */
export function openReferral(referralSk, keyId, sealed) {
  bytes("referral secret key", referralSk, KEY_BYTES);
  bytes("sealed referral", sealed);
  if (sealed.length < SEAL_BYTES) throw new MalformedInput("sealed referral is too short");
  let plaintext;
  try {
    plaintext = na().crypto_box_seal_open(sealed, publicKeyFromSecret(referralSk), referralSk);
  } catch {
    throw new DecryptionFailed("sealed referral does not open with this key");
  }
  const head = REFERRAL.length + 36;
  const prefix = plaintext.subarray(0, REFERRAL.length);
  if (plaintext.length < REFERRAL.length || !equal(prefix, REFERRAL)) {
    throw new WrongContext("sealed data is not a referral");
  }
  const keyIdBytes = plaintext.subarray(REFERRAL.length, head);
  if (plaintext.length < head || !equal(keyIdBytes, id("keyId", keyId))) {
    throw new WrongContext("referral was sealed for another referral key");
  }
  const body = unpad(plaintext.subarray(head));
  const form = parseJsonObject(body);
  if (!equal(canonicalJson(form), body)) throw new MalformedInput("referral is not canonical JSON");
  return form;
}

/**
 * Share one opened referral with the facilitator who will hold its case: a grant whose body is
 * the referral id and the form, padded as when it was sealed. It opens nothing else, so that
 * facilitator never needs the referral key itself.
 */
export function makeReferralShare(senderSk, recipientPk, referralId, form, { nonce } = {}) {
  const body = concat(id("referralId", referralId), paddedForm(form));
  return sealGrant(GRANT_REFERRAL, senderSk, recipientPk, body, nonce);
}

/** Every length a referral share can have: the server refuses any other. */
export function referralShareSizes() {
  const head = NONCE_BYTES + TAG_BYTES + GRANT_REFERRAL.length + 2 * KEY_BYTES + 36;
  return REFERRAL_BUCKETS.map((size) => head + size);
}

/** The form, if senderPk shared exactly this referral with recipientSk. */
export function openReferralShare(recipientSk, senderPk, referralId, share) {
  const expectedId = id("referralId", referralId);
  bytes("referral share", share);
  const sizes = referralShareSizes();
  if (!sizes.includes(share.length)) {
    throw new MalformedInput("referral share has the wrong length");
  }
  const bucket = share.length - (sizes[0] - REFERRAL_BUCKETS[0]);
  const body = openGrant(GRANT_REFERRAL, recipientSk, senderPk, share, 36 + bucket);
  if (!equal(body.subarray(0, 36), expectedId)) {
    throw new WrongContext("share is of another referral");
  }
  const form = body.subarray(36);
  const unpadded = unpad(form);
  const parsed = parseJsonObject(unpadded);
  if (!equal(canonicalJson(parsed), unpadded)) {
    throw new MalformedInput("referral is not canonical JSON");
  }
  return parsed;
}

// --- content objects ---------------------------------------------------------------------------

/** K: fresh for every version of every content object. */
export function generateContentKey() {
  return na().randombytes_buf(KEY_BYTES);
}

function chunkAd(objectId, version, part, index, final) {
  if (typeof final !== "boolean") {
    throw new MalformedInput("final must be a boolean");
  }
  return concat(
    CHUNK,
    id("objectId", objectId),
    u32("version", version),
    u16("part", part),
    u32("index", index),
    Uint8Array.of(final ? 1 : 0),
  );
}

/** One chunk of a part; its place (part, index, last or not) is bound into the AD. */
export function encryptChunk(
  key,
  objectId,
  version,
  part,
  index,
  final,
  plaintext,
  { nonce } = {},
) {
  if (bytes("plaintext", plaintext).length > CHUNK_SIZE) {
    throw new MalformedInput("a chunk holds at most CHUNK_SIZE bytes");
  }
  return aeadSeal(key, plaintext, chunkAd(objectId, version, part, index, final), nonce);
}

/**
 * encryptChunk and chunkHash of its result in one pass: `{data, hash}`, the very bytes the two
 * give. Sealing a large file is mostly this call; here the plaintext is copied into
 * libsodium's memory once, sealed there, hashed where it was sealed, and the chunk copied out
 * once (the two calls copy each MiB four times between them).
 */
export function encryptChunkHashed(
  key,
  objectId,
  version,
  part,
  index,
  final,
  plaintext,
  { nonce } = {},
) {
  if (bytes("plaintext", plaintext).length > CHUNK_SIZE) {
    throw new MalformedInput("a chunk holds at most CHUNK_SIZE bytes");
  }
  bytes("key", key, KEY_BYTES);
  const ad = chunkAd(objectId, version, part, index, final);
  const n = nonceOrRandom(nonce);
  const raw = na().libsodium;
  const size = NONCE_BYTES + plaintext.length + TAG_BYTES;
  // One block: key | AD | hash key | hash | plaintext | chunk (nonce, ciphertext, tag).
  const at = {};
  let offset = 0;
  for (const [name, length] of [["key", KEY_BYTES], ["ad", ad.length],
    ["hashKey", CHUNK_HASH.length], ["hash", HASH_BYTES], ["plain", plaintext.length],
    ["chunk", size]]) {
    at[name] = offset;
    offset += length;
  }
  const block = raw._malloc(offset);
  if (!block) throw new ProtocolError("out of memory");
  try {
    // Read HEAPU8 after _malloc: growing the memory replaces the buffer.
    const heap = raw.HEAPU8;
    heap.set(key, block + at.key);
    heap.set(ad, block + at.ad);
    heap.set(CHUNK_HASH, block + at.hashKey);
    heap.set(plaintext, block + at.plain);
    heap.set(n, block + at.chunk);
    const sealed = raw._crypto_aead_xchacha20poly1305_ietf_encrypt(
      block + at.chunk + NONCE_BYTES, 0, block + at.plain, plaintext.length, 0,
      block + at.ad, ad.length, 0, 0, block + at.chunk, block + at.key,
    );
    const hashed = raw._crypto_generichash(
      block + at.hash, HASH_BYTES, block + at.chunk, size, 0, block + at.hashKey,
      CHUNK_HASH.length,
    );
    if (sealed !== 0 || hashed !== 0) throw new ProtocolError("sealing failed");
    return {
      data: raw.HEAPU8.slice(block + at.chunk, block + at.chunk + size),
      hash: raw.HEAPU8.slice(block + at.hash, block + at.hash + HASH_BYTES),
    };
  } finally {
    // The key and the plaintext do not stay in libsodium's memory.
    raw.HEAPU8.fill(0, block, block + offset);
    raw._free(block);
  }
}

export function decryptChunk(key, objectId, version, part, index, final, chunk) {
  if (bytes("chunk", chunk).length > NONCE_BYTES + CHUNK_SIZE + TAG_BYTES) {
    throw new MalformedInput("chunk is too long");
  }
  return aeadOpen(key, chunk, chunkAd(objectId, version, part, index, final));
}

/** Hash of the stored chunk (nonce included), listed in the manifest. */
export function chunkHash(chunk) {
  return h(CHUNK_HASH, bytes("chunk", chunk));
}

function manifestAd(objectId, version) {
  return concat(MANIFEST, id("objectId", objectId), u32("version", version));
}

/** Encrypt a manifest as canonical JSON (docs/protocol-v1.md, "Canonical JSON"). */
export function encryptManifest(key, objectId, version, manifest, { nonce } = {}) {
  const ad = manifestAd(objectId, version);
  return aeadSeal(key, canonicalJson(manifest), ad, nonce);
}

export function decryptManifest(key, objectId, version, blob) {
  return parseJsonObject(aeadOpen(key, blob, manifestAd(objectId, version)));
}

/** Commits to the whole object: the manifest lists every chunk's hash. */
export function manifestHash(blob) {
  return h(MANIFEST_HASH, bytes("manifest", blob));
}

function split(data) {
  // Chunks of exactly CHUNK_SIZE bytes but the last; an empty part is one empty chunk.
  const pieces = [];
  for (let i = 0; i < data.length; i += CHUNK_SIZE) {
    pieces.push(data.subarray(i, i + CHUNK_SIZE));
  }
  return pieces.length > 0 ? pieces : [new Uint8Array(0)];
}

function chunkCount(size) {
  return Math.max(1, Math.ceil(size / CHUNK_SIZE));
}

/**
 * Encrypt every part ({kind, mime, name, data, duration_ms?}) and the manifest that lists them.
 * Returns {manifestBlob, manifestHash, chunks} with chunks[part][index].
 * `nonces` (for test vectors) supplies one nonce per chunk, part by part in order, then one for
 * the manifest.
 */
export function encryptContent(key, objectId, version, parts, createdAt, author, { nonces } = {}) {
  id("author", author);
  if (typeof createdAt !== "string") {
    throw new MalformedInput("createdAt must be a string");
  }
  if (!Array.isArray(parts) || parts.length > 2 ** 16) {
    throw new MalformedInput("parts must be an array of at most 65536 parts");
  }
  for (const part of parts) {
    if (![part?.kind, part?.mime, part?.name].every((value) => typeof value === "string")) {
      throw new MalformedInput("part kind, mime and name must be strings");
    }
  }
  const pieces = parts.map((part) => split(bytes("part data", part.data)));
  const total = pieces.reduce((sum, list) => sum + list.length, 0);
  if (nonces !== undefined && nonces !== null && nonces.length !== total + 1) {
    throw new MalformedInput("need one nonce per chunk plus one for the manifest");
  }
  let used = 0;
  const next = () => (nonces ? nonces[used++] : undefined);

  const chunks = [];
  const listed = [];
  parts.forEach((part, number) => {
    const last = pieces[number].length - 1;
    const sealed = pieces[number].map((plaintext, index) =>
      encryptChunk(key, objectId, version, number, index, index === last, plaintext, {
        nonce: next(),
      }),
    );
    chunks.push(sealed);
    const entry = {
      kind: part.kind,
      mime: part.mime,
      name: part.name,
      size: part.data.length,
      chunks: sealed.length,
      hashes: sealed.map((chunk) => b64encode(chunkHash(chunk))),
    };
    // Optional (docs/api-media.md): recordings and audio/video files may say how long they are.
    if (part.duration_ms !== undefined && part.duration_ms !== null) {
      if (!Number.isSafeInteger(part.duration_ms) || part.duration_ms < 0) {
        throw new MalformedInput("duration_ms must be a whole number of milliseconds");
      }
      entry.duration_ms = part.duration_ms;
    }
    listed.push(entry);
  });
  const sealed = sealManifest(key, objectId, version, createdAt, author, listed, { nonce: next() });
  return { ...sealed, chunks };
}

/**
 * The encrypted manifest listing `parts` (their manifest entries, in part order) and its hash:
 * {manifestBlob, manifestHash}. encryptContent ends with it; a part sealed piece by piece
 * (static/js/media/seal.js) uses it directly.
 */
export function sealManifest(key, objectId, version, createdAt, author, parts, { nonce } = {}) {
  const manifest = {
    v: 1,
    object_id: objectId,
    version,
    created_at: createdAt,
    author,
    parts,
  };
  const manifestBlob = encryptManifest(key, objectId, version, manifest, { nonce });
  return { manifestBlob, manifestHash: manifestHash(manifestBlob) };
}

function field(mapping, name, type) {
  const value = mapping[name];
  const ok =
    type === "integer"
      ? Number.isSafeInteger(value)
      : type === "array"
        ? Array.isArray(value)
        : typeof value === type;
  if (!ok) {
    throw new MalformedInput(`manifest field "${name}" must be a ${type}`);
  }
  return value;
}

function manifestPart(entry) {
  if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
    throw new MalformedInput("manifest part is not an object");
  }
  const size = field(entry, "size", "integer");
  const count = field(entry, "chunks", "integer");
  const hashes = field(entry, "hashes", "array");
  if (size < 0 || count !== chunkCount(size) || hashes.length !== count) {
    throw new MalformedInput("manifest part sizes do not add up");
  }
  if (!hashes.every((value) => typeof value === "string")) {
    throw new MalformedInput("manifest chunk hash is not a string");
  }
  const part = {
    kind: field(entry, "kind", "string"),
    mime: field(entry, "mime", "string"),
    name: field(entry, "name", "string"),
    size,
    chunks: count,
    hashes: Object.freeze(hashes.slice()),
  };
  // Optional, and only a hint for the player: a value that is not a sensible whole number of
  // milliseconds is left out rather than refused (an unknown key would be ignored too).
  const duration = entry.duration_ms;
  if (Number.isSafeInteger(duration) && duration >= 0) {
    part.duration_ms = duration;
  }
  return Object.freeze(part);
}

/**
 * Check a manifest against the granted hash, decrypt it and check that it is for exactly this
 * object version and well formed. Returns a frozen
 * {parts: [{kind, mime, name, size, chunks, hashes, duration_ms?}], created_at, author}
 * (hashes as the manifest lists them, base64url); nothing of any chunk is touched here.
 * Chunks are then opened one by one with openChunk, or all at once with openContent.
 */
export function openManifest(key, objectId, version, manifestBlob, expectedManifestHash) {
  const expected = bytes("expected manifest hash", expectedManifestHash, HASH_BYTES);
  if (!equal(manifestHash(bytes("manifest", manifestBlob)), expected)) {
    throw new DecryptionFailed("manifest does not match the granted hash");
  }
  const manifest = decryptManifest(key, objectId, version, manifestBlob);
  if (field(manifest, "v", "integer") !== 1) {
    throw new MalformedInput("unknown manifest version");
  }
  const sameObject = field(manifest, "object_id", "string") === objectId;
  if (!sameObject || field(manifest, "version", "integer") !== version) {
    throw new WrongContext("manifest is for another object or version");
  }
  return Object.freeze({
    parts: Object.freeze(field(manifest, "parts", "array").map(manifestPart)),
    created_at: field(manifest, "created_at", "string"),
    author: field(manifest, "author", "string"),
  });
}

/**
 * The plaintext of chunk `index` of part `part`, given the stored chunk bytes and a manifest
 * from openManifest: the bytes must hash to what the manifest lists for exactly this place, the
 * chunk must authenticate as this place (object, version, part, index, last or not), and the
 * plaintext must have exactly the length the manifest implies (CHUNK_SIZE but the last). The
 * hash is checked before anything is decrypted. Any failure throws; nothing is returned.
 */
export function openChunk(key, objectId, version, manifest, part, index, chunkBytes) {
  const parts = manifest?.parts;
  if (!Array.isArray(parts) || !Number.isInteger(part) || part < 0 || part >= parts.length) {
    throw new MalformedInput("no such part in the manifest");
  }
  const entry = parts[part];
  if (!Number.isInteger(index) || index < 0 || index >= entry.chunks) {
    throw new MalformedInput("no such chunk in the manifest");
  }
  const chunk = bytes("fetched chunk", chunkBytes);
  if (!equal(chunkHash(chunk), b64decode(entry.hashes[index]))) {
    throw new DecryptionFailed("chunk does not match the manifest");
  }
  const final = index === entry.chunks - 1;
  const plaintext = decryptChunk(key, objectId, version, part, index, final, chunk);
  const wanted = final ? entry.size - CHUNK_SIZE * index : CHUNK_SIZE;
  if (plaintext.length !== wanted) {
    throw new MalformedInput("chunk has the wrong length");
  }
  return plaintext;
}

/**
 * Check the manifest against the granted hash, then every chunk against the manifest, and
 * return the parts [{kind, mime, name, data}]. `fetchChunk(part, index)` returns (or resolves
 * to) the stored chunk bytes. Nothing is decrypted before its hash has been checked.
 */
export async function openContent(
  key,
  objectId,
  version,
  manifestBlob,
  expectedManifestHash,
  fetchChunk,
) {
  const manifest = openManifest(key, objectId, version, manifestBlob, expectedManifestHash);
  const opened = [];
  for (let number = 0; number < manifest.parts.length; number += 1) {
    const entry = manifest.parts[number];
    const data = new Uint8Array(entry.size);
    for (let index = 0; index < entry.chunks; index += 1) {
      const chunk = await fetchChunk(number, index);
      const plaintext = openChunk(key, objectId, version, manifest, number, index, chunk);
      data.set(plaintext, CHUNK_SIZE * index);
    }
    opened.push({ kind: entry.kind, mime: entry.mime, name: entry.name, data });
  }
  return opened;
}

// --- letters -----------------------------------------------------------------------------------

/**
 * Encrypt `text` as a content object with one part (kind "letter", no file name) and make its
 * two initial grants: to the case key (so facilitators can review it; never to the recipient
 * before approval) and to the author's own key (so the author can read it again).
 * Returns {manifest, manifestHash, chunks, grantToCase, grantToAuthor, contentKey}.
 * `nonces` (for test vectors) supplies one nonce per chunk, then one for the manifest, one for
 * the grant to the case and one for the grant to the author.
 */
export function sealLetter(
  authorSk,
  authorPk,
  casePk,
  objectId,
  version,
  textValue,
  createdAt,
  authorId,
  { contentKey, nonces } = {},
) {
  const data = text("letter text", textValue);
  if (!equal(publicKeyFromSecret(authorSk), bytes("author public key", authorPk, KEY_BYTES))) {
    // Otherwise the author's own copy would be granted to somebody else's key.
    throw new MalformedInput("author public key does not belong to the author secret key");
  }
  const count = chunkCount(data.length);
  const given = nonces !== undefined && nonces !== null;
  if (given && nonces.length !== count + 3) {
    throw new MalformedInput("need one nonce per chunk, then manifest, case and author grants");
  }
  const key = contentKey === undefined || contentKey === null ? generateContentKey() : contentKey;
  bytes("content key", key, KEY_BYTES);
  const part = { kind: LETTER_KIND, mime: LETTER_MIME, name: "", data };
  const sealed = encryptContent(key, objectId, version, [part], createdAt, authorId, {
    nonces: given ? nonces.slice(0, count + 1) : undefined,
  });
  const digest = sealed.manifestHash;
  return {
    manifest: sealed.manifestBlob,
    manifestHash: digest,
    chunks: sealed.chunks[0],
    grantToCase: makeContentGrant(authorSk, casePk, objectId, version, key, digest, {
      nonce: given ? nonces[count + 1] : undefined,
    }),
    grantToAuthor: makeContentGrant(authorSk, authorPk, objectId, version, key, digest, {
      nonce: given ? nonces[count + 2] : undefined,
    }),
    contentKey: key,
  };
}

/**
 * The letter's text (a Promise, like openContent), after checking the grant, the manifest hash
 * and every chunk hash. `chunks` is the array of stored chunks in order.
 */
export async function openLetter(
  recipientSk,
  senderPk,
  objectId,
  version,
  grant,
  manifest,
  chunks,
) {
  const [key, grantedHash] = openContentGrant(recipientSk, senderPk, objectId, version, grant);
  if (!Array.isArray(chunks)) {
    throw new MalformedInput("chunks must be an array");
  }
  const fetch = (part, index) => {
    // Called only once the manifest has authenticated, so a second part means another kind.
    if (part !== 0) {
      throw new WrongContext("content object is not a single-part text letter");
    }
    if (index >= chunks.length) {
      throw new MalformedInput("letter is missing chunks");
    }
    return chunks[index];
  };
  const parts = await openContent(key, objectId, version, manifest, grantedHash, fetch);
  if (parts.length !== 1 || parts[0].kind !== LETTER_KIND || parts[0].mime !== LETTER_MIME) {
    // Authentic, but another kind of content object (media, feedback with files, ...).
    throw new WrongContext("content object is not a single-part text letter");
  }
  if (chunks.length !== chunkCount(parts[0].data.length)) {
    throw new MalformedInput("letter has more chunks than its manifest lists");
  }
  return fromUtf8(parts[0].data);
}

// --- client vault ------------------------------------------------------------------------------

export function vaultKey(secretKey) {
  return h(bytes("secret key", secretKey, KEY_BYTES), VAULT);
}

/** Pinned fingerprints, drafts index, preferences: opaque to the server, unforgeable. */
export function sealVault(secretKey, accountId, data, { nonce } = {}) {
  const ad = concat(VAULT, id("accountId", accountId));
  return aeadSeal(vaultKey(secretKey), canonicalJson(data), ad, nonce);
}

export function openVault(secretKey, accountId, blob) {
  const ad = concat(VAULT, id("accountId", accountId));
  return parseJsonObject(aeadOpen(vaultKey(secretKey), blob, ad));
}

// --- case data ---------------------------------------------------------------------------------

export function caseDataKey(caseSecretKey) {
  return h(bytes("case secret key", caseSecretKey, KEY_BYTES), CASE_DATA);
}

function caseDataAd(caseId, purpose) {
  if (typeof purpose !== "string" || !PURPOSE_RE.test(purpose)) {
    throw new MalformedInput("purpose must be 1 to 100 visible ASCII characters");
  }
  return concat(CASE_DATA, id("caseId", caseId), ascii(purpose));
}

/**
 * Participant names, facilitator notes: readable only by holders of the case secret key.
 * `purpose` (e.g. "participant-name:<uuid>") is bound into the AD, so the server cannot show one
 * participant's name as another's or a note as a name.
 */
export function sealCaseData(caseSecretKey, caseId, purpose, data, { nonce } = {}) {
  const ad = caseDataAd(caseId, purpose);
  return aeadSeal(caseDataKey(caseSecretKey), bytes("data", data), ad, nonce);
}

export function openCaseData(caseSecretKey, caseId, purpose, blob) {
  return aeadOpen(caseDataKey(caseSecretKey), blob, caseDataAd(caseId, purpose));
}

/** sealCaseData of the text as UTF-8. */
export function sealCaseText(caseSecretKey, caseId, purpose, textValue, { nonce } = {}) {
  return sealCaseData(caseSecretKey, caseId, purpose, text("text", textValue), { nonce });
}

export function openCaseText(caseSecretKey, caseId, purpose, blob) {
  return fromUtf8(openCaseData(caseSecretKey, caseId, purpose, blob));
}

// --- drafts ------------------------------------------------------------------------------------

export function draftKey(secretKey) {
  return h(bytes("secret key", secretKey, KEY_BYTES), DRAFT);
}

/**
 * An autosaved draft only its author can read; the server stores it opaque. Account and draft id
 * are bound into the AD, so the server cannot show one draft in the place of another or hand one
 * account's draft to another.
 */
export function sealDraft(secretKey, accountId, draftId, data, { nonce } = {}) {
  const ad = concat(DRAFT, id("accountId", accountId), id("draftId", draftId));
  return aeadSeal(draftKey(secretKey), bytes("data", data), ad, nonce);
}

export function openDraft(secretKey, accountId, draftId, blob) {
  const ad = concat(DRAFT, id("accountId", accountId), id("draftId", draftId));
  return aeadOpen(draftKey(secretKey), blob, ad);
}

// --- trust anchors: signing keys, signed statements, the trust log, invitations ----------------

function signingSeed(secretKey) {
  return h(bytes("secret key", secretKey, KEY_BYTES), SIGNING_SEED);
}

/**
 * [signingSecret, signingPublicKey]: the account's Ed25519 key pair, derived from its X25519
 * identity secret key, so bundles, recovery bundles and session blobs stay as they are.
 * `signingSecret` is libsodium's 64-byte form (seed || public key) in both implementations; it
 * never leaves the browser and is never stored.
 */
export function signingKeysFromSecret(secretKey) {
  const seed = signingSeed(secretKey);
  try {
    const pair = na().crypto_sign_seed_keypair(seed);
    return [pair.privateKey, pair.publicKey];
  } finally {
    na().memzero(seed);
  }
}

export function signingPublicKeyFromSecret(secretKey) {
  const [secret, publicKey] = signingKeysFromSecret(secretKey);
  na().memzero(secret);
  return publicKey;
}

/**
 * 60 decimal digits over both public keys: the security number people compare in person for an
 * account that has a signing key (formatFingerprint groups them).
 */
export function identityFingerprintDigits(boxPublicKey, signingPublicKey) {
  const keys = concat(
    bytes("box public key", boxPublicKey, KEY_BYTES),
    bytes("signing public key", signingPublicKey, KEY_BYTES),
  );
  return digits(h(IDENTITY_FINGERPRINT, keys));
}

function sign(signingSecret, message) {
  bytes("signing secret", signingSecret, SIGNING_SECRET_BYTES);
  // libsodium signs with the public half stored in the secret key; a mismatched one would give
  // signatures nobody can check (and can leak the key), so it is refused.
  const pair = na().crypto_sign_seed_keypair(signingSecret.subarray(0, 32));
  na().memzero(pair.privateKey);
  if (!equal(pair.publicKey, signingSecret.subarray(32))) {
    throw new MalformedInput("signing secret is not a seed followed by its public key");
  }
  return na().crypto_sign_detached(message, signingSecret);
}

function verify(signingPublicKey, message, signature) {
  let ok = false;
  try {
    ok = na().crypto_sign_verify_detached(signature, message, signingPublicKey);
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new DecryptionFailed("signature does not verify with this key");
  }
}

// Field checkers: (field name, value) => undefined, throwing MalformedInput.
const checkUuid = (name, value) => {
  id(name, value);
};

const checkUuidOrNull = (name, value) => {
  if (value !== null) id(name, value);
};

function checkKey(name, value) {
  if (typeof value !== "string" || b64decode(value).length !== KEY_BYTES) {
    throw new MalformedInput(`${name} must be base64url of 32 bytes`);
  }
}

/**
 * ISO 8601 UTC to the second, "YYYY-MM-DDTHH:MM:SSZ", a real date and time (years 0001 to 9999,
 * no leap second): one spelling per instant, so strings compare like times.
 */
function checkTimestamp(name, value) {
  const match = typeof value === "string" ? TIMESTAMP_RE.exec(value) : null;
  if (match === null) {
    throw new MalformedInput(`${name} must be a UTC time written YYYY-MM-DDTHH:MM:SSZ`);
  }
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  const real =
    year >= 1 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= days[month - 1] &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59;
  if (!real) {
    throw new MalformedInput(`${name} is not a real date and time`);
  }
}

function oneOf(...allowed) {
  return (name, value) => {
    if (typeof value !== "string" || !allowed.includes(value)) {
      throw new MalformedInput(`${name} must be one of ${allowed.join(", ")}`);
    }
  };
}

function checkEpoch(name, value) {
  if (uint(name, value, 32) < 1) {
    throw new MalformedInput(`${name} must be at least 1`);
  }
}

const STAFF_ROLES = ["service_manager", "facilitator"];
const INVITATION_ROLES = ["service_manager", "facilitator", "participant", "supporter"];
const STATEMENT_KINDS = Object.freeze({
  "staff-cert": {
    account_id: checkUuid,
    role: oneOf(...STAFF_ROLES),
    box_public_key: checkKey,
    signing_public_key: checkKey,
    issued_at: checkTimestamp,
    issuer_account_id: checkUuid,
  },
  "case-key": {
    case_id: checkUuid,
    epoch: checkEpoch,
    case_public_key: checkKey,
    issued_at: checkTimestamp,
    issuer_account_id: checkUuid,
  },
  revocation: {
    account_id: checkUuid,
    revoked_at: checkTimestamp,
    issuer_account_id: checkUuid,
    reason: oneOf("disabled", "key-lost", "left"),
  },
  "referral-key": {
    key_id: checkUuid,
    referral_public_key: checkKey,
    issued_at: checkTimestamp,
    issuer_account_id: checkUuid,
  },
  "root-handover": {
    new_root_account_id: checkUuid,
    new_root_signing_public_key: checkKey,
    issued_at: checkTimestamp,
    issuer_account_id: checkUuid,
  },
});
// What the hash-chained trust log holds: certificates, revocations and hand-overs of the root.
const TRUST_LOG_KINDS = ["staff-cert", "revocation", "root-handover"];
const INVITATION_FIELDS = {
  invitation_id: checkUuid,
  account_id: checkUuid,
  role: oneOf(...INVITATION_ROLES),
  case_id: checkUuidOrNull,
  participant_id: checkUuidOrNull,
  inviter_account_id: checkUuid,
  inviter_box_public_key: checkKey,
  inviter_signing_public_key: checkKey,
  root_account_id: checkUuid,
  root_signing_public_key: checkKey,
  expires_at: checkTimestamp,
};

function isPlainObject(value) {
  return (
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    Object.getPrototypeOf(value) === Object.prototype
  );
}

/** Exactly the schema's field names, each value of its type; a copy of the fields. */
function checkFields(what, schema, fields) {
  if (!isPlainObject(fields)) {
    throw new MalformedInput(`${what} fields must be an object`);
  }
  const names = Object.keys(schema);
  const given = Object.keys(fields);
  if (given.length !== names.length || !given.every((name) => Object.hasOwn(schema, name))) {
    throw new MalformedInput(`${what} needs exactly the fields ${names.sort().join(", ")}`);
  }
  const copy = {};
  for (const name of names) {
    schema[name](name, fields[name]);
    copy[name] = fields[name];
  }
  return copy;
}

function statementSchema(kind) {
  if (typeof kind !== "string" || !Object.hasOwn(STATEMENT_KINDS, kind)) {
    throw new MalformedInput("unknown kind of statement");
  }
  return STATEMENT_KINDS[kind];
}

/**
 * [statement, signature]: canonical JSON of `fields` plus "context": "portal/v1/<kind>", and a
 * detached Ed25519 signature over "portal/v1/statement" 0x00 || statement.
 */
export function signStatement(signingSecret, kind, fields) {
  const schema = statementSchema(kind);
  if (isPlainObject(fields) && Object.hasOwn(fields, "context")) {
    throw new MalformedInput("the context is added by signStatement, not given");
  }
  const checked = checkFields(kind, schema, fields);
  const statement = canonicalJson({ ...checked, context: CONTEXT_PREFIX + kind });
  return [statement, sign(signingSecret, concat(STATEMENT, statement))];
}

/** The statement's JSON object, once its signature verifies and its bytes are canonical. */
function verifiedStatement(signingPublicKey, statement, signature) {
  bytes("signing public key", signingPublicKey, KEY_BYTES);
  bytes("signature", signature, SIGNATURE_BYTES);
  if (bytes("statement", statement).length > MAX_STATEMENT_BYTES) {
    throw new MalformedInput("statement is too long");
  }
  verify(signingPublicKey, concat(STATEMENT, statement), signature);
  const data = parseJsonObject(statement);
  // Exactly one encoding: whatever the signer wrote must be what canonical JSON writes.
  if (!equal(canonicalJson(data), statement)) {
    throw new MalformedInput("statement is not canonical JSON");
  }
  return data;
}

function statementContext(data) {
  if (!Object.hasOwn(data, "context") || typeof data.context !== "string") {
    throw new MalformedInput("statement has no context");
  }
  return data.context;
}

function withoutContext(data) {
  const fields = {};
  for (const name of Object.keys(data)) {
    if (name !== "context") fields[name] = data[name];
  }
  return fields;
}

/**
 * The statement's fields (without "context", frozen), if `signingPublicKey` signed exactly these
 * bytes, they are canonical JSON, of this kind, with the kind's fields.
 */
export function openStatement(signingPublicKey, kind, statement, signature) {
  const schema = statementSchema(kind);
  const data = verifiedStatement(signingPublicKey, statement, signature);
  if (statementContext(data) !== CONTEXT_PREFIX + kind) {
    throw new WrongContext("statement is of another kind");
  }
  return Object.freeze(checkFields(kind, schema, withoutContext(data)));
}

/** {account_id, role, box_public_key, signing_public_key, issued_at, issuer_account_id}. */
export function signStaffCert(signingSecret, fields) {
  return signStatement(signingSecret, "staff-cert", fields);
}

export function openStaffCert(signingPublicKey, statement, signature) {
  return openStatement(signingPublicKey, "staff-cert", statement, signature);
}

/** {case_id, epoch, case_public_key, issued_at, issuer_account_id}. */
export function signCaseKeyEpoch(signingSecret, fields) {
  return signStatement(signingSecret, "case-key", fields);
}

export function openCaseKeyEpoch(signingPublicKey, statement, signature) {
  return openStatement(signingPublicKey, "case-key", statement, signature);
}

/** {account_id, revoked_at, issuer_account_id, reason}. */
export function signRevocation(signingSecret, fields) {
  return signStatement(signingSecret, "revocation", fields);
}

export function openRevocation(signingPublicKey, statement, signature) {
  return openStatement(signingPublicKey, "revocation", statement, signature);
}

/** {new_root_account_id, new_root_signing_public_key, issued_at, issuer_account_id}. */
export function signRootHandover(signingSecret, fields) {
  return signStatement(signingSecret, "root-handover", fields);
}

export function openRootHandover(signingPublicKey, statement, signature) {
  return openStatement(signingPublicKey, "root-handover", statement, signature);
}

/**
 * {key_id, referral_public_key, issued_at, issuer_account_id}: the service's referral key,
 * published by a certified service manager (not a trust log entry: it names no account).
 */
export function signReferralKey(signingSecret, fields) {
  return signStatement(signingSecret, "referral-key", fields);
}

export function openReferralKey(signingPublicKey, statement, signature) {
  return openStatement(signingPublicKey, "referral-key", statement, signature);
}

/** h_0 .. h_{n-1} of entries [signerSigningPublicKey, statement, signature], each checked. */
function trustLogHashes(entries) {
  if (!Array.isArray(entries) || entries.length >= 2 ** 32) {
    throw new MalformedInput("trust log entries must be an array");
  }
  const hashes = [];
  let previous = new Uint8Array(HASH_BYTES);
  entries.forEach((entry, index) => {
    if (!Array.isArray(entry) || entry.length !== 3) {
      throw new MalformedInput("a trust log entry is [signer key, statement, signature]");
    }
    const [signer, statement, signature] = entry;
    const data = verifiedStatement(signer, statement, signature);
    const context = statementContext(data);
    const kind = context.slice(CONTEXT_PREFIX.length);
    if (!context.startsWith(CONTEXT_PREFIX) || !TRUST_LOG_KINDS.includes(kind)) {
      throw new WrongContext("trust log entry is not a certificate, revocation or hand-over");
    }
    checkFields(kind, STATEMENT_KINDS[kind], withoutContext(data));
    previous = h(
      TRUST_LOG,
      concat(
        previous,
        u32("index", index),
        signer,
        u32("statement length", statement.length),
        statement,
        signature,
      ),
    );
    hashes.push(previous);
  });
  return hashes;
}

/** [count, head hash] of a whole log; an empty log's head is 32 zero bytes. */
export function trustLogHead(entries) {
  const hashes = trustLogHashes(entries);
  return [hashes.length, hashes.length ? hashes.at(-1) : new Uint8Array(HASH_BYTES)];
}

/**
 * The new head, if the whole log `entries` begins with the log this browser saw (`oldCount`
 * entries ending in `oldHead`); WrongContext otherwise.
 */
export function verifyTrustLogExtends(oldCount, oldHead, entries) {
  uint("old count", oldCount, 32);
  bytes("old head", oldHead, HASH_BYTES);
  const hashes = trustLogHashes(entries);
  if (hashes.length < oldCount) {
    throw new WrongContext("trust log is shorter than the one seen before");
  }
  const seen = oldCount ? hashes[oldCount - 1] : new Uint8Array(HASH_BYTES);
  if (!equal(seen, oldHead)) {
    throw new WrongContext("trust log does not extend the one seen before");
  }
  return hashes.length ? hashes.at(-1) : new Uint8Array(HASH_BYTES);
}

/** [codeBytes, codeText]: 80 random bits, shown as 16 Crockford symbols. */
export function generateInvitationCode() {
  const code = na().randombytes_buf(INVITATION_CODE_BYTES);
  return [code, encodeInvitationCode(code)];
}

/** Crockford base32 of the 10 bytes, 4 groups of 4 symbols joined by "-". */
export function encodeInvitationCode(code) {
  const raw = bytes("invitation code", code, INVITATION_CODE_BYTES);
  return crockfordSymbols(BigInt(`0x${na().to_hex(raw)}`), INVITATION_SYMBOLS);
}

/** Forgiving about case, spaces, "-" and O/I/L; strict about everything else. */
export function decodeInvitationCode(code) {
  const number = crockfordNumber(code, INVITATION_SYMBOLS, "invitation code");
  return na().from_hex(number.toString(16).padStart(2 * INVITATION_CODE_BYTES, "0"));
}

/**
 * {lookupId, redeemProof, macKey}: lookupId (32 hex characters) finds the invitation on the
 * server; redeemProof is sent only to redeem it (the server keeps a hash); macKey never leaves
 * the browser.
 */
export function invitationSecrets(code) {
  bytes("invitation code", code, INVITATION_CODE_BYTES);
  return {
    lookupId: na().to_hex(h(INVITE_LOOKUP, code).subarray(0, LOOKUP_ID_BYTES)),
    redeemProof: h(INVITE_REDEEM, code),
    macKey: h(INVITE_MAC_KEY, code),
  };
}

/**
 * H(key="portal/v1/invite/redeem-hash", msg=redeemProof): what the inviter's browser sends the
 * server so it can check a redemption without being able to make one.
 */
export function invitationRedeemHash(redeemProof) {
  return h(INVITE_REDEEM_HASH, bytes("redeem proof", redeemProof, HASH_BYTES));
}

// A code for a new key pair (re-keying) adds purpose: "rekey"; an invitation to join has no
// purpose field (so every code made before re-keying existed still checks). Present or absent,
// the field is under the MAC: a join code cannot be served as a re-key, nor the reverse.
const REKEY_FIELDS = { ...INVITATION_FIELDS, purpose: oneOf("rekey") };
const REKEY_ROLES = ["participant", "supporter"];

function invitationFields(fields) {
  const rekey = isPlainObject(fields) && Object.hasOwn(fields, "purpose");
  const checked = checkFields("invitation", rekey ? REKEY_FIELDS : INVITATION_FIELDS, fields);
  if (rekey && !REKEY_ROLES.includes(checked.role)) {
    throw new MalformedInput("a code for a new key is for a participant or a supporter");
  }
  const staff = STAFF_ROLES.includes(checked.role);
  if (staff && (checked.case_id !== null || checked.participant_id !== null)) {
    throw new MalformedInput("a staff invitation names no case and no participant");
  }
  const unplaced = checked.case_id === null || checked.participant_id === null;
  if (checked.role === "participant" && unplaced) {
    throw new MalformedInput("a participant invitation names its case and participant");
  }
  if (checked.participant_id !== null && checked.case_id === null) {
    throw new MalformedInput("an invitation that names a participant names its case");
  }
  return checked;
}

/** H(key=macKey, msg="portal/v1/invite" 0x00 || canonical JSON of the fields). */
export function invitationMac(macKey, fields) {
  bytes("MAC key", macKey, KEY_BYTES);
  return h(macKey, concat(INVITE_MAC, canonicalJson(invitationFields(fields))));
}

/** Refuse (DecryptionFailed) unless the inviter who made the code sent these fields. */
export function checkInvitationMac(macKey, fields, mac) {
  bytes("invitation MAC", mac, HASH_BYTES);
  if (!equal(invitationMac(macKey, fields), mac)) {
    throw new DecryptionFailed("invitation does not match its code");
  }
}
