// static/js/crypto/protocol.js against portal/protocol.py: every output in tests/vectors/python.json is
// recomputed here byte for byte and everything in it is opened, then the tamper cases that must
// fail. Run: node --test tests/js/
// The vector files are generated (tests/vectors/make_vectors.py, tests/js/make_vectors.mjs) and
// never rewritten by a test.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import * as p from "../../static/js/crypto/protocol.js";
import { handleKdfRequest } from "../../static/js/crypto/kdf-worker.js";

await p.ready();

const load = (name) =>
  JSON.parse(readFileSync(new URL(`../vectors/${name}`, import.meta.url), "utf8"));
const py = load("python.json");
const d = (text) => p.b64decode(text);
const e = (data) => p.b64encode(data);
const hex = (text) => Uint8Array.from(text.match(/../g) ?? [], (pair) => parseInt(pair, 16));
const utf8 = (text) => new TextEncoder().encode(text);

function pattern(length) {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 1) out[i] = i % 251;
  return out;
}

function partData(part) {
  return part.pattern === undefined ? d(part.data) : pattern(part.pattern);
}

function flipped(data, position) {
  const copy = Uint8Array.from(data);
  const at = position < 0 ? copy.length + position : position;
  copy[at] ^= 0x01;
  return copy;
}

// A bit flipped in the nonce, in the body and in the tag.
const FLIP_POSITIONS = [0, 30, -1];

const OTHER_ID = "11111111-2222-4333-8444-555555555555";
const sk = (name) => d(py.identities[name].secret_key);
const pk = (name) => d(py.identities[name].public_key);

/** A letter vector's text; a long one is stored as head + repeat * times. */
function letterText(v) {
  if (v.text !== undefined) return v.text;
  const { head, repeat, times } = v.text_pattern;
  return head + repeat.repeat(times);
}

function sealPyLetter(v) {
  return p.sealLetter(
    sk(v.author),
    pk(v.author),
    d(v.case_public_key),
    v.object_id,
    v.version,
    letterText(v),
    v.created_at,
    v.author_id,
    { contentKey: d(v.content_key), nonces: v.nonces.map(d) },
  );
}

const SHORT_LETTER = py.letters[0];

/** openLetter on the short letter as the case key, with some arguments changed. */
function openShortLetter(changes = {}) {
  const v = SHORT_LETTER;
  const args = {
    recipientSk: d(v.case_secret_key),
    senderPk: pk(v.author),
    objectId: v.object_id,
    version: v.version,
    grant: d(v.grant_to_case),
    manifest: d(v.manifest),
    chunks: v.chunks.map(d),
    ...changes,
  };
  return p.openLetter(
    args.recipientSk,
    args.senderPk,
    args.objectId,
    args.version,
    args.grant,
    args.manifest,
    args.chunks,
  );
}

// Each grant kind opened with its own vector's keys and ids; only the kind can be wrong.
const OPEN_AS = {
  case: (v, grant) =>
    p.openCaseGrant(sk(v.recipient), pk(v.sender), py.case_grant.case_id, grant),
  case_public: (v, grant) =>
    p.openCasePublicGrant(sk(v.recipient), pk(v.sender), py.case_public_grant.case_id, grant),
  content: (v, grant) =>
    p.openContentGrant(
      sk(v.recipient),
      pk(v.sender),
      py.content_grant.object_id,
      py.content_grant.version,
      grant,
    ),
};

describe("python.json recomputed by protocol.js", () => {
  test("b64_vectors_match", () => {
    for (const v of py.b64) {
      assert.equal(p.b64encode(hex(v.hex)), v.text);
      assert.deepEqual(p.b64decode(v.text), hex(v.hex));
    }
  });

  test("invalid_b64_raises_malformed", () => {
    for (const text of py.b64_invalid) {
      assert.throws(() => p.b64decode(text), p.MalformedInput, JSON.stringify(text));
    }
  });

  test("non_canonical_ids_raise_malformed", () => {
    const b = py.bundle;
    for (const id of py.ids_invalid) {
      assert.throws(() => p.wrapSecretKey(d(b.wrap_key), id, d(b.secret_key)), p.MalformedInput);
      assert.throws(() => p.unwrapSecretKey(d(b.wrap_key), id, d(b.bundle)), p.MalformedInput);
    }
  });

  test("kdf_vectors_match_including_one_default", () => {
    assert.equal(py.kdf.filter((v) => v.ops === p.DEFAULT_KDF_OPS).length, 1);
    for (const v of py.kdf) {
      const keys = p.deriveAccountKeys(v.password, d(v.salt), v.ops, v.mem);
      assert.equal(e(keys.master), v.master, JSON.stringify(v.password));
      assert.equal(e(keys.authKey), v.auth_key);
      assert.equal(e(keys.wrapKey), v.wrap_key);
    }
    // The NFKC form of a password gives the same keys as the password itself.
    assert.equal(py.kdf[1].master, py.kdf[2].master);
  });

  test("identity_public_keys_match", () => {
    for (const v of Object.values(py.identities)) {
      assert.equal(e(p.publicKeyFromSecret(d(v.secret_key))), v.public_key);
    }
  });

  test("bundle_matches_and_unwraps", () => {
    const v = py.bundle;
    const made = p.wrapSecretKey(d(v.wrap_key), v.account_id, d(v.secret_key), {
      nonce: d(v.nonce),
    });
    assert.equal(e(made), v.bundle);
    assert.equal(e(p.unwrapSecretKey(d(v.wrap_key), v.account_id, d(v.bundle))), v.secret_key);
  });

  test("fingerprints_match", () => {
    assert.ok(py.fingerprints.some((v) => v.digits.startsWith("0")));
    for (const v of py.fingerprints) {
      assert.equal(p.fingerprintDigits(d(v.public_key)), v.digits);
      assert.equal(p.formatFingerprint(v.digits), v.formatted);
    }
  });

  test("recovery_vectors_match_and_unwrap", () => {
    const v = py.recovery;
    const key = d(v.recovery_key);
    assert.equal(p.encodeRecoveryCode(key), v.code);
    for (const code of [v.code, ...v.code_variants]) {
      assert.deepEqual(p.decodeRecoveryCode(code), key, JSON.stringify(code));
    }
    assert.equal(e(p.recoveryAuthKey(key)), v.recovery_auth);
    const made = p.wrapWithRecovery(key, v.account_id, d(v.secret_key), { nonce: d(v.nonce) });
    assert.equal(e(made), v.bundle);
    assert.equal(e(p.unwrapWithRecovery(key, v.account_id, d(v.bundle))), v.secret_key);
  });

  test("invalid_recovery_codes_raise_malformed", () => {
    for (const code of py.recovery_code_invalid) {
      assert.throws(() => p.decodeRecoveryCode(code), p.MalformedInput, JSON.stringify(code));
    }
  });

  test("session_blob_matches_and_unwraps", () => {
    const v = py.session;
    const made = p.sessionWrap(d(v.session_key), v.account_id, d(v.secret_key), {
      nonce: d(v.nonce),
    });
    assert.equal(e(made), v.blob);
    assert.equal(e(p.sessionUnwrap(d(v.session_key), v.account_id, d(v.blob))), v.secret_key);
  });

  test("case_grant_matches_and_opens", () => {
    const v = py.case_grant;
    const made = p.makeCaseGrant(sk(v.sender), pk(v.recipient), v.case_id, d(v.case_secret_key), {
      nonce: d(v.nonce),
    });
    assert.equal(e(made), v.grant);
    const opened = p.openCaseGrant(sk(v.recipient), pk(v.sender), v.case_id, d(v.grant));
    assert.equal(e(opened), v.case_secret_key);
  });

  test("content_grant_matches_and_opens", () => {
    const v = py.content_grant;
    const made = p.makeContentGrant(
      sk(v.sender),
      pk(v.recipient),
      v.object_id,
      v.version,
      d(v.content_key),
      d(v.manifest_hash),
      { nonce: d(v.nonce) },
    );
    assert.equal(e(made), v.grant);
    const [key, hash] = p.openContentGrant(
      sk(v.recipient),
      pk(v.sender),
      v.object_id,
      v.version,
      d(v.grant),
    );
    assert.equal(e(key), v.content_key);
    assert.equal(e(hash), v.manifest_hash);
  });

  test("chunks_match_and_decrypt", () => {
    assert.ok(py.chunks.some((v) => v.final) && py.chunks.some((v) => !v.final));
    assert.ok(py.chunks.some((v) => v.plaintext === ""));
    for (const v of py.chunks) {
      const args = [d(v.key), v.object_id, v.version, v.part, v.index, v.final];
      assert.equal(e(p.encryptChunk(...args, d(v.plaintext), { nonce: d(v.nonce) })), v.chunk);
      assert.equal(e(p.chunkHash(d(v.chunk))), v.chunk_hash);
      const hashed = p.encryptChunkHashed(...args, d(v.plaintext), { nonce: d(v.nonce) });
      assert.equal(e(hashed.data), v.chunk);
      assert.equal(e(hashed.hash), v.chunk_hash);
      assert.equal(e(p.decryptChunk(...args, d(v.chunk))), v.plaintext);
    }
  });

  test("chunk_sealed_and_hashed_in_one_pass_equals_the_two_calls", () => {
    const key = p.generateContentKey();
    const object = "0b7f6a52-8f5c-4d33-9a51-6a1e2f3c4d5e";
    for (const length of [0, 1, p.CHUNK_SIZE - 1, p.CHUNK_SIZE]) {
      const plaintext = Uint8Array.from({ length }, (_, i) => (i * 13) % 256);
      const nonce = p.randomBytes(24);
      const args = [key, object, 3, 2, 7, length === 0];
      const one = p.encryptChunkHashed(...args, plaintext, { nonce });
      assert.deepEqual(one.data, p.encryptChunk(...args, plaintext, { nonce }));
      assert.deepEqual(one.hash, p.chunkHash(one.data));
      assert.deepEqual(p.decryptChunk(...args, p.encryptChunkHashed(...args, plaintext).data),
        plaintext);
    }
    const ok = [key, object, 3, 2, 7, false];
    assert.throws(() => p.encryptChunkHashed(...ok, new Uint8Array(p.CHUNK_SIZE + 1)),
      p.MalformedInput);
    assert.throws(() => p.encryptChunkHashed(key.subarray(1), object, 3, 2, 7, false,
      new Uint8Array(1)), p.MalformedInput);
    assert.throws(() => p.encryptChunkHashed(key, object, 3, 2, 7, 1, new Uint8Array(1)),
      p.MalformedInput);
  });

  test("manifest_matches_and_decrypts", () => {
    const v = py.manifest;
    const blob = p.encryptManifest(d(v.key), v.object_id, v.version, v.manifest, {
      nonce: d(v.nonce),
    });
    assert.equal(e(blob), v.blob);
    assert.equal(e(p.manifestHash(d(v.blob))), v.manifest_hash);
    assert.deepEqual(p.decryptManifest(d(v.key), v.object_id, v.version, d(v.blob)), v.manifest);
  });

  test("content_object_matches_and_opens", async () => {
    const v = py.content;
    const parts = v.parts.map((part) => ({ ...part, data: partData(part) }));
    const made = p.encryptContent(d(v.key), v.object_id, v.version, parts, v.created_at, v.author, {
      nonces: v.nonces.map(d),
    });
    assert.equal(e(made.manifestBlob), v.manifest_blob);
    assert.equal(e(made.manifestHash), v.manifest_hash);
    assert.deepEqual(
      made.chunks.map((list) => list.map((chunk) => e(p.chunkHash(chunk)))),
      v.chunk_hashes,
    );
    // Equal hashes mean equal bytes, so these are python's chunks.
    const opened = await p.openContent(
      d(v.key),
      v.object_id,
      v.version,
      d(v.manifest_blob),
      d(v.manifest_hash),
      (part, index) => made.chunks[part][index],
    );
    assert.deepEqual(
      opened.map((part) => ({ ...part, data: e(part.data) })),
      parts.map(({ kind, mime, name, data }) => ({ kind, mime, name, data: e(data) })),
    );
  });

  test("vault_matches_and_opens", () => {
    const v = py.vault;
    assert.equal(e(p.vaultKey(d(v.secret_key))), v.vault_key);
    const blob = p.sealVault(d(v.secret_key), v.account_id, v.data, { nonce: d(v.nonce) });
    assert.equal(e(blob), v.blob);
    assert.deepEqual(p.openVault(d(v.secret_key), v.account_id, d(v.blob)), v.data);
  });

  test("case_public_grant_matches_and_opens", () => {
    const v = py.case_public_grant;
    // The key a participant learns is the public half of the key facilitators are granted.
    assert.equal(e(p.publicKeyFromSecret(d(py.case_grant.case_secret_key))), v.case_public_key);
    const made = p.makeCasePublicGrant(
      sk(v.sender),
      pk(v.recipient),
      v.case_id,
      d(v.case_public_key),
      { nonce: d(v.nonce) },
    );
    assert.equal(e(made), v.grant);
    const opened = p.openCasePublicGrant(sk(v.recipient), pk(v.sender), v.case_id, d(v.grant));
    assert.equal(e(opened), v.case_public_key);
  });

  test("case_data_matches_and_opens", () => {
    const v = py.case_data;
    const key = d(v.case_secret_key);
    assert.equal(e(p.caseDataKey(key)), v.case_data_key);
    assert.ok(v.items.some((item) => item.purpose.length === 100));
    assert.ok(v.items.some((item) => item.data === ""));
    for (const item of v.items) {
      const made = p.sealCaseData(key, v.case_id, item.purpose, d(item.data), {
        nonce: d(item.nonce),
      });
      assert.equal(e(made), item.blob);
      assert.equal(e(p.openCaseData(key, v.case_id, item.purpose, d(item.blob))), item.data);
    }
    assert.ok(v.texts.some((item) => item.text.startsWith("\ufeff")));
    for (const item of v.texts) {
      const made = p.sealCaseText(key, v.case_id, item.purpose, item.text, {
        nonce: d(item.nonce),
      });
      assert.equal(e(made), item.blob);
      assert.equal(p.openCaseText(key, v.case_id, item.purpose, d(item.blob)), item.text);
    }
  });

  test("invalid_case_data_purposes_raise_malformed", () => {
    const v = py.case_data;
    const key = d(v.case_secret_key);
    for (const purpose of [...py.case_data_purposes_invalid, null, utf8("bytes")]) {
      const label = JSON.stringify(purpose);
      assert.throws(
        () => p.sealCaseData(key, v.case_id, purpose, utf8("x")),
        p.MalformedInput,
        label,
      );
      assert.throws(
        () => p.openCaseData(key, v.case_id, purpose, d(v.items[0].blob)),
        p.MalformedInput,
        label,
      );
    }
  });

  test("drafts_match_and_open", () => {
    for (const v of py.drafts) {
      const secret = d(v.secret_key);
      assert.equal(e(p.draftKey(secret)), v.draft_key);
      const made = p.sealDraft(secret, v.account_id, v.draft_id, d(v.data), { nonce: d(v.nonce) });
      assert.equal(e(made), v.blob);
      assert.equal(e(p.openDraft(secret, v.account_id, v.draft_id, d(v.blob))), v.data);
    }
  });

  test("letters_match_and_open", async () => {
    for (const v of py.letters) {
      const made = sealPyLetter(v);
      assert.equal(e(made.manifest), v.manifest);
      assert.equal(e(made.manifestHash), v.manifest_hash);
      assert.deepEqual(made.chunks.map((chunk) => e(p.chunkHash(chunk))), v.chunk_hashes);
      if (v.chunks !== undefined) assert.deepEqual(made.chunks.map(e), v.chunks);
      assert.equal(e(made.grantToCase), v.grant_to_case);
      assert.equal(e(made.grantToAuthor), v.grant_to_author);
      assert.equal(e(made.contentKey), v.content_key);
      // The manifest is the one already specified: one part, kind "letter", no file name.
      assert.deepEqual(p.decryptManifest(d(v.content_key), v.object_id, v.version, d(v.manifest)), {
        v: 1,
        object_id: v.object_id,
        version: v.version,
        created_at: v.created_at,
        author: v.author_id,
        parts: [
          {
            kind: "letter",
            mime: "text/plain; charset=utf-8",
            name: "",
            size: utf8(letterText(v)).length,
            chunks: v.chunk_hashes.length,
            hashes: v.chunk_hashes,
          },
        ],
      });
      // Equal hashes mean equal bytes, so these are python's chunks.
      const byCase = await p.openLetter(
        d(v.case_secret_key),
        pk(v.author),
        v.object_id,
        v.version,
        d(v.grant_to_case),
        d(v.manifest),
        made.chunks,
      );
      const byAuthor = await p.openLetter(
        sk(v.author),
        pk(v.author),
        v.object_id,
        v.version,
        d(v.grant_to_author),
        d(v.manifest),
        made.chunks,
      );
      assert.equal(byCase, letterText(v));
      assert.equal(byAuthor, letterText(v));
    }
  });

  test("letters_cover_one_and_two_chunks_and_a_split_character", () => {
    assert.deepEqual(py.letters.map((v) => v.chunk_hashes.length), [1, 2]);
    const long = utf8(letterText(py.letters[1]));
    assert.equal(long.length, p.CHUNK_SIZE + 1);
    // The first chunk ends inside a two-byte character: text is decoded only after joining.
    assert.deepEqual(long.subarray(p.CHUNK_SIZE - 1, p.CHUNK_SIZE + 1), utf8("\u00e9"));
  });
});

describe("tampering fails in protocol.js", () => {
  test("flipped_bit_in_chunk_raises_decryption_failed", () => {
    for (const v of py.chunks) {
      for (const at of FLIP_POSITIONS) {
        const chunk = flipped(d(v.chunk), at);
        assert.throws(
          () => p.decryptChunk(d(v.key), v.object_id, v.version, v.part, v.index, v.final, chunk),
          p.DecryptionFailed,
        );
      }
    }
  });

  test("flipped_bit_in_manifest_raises_decryption_failed", () => {
    const v = py.manifest;
    for (const at of FLIP_POSITIONS) {
      const blob = flipped(d(v.blob), at);
      assert.throws(
        () => p.decryptManifest(d(v.key), v.object_id, v.version, blob),
        p.DecryptionFailed,
      );
    }
  });

  test("flipped_bit_in_bundles_raises_decryption_failed", () => {
    const b = py.bundle;
    const r = py.recovery;
    const s = py.session;
    const vault = py.vault;
    for (const at of FLIP_POSITIONS) {
      assert.throws(
        () => p.unwrapSecretKey(d(b.wrap_key), b.account_id, flipped(d(b.bundle), at)),
        p.DecryptionFailed,
      );
      assert.throws(
        () => p.unwrapWithRecovery(d(r.recovery_key), r.account_id, flipped(d(r.bundle), at)),
        p.DecryptionFailed,
      );
      assert.throws(
        () => p.sessionUnwrap(d(s.session_key), s.account_id, flipped(d(s.blob), at)),
        p.DecryptionFailed,
      );
      assert.throws(
        () => p.openVault(d(vault.secret_key), vault.account_id, flipped(d(vault.blob), at)),
        p.DecryptionFailed,
      );
    }
  });

  test("flipped_bit_in_grant_raises_decryption_failed", () => {
    const c = py.case_grant;
    const g = py.content_grant;
    for (const at of FLIP_POSITIONS) {
      assert.throws(
        () => p.openCaseGrant(sk(c.recipient), pk(c.sender), c.case_id, flipped(d(c.grant), at)),
        p.DecryptionFailed,
      );
      assert.throws(
        () =>
          p.openContentGrant(
            sk(g.recipient),
            pk(g.sender),
            g.object_id,
            g.version,
            flipped(d(g.grant), at),
          ),
        p.DecryptionFailed,
      );
    }
  });

  test("chunk_with_wrong_associated_data_raises_decryption_failed", () => {
    const v = py.chunks[0];
    const wrong = [
      [OTHER_ID, v.version, v.part, v.index, v.final],
      [v.object_id, v.version + 1, v.part, v.index, v.final],
      [v.object_id, v.version, v.part + 1, v.index, v.final],
      [v.object_id, v.version, v.part, v.index + 1, v.final],
      [v.object_id, v.version, v.part, v.index, !v.final],
    ];
    for (const [objectId, version, part, index, final] of wrong) {
      assert.throws(
        () => p.decryptChunk(d(v.key), objectId, version, part, index, final, d(v.chunk)),
        p.DecryptionFailed,
      );
    }
  });

  test("manifest_with_wrong_associated_data_raises_decryption_failed", () => {
    const v = py.manifest;
    assert.throws(
      () => p.decryptManifest(d(v.key), OTHER_ID, v.version, d(v.blob)),
      p.DecryptionFailed,
    );
    assert.throws(
      () => p.decryptManifest(d(v.key), v.object_id, v.version + 1, d(v.blob)),
      p.DecryptionFailed,
    );
  });

  test("bundles_for_another_account_raise_decryption_failed", () => {
    const b = py.bundle;
    const r = py.recovery;
    const s = py.session;
    const vault = py.vault;
    assert.throws(
      () => p.unwrapSecretKey(d(b.wrap_key), OTHER_ID, d(b.bundle)),
      p.DecryptionFailed,
    );
    assert.throws(
      () => p.unwrapWithRecovery(d(r.recovery_key), OTHER_ID, d(r.bundle)),
      p.DecryptionFailed,
    );
    assert.throws(() => p.sessionUnwrap(d(s.session_key), OTHER_ID, d(s.blob)), p.DecryptionFailed);
    assert.throws(
      () => p.openVault(d(vault.secret_key), OTHER_ID, d(vault.blob)),
      p.DecryptionFailed,
    );
    // A bundle is not a recovery bundle: same secret, other context.
    assert.throws(
      () => p.unwrapWithRecovery(d(r.recovery_key), r.account_id, d(b.bundle)),
      p.DecryptionFailed,
    );
  });

  test("chunk_from_another_object_raises_decryption_failed", async () => {
    const v = py.content;
    const parts = v.parts.map((part) => ({ ...part, data: partData(part) }));
    const made = p.encryptContent(d(v.key), v.object_id, v.version, parts, v.created_at, v.author);
    const stranger = d(py.chunks[0].chunk);
    // Encrypted under the same K for another object: the AD still refuses it.
    const sameKey = p.encryptChunk(d(v.key), OTHER_ID, v.version, 0, 0, true, partData(v.parts[0]));
    assert.throws(
      () => p.decryptChunk(d(v.key), v.object_id, v.version, 0, 0, true, sameKey),
      p.DecryptionFailed,
    );
    for (const intruder of [stranger, sameKey, made.chunks[2][0]]) {
      await assert.rejects(
        p.openContent(
          d(v.key),
          v.object_id,
          v.version,
          made.manifestBlob,
          made.manifestHash,
          (part, index) => (part === 0 ? intruder : made.chunks[part][index]),
        ),
        p.DecryptionFailed,
      );
    }
    // Dropping the last chunk of a part (serving the first again) is caught as well.
    await assert.rejects(
      p.openContent(
        d(v.key),
        v.object_id,
        v.version,
        made.manifestBlob,
        made.manifestHash,
        (part, index) => made.chunks[part][part === 2 ? 0 : index],
      ),
      p.DecryptionFailed,
    );
  });

  test("manifest_not_matching_granted_hash_raises_decryption_failed", async () => {
    const v = py.content;
    await assert.rejects(
      p.openContent(
        d(v.key),
        v.object_id,
        v.version,
        d(v.manifest_blob),
        d(py.manifest.manifest_hash),
        () => {
          throw new Error("no chunk may be fetched before the manifest checks out");
        },
      ),
      p.DecryptionFailed,
    );
  });

  test("manifest_naming_another_object_raises_wrong_context", async () => {
    const v = py.content;
    const key = d(v.key);
    const forged = p.encryptManifest(key, v.object_id, v.version, {
      v: 1,
      object_id: OTHER_ID,
      version: v.version,
      created_at: v.created_at,
      author: v.author,
      parts: [],
    });
    await assert.rejects(
      p.openContent(
        key,
        v.object_id,
        v.version,
        forged,
        p.manifestHash(forged),
        () => new Uint8Array(0),
      ),
      p.WrongContext,
    );
  });

  test("grant_from_another_sender_raises_decryption_failed", () => {
    const c = py.case_grant; // alice -> bob
    assert.throws(
      () => p.openCaseGrant(sk("bob"), pk("carol"), c.case_id, d(c.grant)),
      p.DecryptionFailed,
    );
    assert.throws(
      () => p.openCaseGrant(sk("carol"), pk("alice"), c.case_id, d(c.grant)),
      p.DecryptionFailed,
    );
    const g = py.content_grant; // bob -> carol
    assert.throws(
      () => p.openContentGrant(sk("carol"), pk("alice"), g.object_id, g.version, d(g.grant)),
      p.DecryptionFailed,
    );
  });

  test("grant_with_swapped_sender_and_recipient_raises_wrong_context", () => {
    // crypto_box's key is symmetric, so this decrypts; the keys inside the payload refuse it.
    const c = py.case_grant; // alice -> bob, opened by alice as if bob had sent it
    assert.throws(
      () => p.openCaseGrant(sk("alice"), pk("bob"), c.case_id, d(c.grant)),
      p.WrongContext,
    );
    const g = py.content_grant; // bob -> carol, opened by bob as if carol had sent it
    assert.throws(
      () => p.openContentGrant(sk("bob"), pk("carol"), g.object_id, g.version, d(g.grant)),
      p.WrongContext,
    );
  });

  test("grant_of_other_kind_raises_wrong_context", () => {
    const c = py.case_grant;
    const g = py.content_grant;
    assert.throws(
      () => p.openCaseGrant(sk(g.recipient), pk(g.sender), c.case_id, d(g.grant)),
      p.WrongContext,
    );
    assert.throws(
      () => p.openContentGrant(sk(c.recipient), pk(c.sender), g.object_id, g.version, d(c.grant)),
      p.WrongContext,
    );
  });

  test("grant_for_other_case_object_or_version_raises_wrong_context", () => {
    const c = py.case_grant;
    const g = py.content_grant;
    assert.throws(
      () => p.openCaseGrant(sk(c.recipient), pk(c.sender), OTHER_ID, d(c.grant)),
      p.WrongContext,
    );
    assert.throws(
      () => p.openContentGrant(sk(g.recipient), pk(g.sender), OTHER_ID, g.version, d(g.grant)),
      p.WrongContext,
    );
    assert.throws(
      () =>
        p.openContentGrant(sk(g.recipient), pk(g.sender), g.object_id, g.version + 1, d(g.grant)),
      p.WrongContext,
    );
  });

  test("truncated_inputs_raise_malformed", () => {
    const b = py.bundle;
    const c = py.case_grant;
    assert.throws(
      () => p.unwrapSecretKey(d(b.wrap_key), b.account_id, d(b.bundle).subarray(0, 39)),
      p.MalformedInput,
    );
    assert.throws(
      () => p.openCaseGrant(sk(c.recipient), pk(c.sender), c.case_id, d(c.grant).subarray(0, 20)),
      p.MalformedInput,
    );
    assert.throws(
      () => p.wrapSecretKey(d(b.wrap_key).subarray(1), b.account_id, d(b.secret_key)),
      p.MalformedInput,
    );
    assert.throws(
      () => p.openCaseGrant(sk(c.recipient), new Uint8Array(32), c.case_id, d(c.grant)),
      p.MalformedInput,
    );
  });

  test("kdf_parameters_below_minimum_raise_malformed", () => {
    const salt = d(py.kdf[0].salt);
    assert.throws(() => p.deriveAccountKeys("pw", salt, 0, p.MIN_KDF_MEM), p.MalformedInput);
    assert.throws(() => p.deriveAccountKeys("pw", salt, 1, p.MIN_KDF_MEM - 1024), p.MalformedInput);
    assert.throws(() => p.deriveAccountKeys("pw", salt, 1, p.MIN_KDF_MEM + 1), p.MalformedInput);
    assert.throws(
      () => p.deriveAccountKeys("pw", salt.subarray(1), 1, p.MIN_KDF_MEM),
      p.MalformedInput,
    );
    assert.throws(() => p.deriveAccountKeys("\ud800", salt, 1, p.MIN_KDF_MEM), p.MalformedInput);
  });
});

describe("tampering fails for case keys, case data, drafts and letters", () => {
  test("grant_opened_as_another_kind_raises_wrong_context", () => {
    // Right keys, right ids: only the kind is wrong. A case grant and a case-public grant have
    // bodies of the same length, so the context string is all that tells them apart.
    for (const kind of Object.keys(OPEN_AS)) {
      for (const openedAs of Object.keys(OPEN_AS)) {
        if (kind === openedAs) continue;
        const v = py[`${kind}_grant`];
        const label = `${kind} opened as ${openedAs}`;
        assert.throws(() => OPEN_AS[openedAs](v, d(v.grant)), p.WrongContext, label);
      }
    }
    const v = SHORT_LETTER;
    const caseSk = d(v.case_secret_key);
    const grant = d(v.grant_to_case);
    assert.throws(
      () => p.openCaseGrant(caseSk, pk(v.author), v.object_id, grant),
      p.WrongContext,
    );
    assert.throws(
      () => p.openCasePublicGrant(caseSk, pk(v.author), v.object_id, grant),
      p.WrongContext,
    );
  });

  test("flipped_bit_in_case_public_grant_raises_decryption_failed", () => {
    const v = py.case_public_grant;
    for (const at of FLIP_POSITIONS) {
      assert.throws(
        () =>
          p.openCasePublicGrant(sk(v.recipient), pk(v.sender), v.case_id, flipped(d(v.grant), at)),
        p.DecryptionFailed,
      );
    }
  });

  test("case_public_grant_from_other_keys_raises_decryption_failed", () => {
    const v = py.case_public_grant; // alice -> carol
    assert.deepEqual([v.sender, v.recipient], ["alice", "carol"]);
    assert.throws(
      () => p.openCasePublicGrant(sk("carol"), pk("bob"), v.case_id, d(v.grant)),
      p.DecryptionFailed,
    );
    assert.throws(
      () => p.openCasePublicGrant(sk("bob"), pk("alice"), v.case_id, d(v.grant)),
      p.DecryptionFailed,
    );
  });

  test("case_public_grant_swapped_or_for_another_case_raises_wrong_context", () => {
    const v = py.case_public_grant;
    assert.throws(
      () => p.openCasePublicGrant(sk("alice"), pk("carol"), v.case_id, d(v.grant)),
      p.WrongContext,
    );
    assert.throws(
      () => p.openCasePublicGrant(sk("carol"), pk("alice"), OTHER_ID, d(v.grant)),
      p.WrongContext,
    );
  });

  test("flipped_bit_in_case_data_or_draft_raises_decryption_failed", () => {
    const c = py.case_data;
    const key = d(c.case_secret_key);
    const dr = py.drafts[0];
    for (const at of FLIP_POSITIONS) {
      for (const item of c.items) {
        assert.throws(
          () => p.openCaseData(key, c.case_id, item.purpose, flipped(d(item.blob), at)),
          p.DecryptionFailed,
        );
      }
      const t = c.texts[0];
      assert.throws(
        () => p.openCaseText(key, c.case_id, t.purpose, flipped(d(t.blob), at)),
        p.DecryptionFailed,
      );
      assert.throws(
        () => p.openDraft(d(dr.secret_key), dr.account_id, dr.draft_id, flipped(d(dr.blob), at)),
        p.DecryptionFailed,
      );
    }
  });

  test("case_data_with_wrong_purpose_case_or_key_raises_decryption_failed", () => {
    const c = py.case_data;
    const key = d(c.case_secret_key);
    const [name, note] = c.texts; // participant-name:<id> and facilitator-note:<same id>
    assert.equal(name.purpose.split(":")[1], note.purpose.split(":")[1]);
    const wrong = [
      [key, c.case_id, name.purpose, note.blob], // a note shown as a name
      [key, c.case_id, `participant-name:${OTHER_ID}`, name.blob], // another participant
      [key, OTHER_ID, name.purpose, name.blob],
      [sk("carol"), c.case_id, name.purpose, name.blob], // a participant's own key
      [d(c.case_data_key), c.case_id, name.purpose, name.blob], // the derived key itself
    ];
    for (const [k, caseId, purpose, blob] of wrong) {
      assert.throws(() => p.openCaseText(k, caseId, purpose, d(blob)), p.DecryptionFailed);
    }
  });

  test("draft_for_another_id_account_or_key_raises_decryption_failed", () => {
    const [first, second] = py.drafts;
    const secret = d(first.secret_key);
    const blob = d(first.blob);
    assert.throws(
      () => p.openDraft(secret, first.account_id, second.draft_id, blob),
      p.DecryptionFailed,
    );
    assert.throws(() => p.openDraft(secret, OTHER_ID, first.draft_id, blob), p.DecryptionFailed);
    assert.throws(
      () => p.openDraft(sk("bob"), first.account_id, first.draft_id, blob),
      p.DecryptionFailed,
    );
  });

  test("draft_vault_and_case_data_do_not_open_as_each_other", () => {
    const dr = py.drafts[0];
    const vault = py.vault;
    const secret = d(dr.secret_key);
    assert.deepEqual(d(vault.secret_key), secret);
    assert.throws(() => p.openVault(secret, dr.account_id, d(dr.blob)), p.DecryptionFailed);
    assert.throws(
      () => p.openDraft(secret, dr.account_id, dr.draft_id, d(vault.blob)),
      p.DecryptionFailed,
    );
    const c = py.case_data;
    assert.throws(
      () => p.openDraft(d(c.case_secret_key), dr.account_id, dr.draft_id, d(c.items[0].blob)),
      p.DecryptionFailed,
    );
  });

  test("flipped_bit_in_letter_raises_decryption_failed", async () => {
    const v = SHORT_LETTER;
    for (const at of FLIP_POSITIONS) {
      const grant = flipped(d(v.grant_to_case), at);
      await assert.rejects(openShortLetter({ grant }), p.DecryptionFailed);
      const manifest = flipped(d(v.manifest), at);
      await assert.rejects(openShortLetter({ manifest }), p.DecryptionFailed);
      await assert.rejects(
        openShortLetter({ chunks: [flipped(d(v.chunks[0]), at)] }),
        p.DecryptionFailed,
      );
    }
  });

  test("letter_opened_for_another_version_or_object_raises_wrong_context", async () => {
    await assert.rejects(openShortLetter({ version: SHORT_LETTER.version + 1 }), p.WrongContext);
    await assert.rejects(openShortLetter({ objectId: OTHER_ID }), p.WrongContext);
  });

  test("letter_grant_with_swapped_sender_raises_wrong_context", async () => {
    // The author opening the grant they made to the case, as if the case key had sent it.
    const v = SHORT_LETTER;
    await assert.rejects(
      openShortLetter({ recipientSk: sk(v.author), senderPk: d(v.case_public_key) }),
      p.WrongContext,
    );
  });

  test("letter_grant_for_someone_else_raises_decryption_failed", async () => {
    const v = SHORT_LETTER;
    // The recipient before any approval; the case key opening the author's own copy; the grant
    // naming another sender.
    await assert.rejects(openShortLetter({ recipientSk: sk("bob") }), p.DecryptionFailed);
    await assert.rejects(openShortLetter({ grant: d(v.grant_to_author) }), p.DecryptionFailed);
    await assert.rejects(openShortLetter({ senderPk: pk("alice") }), p.DecryptionFailed);
  });

  test("letter_with_another_letters_manifest_or_chunks_raises_decryption_failed", async () => {
    const v = py.letters[1];
    const long = sealPyLetter(v);
    await assert.rejects(openShortLetter({ manifest: long.manifest }), p.DecryptionFailed);
    await assert.rejects(openShortLetter({ chunks: long.chunks.slice(0, 1) }), p.DecryptionFailed);
    await assert.rejects(
      p.openLetter(
        d(v.case_secret_key),
        pk(v.author),
        v.object_id,
        v.version,
        d(v.grant_to_case),
        d(v.manifest),
        [...long.chunks].reverse(),
      ),
      p.DecryptionFailed,
    );
  });

  test("letter_with_missing_or_extra_chunks_raises_malformed", async () => {
    const chunks = SHORT_LETTER.chunks.map(d);
    await assert.rejects(openShortLetter({ chunks: [] }), p.MalformedInput);
    await assert.rejects(openShortLetter({ chunks: [...chunks, chunks[0]] }), p.MalformedInput);
    await assert.rejects(openShortLetter({ chunks: chunks[0] }), p.MalformedInput);
  });

  test("content_object_that_is_not_a_text_letter_raises_wrong_context", async () => {
    const v = py.content;
    const kinds = [
      v.parts.map((part) => ({ ...part, data: partData(part) })),
      [{ kind: "audio", mime: "audio/ogg", name: "a.ogg", data: utf8("ogg") }],
      [{ kind: "letter", mime: "text/html", name: "", data: utf8("<p>") }],
    ];
    for (const parts of kinds) {
      const key = p.generateContentKey();
      const made = p.encryptContent(key, OTHER_ID, 1, parts, "2025-01-01T00:00:00Z", OTHER_ID);
      const { manifestBlob, manifestHash, chunks } = made;
      const grant = p.makeContentGrant(sk("carol"), pk("carol"), OTHER_ID, 1, key, manifestHash);
      await assert.rejects(
        p.openLetter(sk("carol"), pk("carol"), OTHER_ID, 1, grant, manifestBlob, chunks.flat()),
        p.WrongContext,
      );
    }
  });

  test("seal_letter_with_bad_arguments_raises_malformed", () => {
    const args = [
      sk("carol"),
      pk("carol"),
      d(SHORT_LETTER.case_public_key),
      OTHER_ID,
      1,
      "hello",
      "2025-01-01T00:00:00Z",
      OTHER_ID,
    ];
    p.sealLetter(...args);
    const changes = [
      [1, pk("bob")], // the author's own copy would go to someone else
      [5, "\ud800"],
      [5, utf8("bytes")],
      [2, new Uint8Array(32)], // a low-order key
      [7, "not-a-uuid"],
    ];
    for (const [at, value] of changes) {
      const changed = args.with(at, value);
      assert.throws(() => p.sealLetter(...changed), p.MalformedInput, String(at));
    }
    const fourNeeded = { nonces: [0, 1, 2].map(() => new Uint8Array(24)) };
    assert.throws(() => p.sealLetter(...args, fourNeeded), p.MalformedInput);
    const shortKey = { contentKey: new Uint8Array(31) };
    assert.throws(() => p.sealLetter(...args, shortKey), p.MalformedInput);
  });

  test("case_text_that_is_not_utf8_raises_malformed", () => {
    const c = py.case_data;
    const key = d(c.case_secret_key);
    const blob = p.sealCaseData(key, c.case_id, "note", Uint8Array.of(0xff, 0xfe));
    assert.throws(() => p.openCaseText(key, c.case_id, "note", blob), p.MalformedInput);
    assert.throws(() => p.sealCaseText(key, c.case_id, "note", "\udc00"), p.MalformedInput);
  });
});

describe("round trips in protocol.js", () => {
  test("random_nonces_round_trip_and_differ", async () => {
    const [secret, publicKey] = p.generateIdentity();
    const [other, otherPublic] = p.generateIdentity();
    assert.deepEqual(p.publicKeyFromSecret(secret), publicKey);
    const id = py.bundle.account_id;
    const wrapKey = p.randomBytes(32);
    const first = p.wrapSecretKey(wrapKey, id, secret);
    assert.notDeepEqual(first, p.wrapSecretKey(wrapKey, id, secret));
    assert.deepEqual(p.unwrapSecretKey(wrapKey, id, first), secret);
    const caseKey = p.randomBytes(32);
    const grant = p.makeCaseGrant(secret, otherPublic, OTHER_ID, caseKey);
    assert.deepEqual(p.openCaseGrant(other, publicKey, OTHER_ID, grant), caseKey);
    // An author granting to their own key (sender == recipient) works too.
    const own = p.makeContentGrant(secret, publicKey, OTHER_ID, 1, caseKey, p.randomBytes(32));
    assert.deepEqual(p.openContentGrant(secret, publicKey, OTHER_ID, 1, own)[0], caseKey);
    const recoveryKey = p.generateRecoveryKey();
    assert.deepEqual(p.decodeRecoveryCode(p.encodeRecoveryCode(recoveryKey)), recoveryKey);
    const K = p.generateContentKey();
    const parts = [{ kind: "letter", mime: "text/plain", name: "a", data: utf8("hello") }];
    const made = p.encryptContent(K, OTHER_ID, 1, parts, "2025-01-01T00:00:00Z", id);
    const opened = await p.openContent(
      K,
      OTHER_ID,
      1,
      made.manifestBlob,
      made.manifestHash,
      async (part, index) => made.chunks[part][index],
    );
    assert.deepEqual(opened[0].data, parts[0].data);
  });

  test("protocol_json_outside_the_subset_raises_malformed", () => {
    const v = py.vault;
    for (const data of [{ x: 1.5 }, { x: 2 ** 53 }, { x: "\udc00" }, { x: undefined }, []]) {
      assert.throws(() => p.sealVault(d(v.secret_key), v.account_id, data), p.MalformedInput);
    }
  });

  test("kdf_worker_answers_keys_or_error", async () => {
    const v = py.kdf[0];
    const reply = await handleKdfRequest({
      id: 7,
      password: v.password,
      salt: v.salt,
      ops: v.ops,
      mem: v.mem,
    });
    assert.deepEqual(reply, { id: 7, authKey: v.auth_key, wrapKey: v.wrap_key });
    const bad = await handleKdfRequest({
      password: v.password,
      salt: "not base64!",
      ops: v.ops,
      mem: v.mem,
    });
    assert.deepEqual(Object.keys(bad), ["error"]);
    assert.match(bad.error, /^MalformedInput/);
  });

  test("new_kinds_round_trip_with_random_nonces", async () => {
    const [facilitator, facilitatorPk] = p.generateIdentity();
    const [participant, participantPk] = p.generateIdentity();
    const [caseSk, casePk] = p.generateIdentity();
    const grant = p.makeCasePublicGrant(facilitator, participantPk, OTHER_ID, casePk);
    assert.notDeepEqual(grant, p.makeCasePublicGrant(facilitator, participantPk, OTHER_ID, casePk));
    assert.deepEqual(p.openCasePublicGrant(participant, facilitatorPk, OTHER_ID, grant), casePk);

    const purpose = `participant-name:${OTHER_ID}`;
    const name = p.sealCaseText(caseSk, OTHER_ID, purpose, "Sam");
    assert.equal(p.openCaseText(caseSk, OTHER_ID, purpose, name), "Sam");
    const draft = p.sealDraft(participant, OTHER_ID, OTHER_ID, utf8("Dear"));
    assert.deepEqual(p.openDraft(participant, OTHER_ID, OTHER_ID, draft), utf8("Dear"));

    // Text a browser may well meet: empty, a leading U+FEFF, NUL, CRLF, astral characters.
    for (const text of ["", "\ufeffDear Sam", "a\u0000b\r\n", "\u{1f64f}".repeat(50)]) {
      const seal = () =>
        p.sealLetter(participant, participantPk, casePk, OTHER_ID, 1, text, "t", OTHER_ID);
      const letter = seal();
      assert.notDeepEqual(letter.contentKey, seal().contentKey);
      const { manifest, chunks, grantToCase, grantToAuthor } = letter;
      const open = (recipientSk, grant) =>
        p.openLetter(recipientSk, participantPk, OTHER_ID, 1, grant, manifest, chunks);
      assert.equal(await open(caseSk, grantToCase), text);
      assert.equal(await open(participant, grantToAuthor), text);
      const blob = p.sealCaseText(caseSk, OTHER_ID, "note", text);
      assert.equal(p.openCaseText(caseSk, OTHER_ID, "note", blob), text);
    }
  });
});
