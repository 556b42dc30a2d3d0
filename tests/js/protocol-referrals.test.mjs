// Referrals in static/js/crypto/protocol.js against portal/protocol.py: every deterministic output
// in tests/vectors/referrals-python.json recomputed byte for byte, every sealed referral in it
// opened, and the refusals both implementations share. tests/unit/test_protocol_referrals.py
// checks referrals-js.json the same way. Run: node --test tests/js/

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import sodium from "../../static/vendor/libsodium-wrappers.mjs";
import * as p from "../../static/js/crypto/protocol.js";

await p.ready();
await sodium.ready;

const py = JSON.parse(
  readFileSync(new URL("../vectors/referrals-python.json", import.meta.url), "utf8"),
);
const d = (text) => p.b64decode(text);
const e = (data) => p.b64encode(data);
const form = (spec) => spec.form ?? { padding: "x".repeat(spec.padding) };
const digest = (data) => e(sodium.crypto_generichash(32, data, null));

test("the referral key statement is signed alike in both implementations", () => {
  const [signingSecret, signingPublic] = p.signingKeysFromSecret(d(py.manager_secret_key));
  assert.equal(e(signingPublic), py.manager_signing_public_key);
  const [statement, signature] = p.signReferralKey(signingSecret, py.statement.fields);
  assert.equal(e(statement), py.statement.statement);
  assert.equal(e(signature), py.statement.signature);
  const opened = p.openReferralKey(signingPublic, statement, signature);
  assert.deepEqual({ ...opened }, py.statement.fields);
  assert.throws(
    () => p.openCaseKeyEpoch(signingPublic, statement, signature),
    p.WrongContext,
  );
});

test("the referral key grant is made and opened alike", () => {
  const managerSk = d(py.manager_secret_key);
  const facilitatorSk = d(py.facilitator_secret_key);
  const grant = p.makeReferralKeyGrant(
    managerSk,
    p.publicKeyFromSecret(facilitatorSk),
    py.key_id,
    d(py.referral_secret_key),
    { nonce: d(py.grant.nonce) },
  );
  assert.equal(e(grant), py.grant.grant);
  const managerPk = p.publicKeyFromSecret(managerSk);
  assert.deepEqual(
    p.openReferralKeyGrant(facilitatorSk, managerPk, py.key_id, grant),
    d(py.referral_secret_key),
  );
  assert.throws(
    () => p.openReferralKeyGrant(facilitatorSk, managerPk, py.other_key_id, grant),
    p.WrongContext,
  );
  assert.throws(() => p.openCaseGrant(facilitatorSk, managerPk, py.key_id, grant), p.WrongContext);
});

test("what is sealed is padded alike to the same buckets", () => {
  assert.deepEqual(p.referralSealedSizes(), py.sealed_sizes);
  for (const spec of py.plaintexts) {
    const plaintext = p.referralPlaintext(py.key_id, form(spec));
    assert.equal(plaintext.length, spec.length);
    assert.equal(digest(plaintext), spec.digest);
  }
});

test("referrals sealed in Python open in JavaScript", () => {
  for (const spec of py.sealed) {
    const sealed = d(spec.sealed);
    assert.ok(py.sealed_sizes.includes(sealed.length));
    assert.deepEqual(p.openReferral(d(py.referral_secret_key), py.key_id, sealed), form(spec));
  }
});

test("a referral sealed for another key id, tampered or too long is refused", () => {
  const sk = d(py.referral_secret_key);
  const sealed = d(py.sealed[0].sealed);
  assert.throws(() => p.openReferral(sk, py.other_key_id, sealed), p.WrongContext);
  assert.throws(() => p.openReferral(sk, py.key_id, d(py.sealed_tampered)), p.DecryptionFailed);
  assert.throws(() => p.openReferral(p.randomBytes(32), py.key_id, sealed), p.DecryptionFailed);
  assert.throws(
    () => p.referralPlaintext(py.key_id, { padding: "x".repeat(py.too_long_padding) }),
    p.MalformedInput,
  );
});

test("a round trip with fresh keys opens only with the referral key", () => {
  const secret = p.randomBytes(32);
  const value = { channel: "self", name: "Ana", agreed: true };
  const sealed = p.sealReferral(p.publicKeyFromSecret(secret), py.key_id, value);
  assert.equal(sealed.length, p.referralSealedSizes()[0]);
  assert.deepEqual(p.openReferral(secret, py.key_id, sealed), value);
});

test("a referral share is made and opened alike", () => {
  const managerSk = d(py.manager_secret_key);
  const facilitatorSk = d(py.facilitator_secret_key);
  const made = p.makeReferralShare(
    managerSk,
    p.publicKeyFromSecret(facilitatorSk),
    py.share.referral_id,
    py.share.form,
    { nonce: d(py.share.nonce) },
  );
  assert.equal(e(made), py.share.share);
  assert.deepEqual(p.referralShareSizes(), py.share.sizes);
  const managerPk = p.publicKeyFromSecret(managerSk);
  assert.deepEqual(
    { ...p.openReferralShare(facilitatorSk, managerPk, py.share.referral_id, made) },
    py.share.form,
  );
});

test("a referral share of another referral, kind or sender is refused", () => {
  const facilitatorSk = d(py.facilitator_secret_key);
  const managerPk = p.publicKeyFromSecret(d(py.manager_secret_key));
  const made = d(py.share.share);
  assert.throws(() => p.openReferralShare(facilitatorSk, managerPk, py.key_id, made), p.WrongContext);
  const [, stranger] = p.generateIdentity();
  assert.throws(
    () => p.openReferralShare(facilitatorSk, stranger, py.share.referral_id, made),
    p.DecryptionFailed,
  );
  assert.throws(
    () => p.openReferralShare(facilitatorSk, managerPk, py.key_id, d(py.grant.grant)),
    p.MalformedInput,
  );
});
