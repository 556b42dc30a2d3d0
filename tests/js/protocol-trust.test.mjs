// Trust anchors in static/js/crypto/protocol.js against portal/protocol.py: signing keys derived
// from the identity key, security numbers over both keys, signed statements, the hash-chained
// trust log and invitation codes. Every output in the trust sections of tests/vectors/python.json
// is recomputed here byte for byte, every refusal in it must be refused with the same error, then
// round trips with random inputs. Run: node --test tests/js/
// The vector files are generated (tests/vectors/make_vectors.py, tests/js/make_vectors.mjs) and
// never rewritten by a test.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import sodium from "../../static/vendor/libsodium-wrappers.mjs";
import * as p from "../../static/js/crypto/protocol.js";

await p.ready();
await sodium.ready;

const py = JSON.parse(readFileSync(new URL("../vectors/python.json", import.meta.url), "utf8"));
const d = (text) => p.b64decode(text);
const e = (data) => p.b64encode(data);
const utf8 = (text) => new TextEncoder().encode(text);

const OTHER_ID = "11111111-2222-4333-8444-555555555555";
const ERRORS = {
  DecryptionFailed: p.DecryptionFailed,
  MalformedInput: p.MalformedInput,
  WrongContext: p.WrongContext,
};
const TYPED = {
  "staff-cert": [p.signStaffCert, p.openStaffCert],
  "case-key": [p.signCaseKeyEpoch, p.openCaseKeyEpoch],
  revocation: [p.signRevocation, p.openRevocation],
  "root-handover": [p.signRootHandover, p.openRootHandover],
};

const signingSecret = (name) => d(py.signing[name].signing_secret);
const signingPk = (name) => d(py.signing[name].signing_public_key);
const logEntries = (items) =>
  items.map((i) => [d(i.signer_public_key), d(i.statement), d(i.signature)]);

/** Assert that fn throws exactly the named protocol error. */
function refuses(fn, errorName, label) {
  assert.throws(
    fn,
    (error) => error instanceof ERRORS[errorName] && error.name === errorName,
    `${label}: expected ${errorName}`,
  );
}

describe("python.json trust anchors recomputed by protocol.js", () => {
  test("signing_keys_are_derived_from_the_identity_key", () => {
    assert.deepEqual(Object.keys(py.signing).sort(), Object.keys(py.identities).sort());
    for (const [name, v] of Object.entries(py.signing)) {
      const secret = d(v.secret_key);
      assert.equal(v.secret_key, py.identities[name].secret_key);
      const [made, publicKey] = p.signingKeysFromSecret(secret);
      assert.equal(e(made), v.signing_secret);
      assert.equal(e(publicKey), v.signing_public_key);
      assert.equal(e(p.signingPublicKeyFromSecret(secret)), v.signing_public_key);
      // libsodium's form: the seed H(key=secret_key, msg="portal/v1/signing-seed"), then the
      // public key.
      const seed = sodium.crypto_generichash(32, utf8("portal/v1/signing-seed"), secret);
      assert.equal(e(made.subarray(0, 32)), e(seed));
      assert.equal(e(made.subarray(32)), v.signing_public_key);
    }
  });

  test("identity_fingerprints_match", () => {
    const vectors = py.identity_fingerprints;
    assert.ok(vectors.some((v) => v.digits.startsWith("0")));
    for (const v of vectors) {
      const digits = p.identityFingerprintDigits(d(v.box_public_key), d(v.signing_public_key));
      assert.equal(digits, v.digits);
      assert.equal(p.formatFingerprint(digits), v.formatted);
      assert.notEqual(digits, p.fingerprintDigits(d(v.box_public_key)));
    }
    const [first] = vectors;
    const swapped = p.identityFingerprintDigits(
      d(first.signing_public_key),
      d(first.box_public_key),
    );
    assert.notEqual(swapped, first.digits);
  });

  test("statements_match_and_open", () => {
    assert.deepEqual(new Set(py.statements.map((v) => v.kind)), new Set(Object.keys(TYPED)));
    for (const v of py.statements) {
      const [made, signature] = p.signStatement(signingSecret(v.signer), v.kind, v.fields);
      assert.equal(e(made), v.statement, v.kind);
      assert.equal(e(signature), v.signature, v.kind);
      assert.equal(new TextDecoder().decode(made), v.statement_text);
      assert.equal(JSON.parse(v.statement_text).context, `portal/v1/${v.kind}`);
      const [sign, open] = TYPED[v.kind];
      assert.deepEqual(sign(signingSecret(v.signer), v.fields), [made, signature]);
      const args = [d(v.statement), d(v.signature)];
      const opened = p.openStatement(signingPk(v.signer), v.kind, ...args);
      assert.deepEqual({ ...opened }, v.fields);
      assert.ok(Object.isFrozen(opened));
      assert.deepEqual({ ...open(signingPk(v.signer), ...args) }, v.fields);
    }
  });

  test("statements_with_bad_fields_are_refused_by_the_signer", () => {
    for (const v of py.statement_fields_invalid) {
      refuses(
        () => p.signStatement(signingSecret("alice"), v.kind, v.fields),
        "MalformedInput",
        v.why,
      );
      refuses(() => TYPED[v.kind][0](signingSecret("alice"), v.fields), "MalformedInput", v.why);
    }
  });

  test("bad_statements_are_refused_by_their_class", () => {
    const classes = new Set(py.statements_invalid.map((v) => v.error));
    assert.deepEqual(classes, new Set(Object.keys(ERRORS)));
    const badFields = py.statements_invalid.filter((v) => v.why.startsWith("bad field"));
    assert.equal(badFields.length, py.statement_fields_invalid.length - 1); // all but "context"
    for (const v of py.statements_invalid) {
      const args = [d(v.signer_public_key), d(v.statement), d(v.signature)];
      refuses(() => p.openStatement(args[0], v.kind, args[1], args[2]), v.error, v.why);
      refuses(() => TYPED[v.kind][1](...args), v.error, v.why);
    }
  });

  test("trust_log_heads_match_and_extend", () => {
    const entries = logEntries(py.trust_log.entries);
    const { heads } = py.trust_log;
    assert.deepEqual(
      heads.map((h) => h.count),
      Array.from({ length: entries.length + 1 }, (_, i) => i),
    );
    assert.equal(heads[0].head, e(new Uint8Array(32)));
    for (const h of heads) {
      const [count, head] = p.trustLogHead(entries.slice(0, h.count));
      assert.equal(count, h.count);
      assert.equal(e(head), h.head);
      // Every state a browser may have seen is extended by the whole log.
      assert.equal(e(p.verifyTrustLogExtends(h.count, d(h.head), entries)), heads.at(-1).head);
    }
    const kinds = new Set(
      entries.map(([, statement]) => JSON.parse(new TextDecoder().decode(statement)).context),
    );
    assert.deepEqual(
      kinds,
      new Set(["portal/v1/staff-cert", "portal/v1/revocation", "portal/v1/root-handover"]),
    );
  });

  test("trust_logs_that_do_not_extend_are_refused", () => {
    const classes = new Set(py.trust_log_invalid.map((v) => v.error));
    assert.deepEqual(classes, new Set(Object.keys(ERRORS)));
    for (const v of py.trust_log_invalid) {
      refuses(
        () => p.verifyTrustLogExtends(v.old_count, d(v.old_head), logEntries(v.entries)),
        v.error,
        v.why,
      );
    }
  });

  test("invitations_match", () => {
    for (const v of py.invitations) {
      const code = d(v.code_bytes);
      assert.equal(p.encodeInvitationCode(code), v.code);
      for (const text of [v.code, ...v.code_variants]) {
        assert.deepEqual(p.decodeInvitationCode(text), code, JSON.stringify(text));
      }
      const secrets = p.invitationSecrets(code);
      assert.equal(secrets.lookupId, v.lookup_id);
      assert.match(secrets.lookupId, /^[0-9a-f]{32}$/);
      assert.equal(e(secrets.redeemProof), v.redeem_proof);
      assert.equal(e(p.invitationRedeemHash(secrets.redeemProof)), v.redeem_hash);
      assert.equal(e(secrets.macKey), v.mac_key);
      assert.equal(e(p.invitationMac(secrets.macKey, v.fields)), v.mac);
      p.checkInvitationMac(secrets.macKey, v.fields, d(v.mac));
    }
  });

  test("invalid_invitation_codes_raise_malformed", () => {
    for (const code of py.invitation_codes_invalid) {
      refuses(() => p.decodeInvitationCode(code), "MalformedInput", JSON.stringify(code));
    }
  });

  test("invitations_with_wrong_mac_or_fields_are_refused", () => {
    const classes = new Set(py.invitation_macs_invalid.map((v) => v.error));
    assert.deepEqual(classes, new Set(["DecryptionFailed", "MalformedInput"]));
    for (const v of py.invitation_macs_invalid) {
      refuses(() => p.checkInvitationMac(d(v.mac_key), v.fields, d(v.mac)), v.error, v.why);
    }
  });
});

describe("trust anchors refuse misuse in protocol.js", () => {
  const caseKey = py.statements.find((v) => v.kind === "case-key");

  test("signing_secret_with_a_foreign_public_half_raises_malformed", () => {
    const seed = signingSecret("alice").subarray(0, 32);
    const foreign = new Uint8Array([...seed, ...signingPk("bob")]);
    for (const secret of [foreign, seed, d(py.identities.alice.secret_key)]) {
      refuses(
        () => p.signStatement(secret, "case-key", caseKey.fields),
        "MalformedInput",
        "secret",
      );
    }
  });

  test("unknown_kind_or_shape_of_statement_raises_malformed", () => {
    const v = py.statements[0];
    const args = [d(v.statement), d(v.signature)];
    for (const kind of ["grant/case", "staff_cert", "", null, "__proto__", "constructor"]) {
      refuses(
        () => p.signStatement(signingSecret("alice"), kind, v.fields),
        "MalformedInput",
        kind,
      );
      refuses(() => p.openStatement(signingPk("alice"), kind, ...args), "MalformedInput", kind);
    }
    const prototypeKey = JSON.parse(`{"__proto__": 1, ${JSON.stringify(v.fields).slice(1)}`);
    for (const fields of [null, [], Object.entries(v.fields), new Map(), prototypeKey]) {
      refuses(
        () => p.signStatement(signingSecret("alice"), "staff-cert", fields),
        "MalformedInput",
        String(fields),
      );
    }
    refuses(
      () => p.openStatement(signingPk("alice"), "staff-cert", v.statement_text, args[1]),
      "MalformedInput",
      "text",
    );
  });

  test("trust_log_of_wrong_shape_raises_malformed", () => {
    const entries = logEntries(py.trust_log.entries);
    refuses(() => p.trustLogHead([entries[0].slice(0, 2)]), "MalformedInput", "pair");
    refuses(() => p.trustLogHead(entries.values()), "MalformedInput", "iterator");
    refuses(() => p.verifyTrustLogExtends(-1, new Uint8Array(32), entries), "MalformedInput", "-1");
    refuses(
      () => p.verifyTrustLogExtends(1.5, new Uint8Array(32), entries),
      "MalformedInput",
      "1.5",
    );
    const [count, head] = p.trustLogHead([]);
    assert.equal(count, 0);
    assert.deepEqual(head, new Uint8Array(32));
    assert.deepEqual(p.verifyTrustLogExtends(0, new Uint8Array(32), []), new Uint8Array(32));
  });

  test("invitation_redeem_hash_needs_a_whole_proof_and_is_not_the_proof", () => {
    const v = py.invitations[0];
    const proof = d(v.redeem_proof);
    refuses(() => p.invitationRedeemHash(proof.subarray(0, 31)), "MalformedInput", "31 bytes");
    refuses(() => p.invitationRedeemHash(new Uint8Array(33)), "MalformedInput", "33 bytes");
    refuses(() => p.invitationRedeemHash(v.redeem_proof), "MalformedInput", "a string");
    const kept = p.invitationRedeemHash(proof);
    const secrets = p.invitationSecrets(d(v.code_bytes));
    for (const other of [proof, secrets.macKey, d(v.mac)]) {
      assert.notDeepEqual(kept, other);
    }
  });

  test("invitation_mac_needs_the_code", () => {
    const v = py.invitations[0];
    const code = d(v.code_bytes);
    refuses(() => p.invitationSecrets(code.subarray(0, 9)), "MalformedInput", "9 bytes");
    refuses(() => p.encodeInvitationCode(new Uint8Array(11)), "MalformedInput", "11 bytes");
    const secrets = p.invitationSecrets(code);
    const lookup = sodium.from_hex(secrets.lookupId);
    for (const notTheKey of [secrets.redeemProof, new Uint8Array([...lookup, ...lookup])]) {
      refuses(() => p.checkInvitationMac(notTheKey, v.fields, d(v.mac)), "DecryptionFailed", "key");
    }
  });
});

describe("trust anchors round trip in protocol.js", () => {
  const randomInt = (below) => sodium.randombytes_uniform(below);

  test("any_identity_key_gives_one_signing_key_that_signs_statements", () => {
    for (let round = 0; round < 30; round += 1) {
      const [secret, boxPublic] = p.generateIdentity();
      const [signing, publicKey] = p.signingKeysFromSecret(secret);
      assert.deepEqual(p.signingKeysFromSecret(secret), [signing, publicKey]);
      assert.deepEqual(signing.subarray(32), publicKey);
      assert.equal(p.identityFingerprintDigits(boxPublic, publicKey).length, 60);
      const fields = {
        case_id: OTHER_ID,
        epoch: 1 + randomInt(2 ** 30),
        case_public_key: e(boxPublic),
        issued_at: "2025-01-01T00:00:00Z",
        issuer_account_id: OTHER_ID,
      };
      const [statement, signature] = p.signCaseKeyEpoch(signing, fields);
      assert.deepEqual({ ...p.openCaseKeyEpoch(publicKey, statement, signature) }, fields);
      const other = p.signingPublicKeyFromSecret(p.generateIdentity()[0]);
      refuses(() => p.openCaseKeyEpoch(other, statement, signature), "DecryptionFailed", "other");
    }
  });

  test("any_bit_flipped_in_a_statement_or_signature_is_refused", () => {
    const v = py.statements.find((s) => s.kind === "revocation");
    const statement = d(v.statement);
    const signature = d(v.signature);
    for (let round = 0; round < 200; round += 1) {
      const inStatement = round % 2 === 0;
      const target = Uint8Array.from(inStatement ? statement : signature);
      const bit = randomInt(8 * target.length);
      target[bit >> 3] ^= 1 << (bit & 7);
      refuses(
        () =>
          p.openRevocation(
            signingPk(v.signer),
            inStatement ? target : statement,
            inStatement ? signature : target,
          ),
        "DecryptionFailed",
        `bit ${bit}`,
      );
    }
  });

  test("timestamps_are_accepted_exactly_when_they_are_real", () => {
    const v = py.statements.find((s) => s.kind === "revocation");
    const pad = (n, width) => String(n).padStart(width, "0");
    for (let round = 0; round < 400; round += 1) {
      const parts = [
        randomInt(10000),
        randomInt(14),
        randomInt(33),
        randomInt(26),
        randomInt(61),
        randomInt(62),
      ];
      const [year, month, day, hour, minute, second] = parts;
      const date = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
      const text = `${date}T${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}Z`;
      // What Date makes of the parts: out-of-range parts roll over into the next unit.
      const when = new Date(0);
      when.setUTCFullYear(year, month - 1, day);
      when.setUTCHours(hour, minute, second, 0);
      const real =
        year >= 1 &&
        when.getUTCFullYear() === year &&
        when.getUTCMonth() === month - 1 &&
        when.getUTCDate() === day &&
        when.getUTCHours() === hour &&
        when.getUTCMinutes() === minute &&
        when.getUTCSeconds() === second;
      const fields = { ...v.fields, revoked_at: text };
      if (real) {
        const [statement, signature] = p.signRevocation(signingSecret(v.signer), fields);
        assert.equal(p.openRevocation(signingPk(v.signer), statement, signature).revoked_at, text);
      } else {
        refuses(() => p.signRevocation(signingSecret(v.signer), fields), "MalformedInput", text);
      }
    }
  });

  test("any_invitation_code_round_trips_through_its_text", () => {
    for (let round = 0; round < 200; round += 1) {
      const [code, text] = p.generateInvitationCode();
      assert.match(text, /^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
      assert.deepEqual(p.decodeInvitationCode(text), code);
      const sloppy = text
        .toLowerCase()
        .replaceAll("-", " ")
        .replaceAll("0", "o")
        .replaceAll("1", "l");
      assert.deepEqual(p.decodeInvitationCode(sloppy), code);
      const { lookupId, redeemProof, macKey } = p.invitationSecrets(code);
      assert.equal(new Set([lookupId, sodium.to_hex(redeemProof), sodium.to_hex(macKey)]).size, 3);
    }
  });

  test("any_changed_invitation_field_fails_the_mac", () => {
    const v = py.invitations[1];
    for (const name of Object.keys(v.fields)) {
      const current = v.fields[name];
      let replacement;
      if (name === "role") replacement = "supporter";
      else if (name === "expires_at") replacement = "2030-01-01T00:00:00Z";
      else if (name.endsWith("_id"))
        replacement = current === OTHER_ID ? v.fields.account_id : OTHER_ID;
      else replacement = e(p.randomBytes(32));
      const fields = { ...v.fields, [name]: replacement };
      refuses(() => p.checkInvitationMac(d(v.mac_key), fields, d(v.mac)), "DecryptionFailed", name);
    }
  });

  test("a_log_extends_every_prefix_of_itself_and_nothing_else", () => {
    const base = py.statements[0];
    const log = Array.from({ length: 8 }, (_, index) => {
      const fields = { ...base.fields, issued_at: `2025-01-01T00:00:0${index}Z` };
      const [statement, signature] = p.signStaffCert(signingSecret("alice"), fields);
      return [signingPk("alice"), statement, signature];
    });
    for (let total = 0; total <= log.length; total += 1) {
      const entries = log.slice(0, total);
      const newest = p.trustLogHead(entries)[1];
      for (let seen = 0; seen <= total; seen += 1) {
        const [count, head] = p.trustLogHead(entries.slice(0, seen));
        assert.deepEqual(p.verifyTrustLogExtends(count, head, entries), newest);
        if (seen === 0) continue;
        // The same number of entries, but another history: one entry dropped from the middle.
        const dropped = randomInt(seen);
        const other = [...entries.slice(0, dropped), ...log.slice(dropped + 1, seen + 1)];
        refuses(() => p.verifyTrustLogExtends(count, head, other), "WrongContext", "fork");
        refuses(
          () => p.verifyTrustLogExtends(count, head, entries.slice(0, seen - 1)),
          "WrongContext",
          "shorter",
        );
      }
    }
  });
});
