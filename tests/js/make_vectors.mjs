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

// --- trust anchors ------------------------------------------------------------------------------

const STAFF_IDS = {
  alice: "0a11ce00-1111-4111-8111-111111110a11",
  bob: "00b0b000-2222-4222-9222-2222222200b0",
  carol: "0ca20100-3333-4333-a333-3333333330ca",
};
const INVITATION_IDS = [
  "9f8e7d6c-5b4a-4938-8271-605f4e3d2c1b",
  "8e7d6c5b-4a39-4827-9160-5f4e3d2c1b0a",
];
const JOINER_IDS = ["7d6c5b4a-3928-4716-a05f-4e3d2c1b0a99", "6c5b4a39-2817-4605-b4e3-d2c1b0a99887"];
const PARTICIPANT_ID = "5b4a3928-1716-4504-83d2-c1b0a9988776";
const STATEMENT_PREFIX = utf8("portal/v1/statement\u0000");

function flip(data, position) {
  const copy = Uint8Array.from(data);
  copy[position] ^= 0x01;
  return copy;
}

/** JSON with sorted keys and no whitespace, for flat test objects. */
function canonical(data) {
  const sorted = {};
  for (const key of Object.keys(data).sort()) sorted[key] = data[key];
  return utf8(JSON.stringify(sorted));
}

function concatBytes(...parts) {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Signing keys, security numbers over both keys, signed statements, the trust log and invitation
 * codes, with the refusals both sides must agree on.
 */
function trustAnchors(identities, publicKeys) {
  const signing = {};
  const spk = {};
  for (const name of Object.keys(identities)) {
    signing[name] = p.signingKeysFromSecret(identities[name]);
    spk[name] = signing[name][1];
  }

  /** Sign any bytes as a statement, to make statements signStatement would refuse. */
  const rawSignature = (name, raw) =>
    sodium.crypto_sign_detached(concatBytes(STATEMENT_PREFIX, raw), signing[name][0]);

  function statement(name, kind, fields) {
    const [made, signature] = p.signStatement(signing[name][0], kind, fields);
    return {
      kind,
      signer: name,
      fields,
      statement_text: new TextDecoder().decode(made),
      statement: e(made),
      signature: e(signature),
    };
  }

  const cert = (issuer, subject, role, issuedAt) => ({
    account_id: STAFF_IDS[subject],
    role,
    box_public_key: e(publicKeys[subject]),
    signing_public_key: e(spk[subject]),
    issued_at: issuedAt,
    issuer_account_id: STAFF_IDS[issuer],
  });

  const casePublic = p.publicKeyFromSecret(fixed("case/secret"));
  // One statement of each kind (the first of each is the base for the refusals below).
  const base = {
    "staff-cert": cert("alice", "bob", "facilitator", "2025-04-01T08:30:00Z"),
    "case-key": {
      case_id: CASE_ID,
      epoch: 1,
      case_public_key: e(casePublic),
      issued_at: "2025-04-02T11:45:30Z",
      issuer_account_id: STAFF_IDS.bob,
    },
    revocation: {
      account_id: STAFF_IDS.bob,
      revoked_at: "2024-02-29T00:00:00Z", // a leap day
      issuer_account_id: STAFF_IDS.carol,
      reason: "key-lost",
    },
    "root-handover": {
      new_root_account_id: STAFF_IDS.carol,
      new_root_signing_public_key: e(spk.carol),
      issued_at: "2030-12-31T23:59:59Z",
      issuer_account_id: STAFF_IDS.alice,
    },
  };
  const statements = [
    statement("alice", "staff-cert", base["staff-cert"]),
    statement(
      "alice",
      "staff-cert",
      cert("alice", "carol", "service_manager", "2025-04-01T08:35:00Z"),
    ),
    statement("bob", "case-key", base["case-key"]),
    statement("carol", "revocation", base.revocation),
    statement("alice", "root-handover", base["root-handover"]),
  ];
  const byKind = {};
  for (const s of [...statements].reverse()) byKind[s.kind] = s;

  const changed = (kind, why, changes) => [why, kind, { ...base[kind], ...changes }];
  const without = (kind, why, name) => {
    const fields = { ...base[kind] };
    delete fields[name];
    return [why, kind, fields];
  };

  const fieldsInvalid = [
    changed("staff-cert", "role that is not staff", { role: "supporter" }),
    changed("staff-cert", "unknown role", { role: "root" }),
    changed("staff-cert", "upper-case account id", { account_id: STAFF_IDS.bob.toUpperCase() }),
    changed("staff-cert", "null account id", { account_id: null }),
    changed("staff-cert", "key of 31 bytes", { box_public_key: e(publicKeys.bob.subarray(0, 31)) }),
    changed("staff-cert", "padded key", { signing_public_key: `${e(spk.bob)}=` }),
    changed("staff-cert", "key as a number", { signing_public_key: 32 }),
    changed("staff-cert", "31 April", { issued_at: "2025-04-31T08:30:00Z" }),
    changed("staff-cert", "29 February 2100", { issued_at: "2100-02-29T08:30:00Z" }),
    changed("staff-cert", "offset instead of Z", { issued_at: "2025-04-01T08:30:00+01:00" }),
    changed("staff-cert", "no seconds", { issued_at: "2025-04-01T08:30Z" }),
    changed("staff-cert", "date only", { issued_at: "2025-04-01" }),
    changed("staff-cert", "lower-case t", { issued_at: "2025-04-01t08:30:00Z" }),
    changed("staff-cert", "an extra field", { expires_at: "2026-04-01T08:30:00Z" }),
    without("staff-cert", "a missing field", "role"),
    changed("case-key", "epoch 0", { epoch: 0 }),
    changed("case-key", "negative epoch", { epoch: -5 }),
    changed("case-key", "epoch as a string", { epoch: "1" }),
    changed("case-key", "epoch false", { epoch: false }),
    changed("case-key", "epoch 2**32", { epoch: 2 ** 32 }),
    changed("case-key", "null case key", { case_public_key: null }),
    changed("revocation", "unknown reason", { reason: "Left" }),
    changed("revocation", "day 0", { revoked_at: "2024-03-00T00:00:00Z" }),
    changed("revocation", "minute 60", { revoked_at: "2024-03-01T00:60:00Z" }),
    changed("root-handover", "empty key", { new_root_signing_public_key: "" }),
    changed("root-handover", "year 0", { issued_at: "0000-06-01T00:00:00Z" }),
    changed("root-handover", "a leap second", { issued_at: "2016-12-31T23:59:60Z" }),
  ];
  // Only for signing: the context is added by signStatement.
  const signOnly = [changed("revocation", "a context field", { context: "portal/v1/revocation" })];

  const cert0 = byKind["staff-cert"];
  const st0 = p.b64decode(cert0.statement);
  const sig0 = p.b64decode(cert0.signature);
  const text0 = cert0.statement_text;
  const caseKey = byKind["case-key"];
  const caseText = caseKey.statement_text;

  const refusal = (why, kind, signerPk, raw, signature, error) => ({
    why,
    kind,
    signer_public_key: e(signerPk),
    statement: e(raw),
    signature: e(signature),
    error,
  });
  const signed = (why, kind, name, raw, error) =>
    refusal(why, kind, spk[name], raw, rawSignature(name, raw), error);

  const promoted = utf8(text0.replace('"role":"facilitator"', '"role":"service_manager"'));
  const unsorted = utf8(JSON.stringify({ context: "portal/v1/staff-cert", ...base["staff-cert"] }));
  const staffFields = base["staff-cert"];
  const statementsInvalid = [
    refusal(
      "signature with a bit flipped",
      "staff-cert",
      spk.alice,
      st0,
      flip(sig0, 40),
      "DecryptionFailed",
    ),
    refusal(
      "facilitator promoted in the bytes",
      "staff-cert",
      spk.alice,
      promoted,
      sig0,
      "DecryptionFailed",
    ),
    refusal("another signer's key", "staff-cert", spk.carol, st0, sig0, "DecryptionFailed"),
    refusal(
      "a small-order public key",
      "staff-cert",
      new Uint8Array(32),
      st0,
      sig0,
      "DecryptionFailed",
    ),
    refusal(
      "staff certificate opened as a root hand-over",
      "root-handover",
      spk.alice,
      st0,
      sig0,
      "WrongContext",
    ),
    refusal(
      "case key epoch opened as a revocation",
      "revocation",
      spk.bob,
      p.b64decode(caseKey.statement),
      p.b64decode(caseKey.signature),
      "WrongContext",
    ),
    signed(
      "context of a grant",
      "staff-cert",
      "alice",
      canonical({ ...staffFields, context: "portal/v1/grant/content" }),
      "WrongContext",
    ),
    signed(
      "context of version 2",
      "staff-cert",
      "alice",
      canonical({ ...staffFields, context: "portal/v2/staff-cert" }),
      "WrongContext",
    ),
    signed("no context", "staff-cert", "alice", canonical(staffFields), "MalformedInput"),
    signed(
      "context null",
      "staff-cert",
      "alice",
      canonical({ ...staffFields, context: null }),
      "MalformedInput",
    ),
    signed(
      "a space after a comma",
      "staff-cert",
      "alice",
      utf8(text0.replace('",', '", ')),
      "MalformedInput",
    ),
    signed("keys not sorted", "staff-cert", "alice", unsorted, "MalformedInput"),
    signed(
      "an escaped letter",
      "staff-cert",
      "alice",
      utf8(text0.replace('"facilitator"', '"facilitato\\u0072"')),
      "MalformedInput",
    ),
    signed(
      "escaped slashes",
      "staff-cert",
      "alice",
      utf8(text0.replace("portal/v1/staff-cert", "portal\\/v1\\/staff-cert")),
      "MalformedInput",
    ),
    signed(
      "leading whitespace",
      "staff-cert",
      "alice",
      concatBytes(utf8(" "), st0),
      "MalformedInput",
    ),
    signed(
      "a byte order mark",
      "staff-cert",
      "alice",
      concatBytes(Uint8Array.of(0xef, 0xbb, 0xbf), st0),
      "MalformedInput",
    ),
    signed(
      "a duplicate key",
      "staff-cert",
      "alice",
      utf8(text0.replace('"role":', '"role":"facilitator","role":')),
      "MalformedInput",
    ),
    signed(
      "epoch written 1.0",
      "case-key",
      "bob",
      utf8(caseText.replace('"epoch":1', '"epoch":1.0')),
      "MalformedInput",
    ),
    signed(
      "epoch written 1E0",
      "case-key",
      "bob",
      utf8(caseText.replace('"epoch":1', '"epoch":1E0')),
      "MalformedInput",
    ),
    signed("a string", "staff-cert", "alice", utf8('"staff-cert"'), "MalformedInput"),
    signed("not JSON", "staff-cert", "alice", utf8("{}}"), "MalformedInput"),
    signed(
      "not UTF-8",
      "staff-cert",
      "alice",
      Uint8Array.of(0x7b, 0x22, 0xc3, 0x22, 0x3a, 0x31, 0x7d),
      "MalformedInput",
    ),
    signed(
      "longer than 4096 bytes",
      "staff-cert",
      "alice",
      concatBytes(utf8("{"), new Uint8Array(p.MAX_STATEMENT_BYTES).fill(0x20), utf8("}")),
      "MalformedInput",
    ),
    refusal(
      "signature of 65 bytes",
      "staff-cert",
      spk.alice,
      st0,
      concatBytes(sig0, Uint8Array.of(0)),
      "MalformedInput",
    ),
    refusal(
      "public key of 33 bytes",
      "staff-cert",
      concatBytes(spk.alice, Uint8Array.of(0)),
      st0,
      sig0,
      "MalformedInput",
    ),
  ];
  for (const [why, kind, fields] of fieldsInvalid) {
    const raw = canonical({ ...fields, context: `portal/v1/${kind}` });
    statementsInvalid.push(signed(`bad field: ${why}`, kind, "alice", raw, "MalformedInput"));
  }

  // The trust log: alice (the root) certifies herself, bob and carol; carol revokes bob; alice
  // hands the root over to carol.
  const selfCert = statement(
    "alice",
    "staff-cert",
    cert("alice", "alice", "service_manager", "2025-04-01T08:00:00Z"),
  );
  const logStatements = [selfCert, statements[0], statements[1], statements[3], statements[4]];
  const entry = (s) => ({
    signer_public_key: e(spk[s.signer]),
    statement: s.statement,
    signature: s.signature,
  });
  const rawEntries = (items) =>
    items.map((i) => [
      p.b64decode(i.signer_public_key),
      p.b64decode(i.statement),
      p.b64decode(i.signature),
    ]);

  const entries = logStatements.map(entry);
  const heads = [];
  for (let count = 0; count <= entries.length; count += 1) {
    const [n, head] = p.trustLogHead(rawEntries(entries.slice(0, count)));
    heads.push({ count: n, head: e(head) });
  }
  const headOf = heads.map((h) => p.b64decode(h.head));

  const bobPromoted = entry(
    statement(
      "alice",
      "staff-cert",
      cert("alice", "bob", "service_manager", "2025-04-01T08:30:00Z"),
    ),
  );
  const flippedSignature = {
    ...entries[2],
    signature: e(flip(p.b64decode(entries[2].signature), 63)),
  };
  const wrongSigner = { ...entries[1], signer_public_key: e(spk.carol) };
  const spaced = utf8(text0.replace('",', '", '));
  const nonCanonical = {
    signer_public_key: e(spk.alice),
    statement: e(spaced),
    signature: e(rawSignature("alice", spaced)),
  };
  const badRole = canonical({
    ...staffFields,
    role: "participant",
    context: "portal/v1/staff-cert",
  });
  const badField = {
    signer_public_key: e(spk.alice),
    statement: e(badRole),
    signature: e(rawSignature("alice", badRole)),
  };

  const logRefusal = (why, oldCount, oldHead, items, error) => ({
    why,
    old_count: oldCount,
    old_head: e(oldHead),
    entries: items,
    error,
  });
  const zero = new Uint8Array(32);
  const trustLogInvalid = [
    logRefusal("shorter than the log seen", 4, headOf[4], entries.slice(0, 3), "WrongContext"),
    logRefusal(
      "an earlier entry replaced",
      4,
      headOf[4],
      [entries[0], bobPromoted, ...entries.slice(2)],
      "WrongContext",
    ),
    logRefusal(
      "two entries swapped",
      5,
      headOf[5],
      [entries[0], entries[1], entries[3], entries[2], entries[4]],
      "WrongContext",
    ),
    logRefusal(
      "a head from another log",
      3,
      fixed("trust-log/other-head"),
      entries,
      "WrongContext",
    ),
    logRefusal("a head given for an empty log", 0, headOf[2], entries, "WrongContext"),
    logRefusal("a count off by one", 3, headOf[2], entries, "WrongContext"),
    logRefusal(
      "a case key epoch in the log",
      1,
      headOf[1],
      [...entries, entry(caseKey)],
      "WrongContext",
    ),
    logRefusal(
      "a signature flipped",
      0,
      zero,
      [...entries.slice(0, 2), flippedSignature, ...entries.slice(3)],
      "DecryptionFailed",
    ),
    logRefusal(
      "an entry naming another signer",
      0,
      zero,
      [entries[0], wrongSigner, ...entries.slice(2)],
      "DecryptionFailed",
    ),
    logRefusal("a non-canonical entry", 0, zero, [nonCanonical, ...entries], "MalformedInput"),
    logRefusal("an entry with a bad field", 0, zero, [...entries, badField], "MalformedInput"),
    logRefusal(
      "an old head of 33 bytes",
      1,
      concatBytes(headOf[1], Uint8Array.of(0)),
      entries,
      "MalformedInput",
    ),
  ];

  // Invitations: a staff invitation from the root, and a participant's from a facilitator whose
  // code starts with zero symbols (so the O/I/L spellings matter).
  function invitation(code, fields) {
    const text = p.encodeInvitationCode(code);
    const secrets = p.invitationSecrets(code);
    const sloppy = text
      .toLowerCase()
      .replaceAll("-", " ")
      .replaceAll("0", "o")
      .replaceAll("1", "l");
    return {
      code_bytes: e(code),
      code: text,
      code_variants: [
        sloppy,
        text.replaceAll("-", ""),
        `  ${text.replaceAll("1", "I").replaceAll("-", "\t")}\n`,
        text.replaceAll("0", "O").replaceAll("-", " - "),
      ],
      lookup_id: secrets.lookupId,
      redeem_proof: e(secrets.redeemProof),
      redeem_hash: e(p.invitationRedeemHash(secrets.redeemProof)),
      mac_key: e(secrets.macKey),
      fields,
      mac: e(p.invitationMac(secrets.macKey, fields)),
    };
  }

  const inviter = (name) => ({
    inviter_account_id: STAFF_IDS[name],
    inviter_box_public_key: e(publicKeys[name]),
    inviter_signing_public_key: e(spk[name]),
    root_account_id: STAFF_IDS.alice,
    root_signing_public_key: e(spk.alice),
  });
  const staffInvite = {
    invitation_id: INVITATION_IDS[0],
    account_id: JOINER_IDS[0],
    role: "service_manager",
    case_id: null,
    participant_id: null,
    ...inviter("alice"),
    expires_at: "2025-04-08T08:00:00Z",
  };
  const participantInvite = {
    invitation_id: INVITATION_IDS[1],
    account_id: JOINER_IDS[1],
    role: "participant",
    case_id: CASE_ID,
    participant_id: PARTICIPANT_ID,
    ...inviter("bob"),
    expires_at: "2025-04-15T17:00:00Z",
  };
  // A code for a new key for a participant who has joined: their own account, and the
  // purpose under the MAC.
  const rekeyInvite = { ...participantInvite, invitation_id: INVITATION_IDS[0], purpose: "rekey" };
  const invitations = [
    invitation(fixed("invite/0", p.INVITATION_CODE_BYTES), staffInvite),
    invitation(concatBytes(Uint8Array.of(0, 0x42), fixed("invite/1", 8)), participantInvite),
    invitation(fixed("invite/2", p.INVITATION_CODE_BYTES), rekeyInvite),
  ];
  const code = invitations[0].code;
  const invitationCodesInvalid = [
    code.slice(0, -1), // 15 symbols
    `${code}0`, // 17 symbols
    `${code.slice(0, -1)}U`, // U is not in the alphabet
    code.replaceAll("-", "."), // unknown separator
    `${code.slice(0, -1)}\uff10`, // a full-width digit
    `${code.slice(0, -1)}=`, // Crockford's check symbol is not used
    "-".repeat(19),
  ];
  const macKey0 = p.b64decode(invitations[0].mac_key);
  const mac0 = p.b64decode(invitations[0].mac);
  const macRefusal = (why, fields, error, { macKey = macKey0, mac = mac0 } = {}) => ({
    why,
    mac_key: e(macKey),
    fields,
    mac: e(mac),
    error,
  });
  const swapped = (changes) => ({ ...staffInvite, ...changes });
  const noExpiry = { ...staffInvite };
  delete noExpiry.expires_at;
  const invitationMacsInvalid = [
    macRefusal(
      "inviter box key swapped",
      swapped({ inviter_box_public_key: e(publicKeys.carol) }),
      "DecryptionFailed",
    ),
    macRefusal(
      "inviter signing key swapped",
      swapped({ inviter_signing_public_key: e(spk.carol) }),
      "DecryptionFailed",
    ),
    macRefusal(
      "root key swapped",
      swapped({ root_signing_public_key: e(spk.bob) }),
      "DecryptionFailed",
    ),
    macRefusal("role lowered", swapped({ role: "facilitator" }), "DecryptionFailed"),
    macRefusal("expiry moved", swapped({ expires_at: "2025-05-08T08:00:00Z" }), "DecryptionFailed"),
    macRefusal(
      "invitation id changed",
      swapped({ invitation_id: INVITATION_IDS[1] }),
      "DecryptionFailed",
    ),
    macRefusal("MAC with a bit flipped", staffInvite, "DecryptionFailed", { mac: flip(mac0, 31) }),
    macRefusal("another code's MAC key", staffInvite, "DecryptionFailed", {
      macKey: p.b64decode(invitations[1].mac_key),
    }),
    macRefusal("MAC of 33 bytes", staffInvite, "MalformedInput", {
      mac: concatBytes(mac0, Uint8Array.of(0)),
    }),
    macRefusal("MAC key of 16 bytes", staffInvite, "MalformedInput", {
      macKey: macKey0.subarray(0, 16),
    }),
    macRefusal("an extra field", swapped({ kdf_salt: "AAAA" }), "MalformedInput"),
    macRefusal("a missing field", noExpiry, "MalformedInput"),
    macRefusal(
      "staff invitation naming a participant",
      swapped({ case_id: CASE_ID, participant_id: PARTICIPANT_ID }),
      "MalformedInput",
    ),
    macRefusal(
      "participant invitation without a case",
      { ...participantInvite, case_id: null, participant_id: null },
      "MalformedInput",
    ),
    macRefusal(
      "a participant without a case",
      { ...participantInvite, role: "supporter", case_id: null },
      "MalformedInput",
    ),
    macRefusal("unknown role", swapped({ role: "Participant" }), "MalformedInput"),
    macRefusal(
      "upper-case id",
      swapped({ account_id: JOINER_IDS[0].toUpperCase() }),
      "MalformedInput",
    ),
    macRefusal(
      "expiry with milliseconds",
      swapped({ expires_at: "2025-04-08T08:00:00.000Z" }),
      "MalformedInput",
    ),
    macRefusal(
      "a join code served as a re-key",
      { ...participantInvite, purpose: "rekey" },
      "DecryptionFailed",
      { macKey: p.b64decode(invitations[1].mac_key), mac: p.b64decode(invitations[1].mac) },
    ),
    macRefusal(
      "a re-key served as a join code",
      { ...participantInvite, invitation_id: INVITATION_IDS[0] },
      "DecryptionFailed",
      { macKey: p.b64decode(invitations[2].mac_key), mac: p.b64decode(invitations[2].mac) },
    ),
    macRefusal("a purpose other than rekey", swapped({ purpose: "join" }), "MalformedInput"),
    macRefusal("a re-key for staff", swapped({ purpose: "rekey" }), "MalformedInput"),
  ];

  // A pair of keys whose security number starts with zeros pins the zero padding.
  let counter = 0;
  const pairOf = (n) => [
    fixed(`identity-fingerprint/${n}/box`),
    fixed(`identity-fingerprint/${n}/sign`),
  ];
  while (!p.identityFingerprintDigits(...pairOf(counter)).startsWith("0")) counter += 1;
  const pairs = [[publicKeys.alice, spk.alice], [publicKeys.bob, spk.bob], pairOf(counter)];
  const identityFingerprints = pairs.map(([boxPk, signPk]) => {
    const digits = p.identityFingerprintDigits(boxPk, signPk);
    return {
      box_public_key: e(boxPk),
      signing_public_key: e(signPk),
      digits,
      formatted: p.formatFingerprint(digits),
    };
  });

  const signingVectors = {};
  for (const name of Object.keys(signing)) {
    signingVectors[name] = {
      secret_key: e(identities[name]),
      signing_secret: e(signing[name][0]),
      signing_public_key: e(signing[name][1]),
    };
  }
  return {
    signing: signingVectors,
    identity_fingerprints: identityFingerprints,
    staff_ids: STAFF_IDS,
    statements,
    statement_fields_invalid: [...fieldsInvalid, ...signOnly].map(([why, kind, fields]) => ({
      why,
      kind,
      fields,
    })),
    statements_invalid: statementsInvalid,
    trust_log: { entries, heads },
    trust_log_invalid: trustLogInvalid,
    invitations,
    invitation_codes_invalid: invitationCodesInvalid,
    invitation_macs_invalid: invitationMacsInvalid,
  };
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
    ...trustAnchors(identities, publicKeys),
  };
}

writeFileSync(OUT, `${JSON.stringify(build(), null, 2)}\n`);
console.log(`wrote ${OUT.pathname}`);
