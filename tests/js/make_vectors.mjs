// Write tests/vectors/js.json: deterministic protocol vectors made by static/js/crypto/protocol.js.
//
// Run from the repository root after a deliberate protocol change, then commit the result:
//
//     node tests/js/make_vectors.mjs
//
// tests/unit/test_protocol.py recomputes every output here with portal/protocol.py and must agree
// byte for byte; tests/vectors/make_vectors.py writes the mirror file python.json (same shape,
// other inputs). The tests never regenerate either file.

import { writeFileSync } from "node:fs";
import sodium from "../../static/vendor/libsodium-wrappers.mjs";
import * as p from "../../static/js/crypto/protocol.js";

const OUT = new URL("../vectors/js.json", import.meta.url);
const SEED = "js";
const CHEAP_OPS = p.MIN_KDF_OPS;
const CHEAP_MEM = p.MIN_KDF_MEM;

const ACCOUNT_ID = "6e0f4b2a-1c3d-4e5f-a7b8-c9d0e1f2a3b4";
const CASE_ID = "0d1e2f3a-4b5c-4d6e-9f80-a1b2c3d4e5f6";
const OBJECT_ID = "f0e1d2c3-b4a5-4968-8776-655443322110";
const AUTHOR_ID = "7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d";
const LETTER_ID = "c0ffee00-1234-4567-89ab-cdef01234567";
const DRAFT_IDS = ["a1b2c3d4-e5f6-4a7b-8c9d-e0f1a2b3c4d5", "5a4b3c2d-1e0f-4a9b-b8c7-d6e5f4a3b2c1"];
const PASSWORD = "Tr0ub4dor & 3";
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

await p.ready();
await sodium.ready;

/** Stable pseudo-random test input: BLAKE2b of a label, never a real secret. */
function fixed(label, size = 32) {
  return sodium.crypto_generichash(size, `portal/v1/test-vectors/${SEED}/${label}`, null);
}

/** Large part data both generators and both tests rebuild instead of storing. */
function pattern(length) {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 1) out[i] = i % 251;
  return out;
}

const e = (data) => p.b64encode(data);
const utf8 = (text) => new TextEncoder().encode(text);

function kdfVector(password, salt, ops, mem) {
  const keys = p.deriveAccountKeys(password, salt, ops, mem);
  return {
    password,
    salt: e(salt),
    ops,
    mem,
    master: e(keys.master),
    auth_key: e(keys.authKey),
    wrap_key: e(keys.wrapKey),
  };
}

function fingerprintVector(publicKey) {
  const digits = p.fingerprintDigits(publicKey);
  return { public_key: e(publicKey), digits, formatted: p.formatFingerprint(digits) };
}

function chunkVector(key, part, index, final, plaintext, label) {
  const nonce = fixed(label, p.NONCE_BYTES);
  const chunk = p.encryptChunk(key, OBJECT_ID, 7, part, index, final, plaintext, { nonce });
  return {
    key: e(key),
    object_id: OBJECT_ID,
    version: 7,
    part,
    index,
    final,
    plaintext: e(plaintext),
    nonce: e(nonce),
    chunk: e(chunk),
    chunk_hash: e(p.chunkHash(chunk)),
  };
}

function caseDataVector(caseSecret, purpose, data, label) {
  const nonce = fixed(label, p.NONCE_BYTES);
  const blob = p.sealCaseData(caseSecret, CASE_ID, purpose, data, { nonce });
  return { purpose, data: e(data), nonce: e(nonce), blob: e(blob) };
}

function caseTextVector(caseSecret, purpose, text, label) {
  const nonce = fixed(label, p.NONCE_BYTES);
  const blob = p.sealCaseText(caseSecret, CASE_ID, purpose, text, { nonce });
  return { purpose, text, nonce: e(nonce), blob: e(blob) };
}

function draftVector(secretKey, draftId, data, label) {
  const nonce = fixed(label, p.NONCE_BYTES);
  return {
    secret_key: e(secretKey),
    draft_key: e(p.draftKey(secretKey)),
    account_id: ACCOUNT_ID,
    draft_id: draftId,
    data: e(data),
    nonce: e(nonce),
    blob: e(p.sealDraft(secretKey, ACCOUNT_ID, draftId, data, { nonce })),
  };
}

/**
 * sealLetter by carol to the case key. A long letter is stored as its `recipe`
 * [head, repeat, times] (head + repeat * times) and its chunk hashes; a short one keeps its text
 * and chunks.
 */
function letterVector(authorSk, caseSecret, version, text, label, recipe) {
  if (recipe !== undefined) {
    const [head, repeat, times] = recipe;
    if (head + repeat.repeat(times) !== text) throw new Error("recipe does not give the text");
  }
  const authorPk = p.publicKeyFromSecret(authorSk);
  const casePublic = p.publicKeyFromSecret(caseSecret);
  const createdAt = `2025-03-0${version}T08:15:00Z`;
  const count = Math.max(1, Math.ceil(utf8(text).length / p.CHUNK_SIZE));
  const contentKey = fixed(`${label}/key`);
  const nonces = Array.from({ length: count + 3 }, (_, i) =>
    fixed(`${label}/nonce/${i}`, p.NONCE_BYTES),
  );
  const sealed = p.sealLetter(
    authorSk,
    authorPk,
    casePublic,
    LETTER_ID,
    version,
    text,
    createdAt,
    AUTHOR_ID,
    { contentKey, nonces },
  );
  const vector = {
    author: "carol",
    author_id: AUTHOR_ID,
    case_secret_key: e(caseSecret),
    case_public_key: e(casePublic),
    object_id: LETTER_ID,
    version,
    created_at: createdAt,
    ...(recipe === undefined
      ? { text }
      : { text_pattern: { head: recipe[0], repeat: recipe[1], times: recipe[2] } }),
    content_key: e(contentKey),
    nonces: nonces.map(e),
    manifest: e(sealed.manifest),
    manifest_hash: e(sealed.manifestHash),
    chunk_hashes: sealed.chunks.map((chunk) => e(p.chunkHash(chunk))),
    grant_to_case: e(sealed.grantToCase),
    grant_to_author: e(sealed.grantToAuthor),
  };
  if (recipe === undefined) vector.chunks = sealed.chunks.map(e);
  return vector;
}

function build() {
  const identities = {};
  const publicKeys = {};
  for (const name of ["alice", "bob", "carol"]) {
    identities[name] = fixed(`identity/${name}`);
    publicKeys[name] = p.publicKeyFromSecret(identities[name]);
  }
  const secretKey = identities.alice;

  // Passwords: plain, one that NFKC changes (full-width letters, a ligature, a combining ring)
  // and its NFKC form, which must give the same keys, and the empty password.
  const salt = fixed("kdf/salt", p.SALT_BYTES);
  const odd = "\uff30\uff41\uff53\uff53 \ufb01 A\u030a";
  const kdf = [
    kdfVector(PASSWORD, salt, CHEAP_OPS, CHEAP_MEM),
    kdfVector(odd, salt, CHEAP_OPS, CHEAP_MEM),
    kdfVector(odd.normalize("NFKC"), salt, CHEAP_OPS, CHEAP_MEM),
    kdfVector("", fixed("kdf/salt-2", p.SALT_BYTES), CHEAP_OPS, CHEAP_MEM),
    // The one vector with the production defaults (slow on purpose: keep it the only one).
    kdfVector("the default parameters", salt, p.DEFAULT_KDF_OPS, p.DEFAULT_KDF_MEM),
  ];
  const wrapKey = p.deriveAccountKeys(PASSWORD, salt, CHEAP_OPS, CHEAP_MEM).wrapKey;

  const bundleNonce = fixed("bundle/nonce", p.NONCE_BYTES);
  const bundle = p.wrapSecretKey(wrapKey, ACCOUNT_ID, secretKey, { nonce: bundleNonce });

  // A public key whose fingerprint starts with zeros pins the zero padding.
  let counter = 0;
  while (!p.fingerprintDigits(fixed(`fingerprint/${counter}`)).startsWith("0")) counter += 1;
  const fingerprints = [
    fingerprintVector(publicKeys.alice),
    fingerprintVector(publicKeys.bob),
    fingerprintVector(fixed(`fingerprint/${counter}`)),
  ];

  const recoveryKey = fixed("recovery/key");
  const code = p.encodeRecoveryCode(recoveryKey);
  const recoveryNonce = fixed("recovery/nonce", p.NONCE_BYTES);
  const sloppy = code.toLowerCase().replaceAll("-", " ").replaceAll("0", "o").replaceAll("1", "l");
  const recovery = {
    recovery_key: e(recoveryKey),
    code,
    code_variants: [sloppy, code.replaceAll("-", ""), `  ${code.replaceAll("1", "I")}\n`],
    recovery_auth: e(p.recoveryAuthKey(recoveryKey)),
    account_id: ACCOUNT_ID,
    secret_key: e(secretKey),
    nonce: e(recoveryNonce),
    bundle: e(p.wrapWithRecovery(recoveryKey, ACCOUNT_ID, secretKey, { nonce: recoveryNonce })),
  };
  const last = code.at(-1);
  const recoveryCodeInvalid = [
    code.slice(0, -2), // too short
    `${code}0`, // too long
    `${code.slice(0, -1)}U`, // U is not in the alphabet
    code.slice(0, -1) + CROCKFORD[CROCKFORD.indexOf(last) ^ 1], // non-zero padding bits
    code.replaceAll("-", "_"), // unknown separator
    `${code.slice(0, -1)}\u0660`, // a non-ASCII digit
  ];

  const sessionKey = fixed("session/key");
  const sessionNonce = fixed("session/nonce", p.NONCE_BYTES);
  const session = {
    session_key: e(sessionKey),
    account_id: ACCOUNT_ID,
    secret_key: e(secretKey),
    nonce: e(sessionNonce),
    blob: e(p.sessionWrap(sessionKey, ACCOUNT_ID, secretKey, { nonce: sessionNonce })),
  };

  const caseSecret = fixed("case/secret");
  const caseNonce = fixed("case/nonce", p.NONCE_BYTES);
  const caseGrant = {
    sender: "alice",
    recipient: "bob",
    case_id: CASE_ID,
    case_secret_key: e(caseSecret),
    nonce: e(caseNonce),
    grant: e(
      p.makeCaseGrant(identities.alice, publicKeys.bob, CASE_ID, caseSecret, { nonce: caseNonce }),
    ),
  };

  const contentKey = fixed("content/key");
  const grantedHash = fixed("content/manifest-hash");
  const contentNonce = fixed("content/nonce", p.NONCE_BYTES);
  const contentGrant = {
    sender: "bob",
    recipient: "carol",
    object_id: OBJECT_ID,
    version: 7,
    content_key: e(contentKey),
    manifest_hash: e(grantedHash),
    nonce: e(contentNonce),
    grant: e(
      p.makeContentGrant(identities.bob, publicKeys.carol, OBJECT_ID, 7, contentKey, grantedHash, {
        nonce: contentNonce,
      }),
    ),
  };

  const chunks = [
    chunkVector(contentKey, 0, 0, false, utf8("Dear Sam, this is not the last chunk."), "c/0"),
    chunkVector(contentKey, 1, 3, true, utf8("\u2026the last one. \u2013 J."), "c/1"),
    chunkVector(contentKey, 2, 0, true, new Uint8Array(0), "c/2"),
  ];

  // Keys out of order, non-ASCII text, control characters, an astral character (UTF-16 code
  // unit order puts U+1F600 before U+FF61), nesting, negative and large safe integers.
  const manifestData = {
    version: 7,
    v: 1,
    parts: [
      {
        name: "Brief an J\u00fcrgen \u2709.txt",
        mime: "text/plain; charset=utf-8",
        kind: "letter",
        size: 0,
        hashes: [],
        chunks: 0,
      },
    ],
    object_id: OBJECT_ID,
    created_at: "2025-03-01T09:30:00Z",
    author: AUTHOR_ID,
    "\uff61": "half-width",
    "\u{1f600}": "astral",
    extra: { z: null, a: [true, false, -12, 9007199254740991], "\t": 'quote " \\ \x01' },
  };
  const manifestNonce = fixed("manifest/nonce", p.NONCE_BYTES);
  const manifestBlob = p.encryptManifest(contentKey, OBJECT_ID, 7, manifestData, {
    nonce: manifestNonce,
  });
  const manifest = {
    key: e(contentKey),
    object_id: OBJECT_ID,
    version: 7,
    manifest: manifestData,
    nonce: e(manifestNonce),
    blob: e(manifestBlob),
    manifest_hash: e(p.manifestHash(manifestBlob)),
  };

  // A whole object: a letter, an empty part and a part of two chunks (1 MiB + 10 bytes).
  const objectKey = fixed("object/key");
  const letter = utf8("Dear Sam,\nI am sorry.\n\u2014 Jo");
  const parts = [
    { kind: "letter", mime: "text/plain; charset=utf-8", name: "letter.txt", data: letter },
    { kind: "note", mime: "text/plain", name: "", data: new Uint8Array(0) },
    { kind: "audio", mime: "audio/ogg", name: "voice.ogg", data: pattern(p.CHUNK_SIZE + 10) },
  ];
  const objectNonces = [0, 1, 2, 3, 4].map((i) => fixed(`object/nonce/${i}`, p.NONCE_BYTES));
  const encrypted = p.encryptContent(
    objectKey,
    OBJECT_ID,
    2,
    parts,
    "2025-03-02T10:00:00Z",
    AUTHOR_ID,
    { nonces: objectNonces },
  );
  const content = {
    key: e(objectKey),
    object_id: OBJECT_ID,
    version: 2,
    created_at: "2025-03-02T10:00:00Z",
    author: AUTHOR_ID,
    parts: [
      { kind: "letter", mime: parts[0].mime, name: "letter.txt", data: e(letter) },
      { kind: "note", mime: "text/plain", name: "", data: "" },
      { kind: "audio", mime: "audio/ogg", name: "voice.ogg", pattern: parts[2].data.length },
    ],
    nonces: objectNonces.map(e),
    manifest_blob: e(encrypted.manifestBlob),
    manifest_hash: e(encrypted.manifestHash),
    chunk_hashes: encrypted.chunks.map((list) => list.map((chunk) => e(p.chunkHash(chunk)))),
  };

  const vaultData = {
    pins: { [AUTHOR_ID]: fingerprints[1].digits },
    drafts: [],
    prefs: { text_size: 2, quick_exit: true, greeting: "Gr\u00fc\u00df dich \u{1f600}" },
  };
  const vaultNonce = fixed("vault/nonce", p.NONCE_BYTES);
  const vault = {
    secret_key: e(secretKey),
    vault_key: e(p.vaultKey(secretKey)),
    account_id: ACCOUNT_ID,
    data: vaultData,
    nonce: e(vaultNonce),
    blob: e(p.sealVault(secretKey, ACCOUNT_ID, vaultData, { nonce: vaultNonce })),
  };

  const casePublic = p.publicKeyFromSecret(caseSecret);
  const casePublicNonce = fixed("case-public/nonce", p.NONCE_BYTES);
  const casePublicGrant = {
    sender: "alice",
    recipient: "carol",
    case_id: CASE_ID,
    case_public_key: e(casePublic),
    nonce: e(casePublicNonce),
    grant: e(
      p.makeCasePublicGrant(identities.alice, publicKeys.carol, CASE_ID, casePublic, {
        nonce: casePublicNonce,
      }),
    ),
  };

  // The longest purpose (100 visible ASCII characters, both ends of the range), empty data,
  // binary data; texts with non-ASCII, an astral character and a leading U+FEFF, which both
  // sides must keep (TextDecoder drops it unless told not to).
  const longestPurpose = `!${"x".repeat(98)}~`;
  const caseData = {
    case_secret_key: e(caseSecret),
    case_data_key: e(p.caseDataKey(caseSecret)),
    case_id: CASE_ID,
    items: [
      caseDataVector(caseSecret, `participant-name:${AUTHOR_ID}`, utf8("Sam Doe"), "case-data/0"),
      caseDataVector(caseSecret, longestPurpose, new Uint8Array(0), "case-data/1"),
      caseDataVector(
        caseSecret,
        `facilitator-note:${LETTER_ID}`,
        fixed("case-data/raw", 40),
        "cd/2",
      ),
    ],
    texts: [
      caseTextVector(
        caseSecret,
        `participant-name:${ACCOUNT_ID}`,
        "Zo\u00eb \u0141\u00f3d\u017a \u{1f33c}",
        "ct/0",
      ),
      caseTextVector(
        caseSecret,
        `facilitator-note:${ACCOUNT_ID}`,
        "\ufeffStarts with U+FEFF.\r\nMet twice \u2013 ready.",
        "ct/1",
      ),
    ],
  };
  const caseDataPurposesInvalid = [
    "", // empty
    "x".repeat(101), // one too long
    "participant name", // space
    "tab\there",
    "caf\u00e9", // not ASCII
    "line\n",
    "nul\u0000",
    "del\u007f",
  ];

  const drafts = [
    draftVector(secretKey, DRAFT_IDS[0], utf8("Dear Jo,\nI have thought \u2026"), "draft/0"),
    draftVector(secretKey, DRAFT_IDS[1], new Uint8Array(0), "draft/1"),
  ];

  // A short letter keeps its chunk; a long one (1 MiB + 1 byte of UTF-8) has two chunks and a
  // two-byte character split across them, rebuilt from its recipe by the tests.
  const letters = [
    letterVector(
      identities.carol,
      caseSecret,
      1,
      "Dear Jo,\n\nThank you for writing.\n\u2014 Sam \u{1f33b}",
      "letter/0",
    ),
    letterVector(
      identities.carol,
      caseSecret,
      2,
      `a${"\u00e9".repeat(p.CHUNK_SIZE / 2)}`,
      "letter/1",
      ["a", "\u00e9", p.CHUNK_SIZE / 2],
    ),
  ];

  const b64Inputs = [new Uint8Array(0)];
  for (let n = 1; n < 7; n += 1) b64Inputs.push(fixed(`b64/${n}`, n));
  b64Inputs.push(Uint8Array.of(0xfb, 0xff, 0xbf));

  const identityVectors = {};
  for (const name of Object.keys(identities)) {
    identityVectors[name] = { secret_key: e(identities[name]), public_key: e(publicKeys[name]) };
  }

  return {
    about: "Generated by tests/js/make_vectors.mjs from static/js/crypto/protocol.js; do not edit.",
    generator: SEED,
    b64: b64Inputs.map((data) => ({ hex: sodium.to_hex(data), text: e(data) })),
    b64_invalid: ["A", "AB", "AAB", "AA==", "AA=", "a+b/", "ab c", "ab\n", "\u00e9"],
    ids_invalid: [
      ACCOUNT_ID.toUpperCase(),
      ACCOUNT_ID.replaceAll("-", ""),
      `${ACCOUNT_ID}\n`,
      `{${ACCOUNT_ID}}`,
      `${ACCOUNT_ID.slice(0, -1)}g`,
    ],
    kdf,
    identities: identityVectors,
    bundle: {
      wrap_key: e(wrapKey),
      account_id: ACCOUNT_ID,
      secret_key: e(secretKey),
      nonce: e(bundleNonce),
      bundle: e(bundle),
    },
    fingerprints,
    recovery,
    recovery_code_invalid: recoveryCodeInvalid,
    session,
    case_grant: caseGrant,
    content_grant: contentGrant,
    chunks,
    manifest,
    content,
    vault,
    case_public_grant: casePublicGrant,
    case_data: caseData,
    case_data_purposes_invalid: caseDataPurposesInvalid,
    drafts,
    letters,
  };
}

writeFileSync(OUT, `${JSON.stringify(build(), null, 2)}\n`);
console.log(`wrote ${OUT.pathname}`);
