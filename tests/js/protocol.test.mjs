// static/js/protocol.js against portal/protocol.py: every output in tests/vectors/python.json is
// recomputed here byte for byte and everything in it is opened, then the tamper cases that must
// fail. Run: node --test tests/js/
// The vector files are generated (tests/vectors/make_vectors.py, tests/js/make_vectors.mjs) and
// never rewritten by a test.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import * as p from "../../static/js/protocol.js";
import { handleKdfRequest } from "../../static/js/kdf-worker.js";

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
      assert.equal(e(p.decryptChunk(...args, d(v.chunk))), v.plaintext);
    }
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
});
