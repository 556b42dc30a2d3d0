// client/staff-trust.js with the real protocol: the Certify page's security number over both
// keys, its staff-cert and the staff page's revocation, signed with my derived signing key.
import "./support/dom.mjs";

import assert from "node:assert/strict";
import { test } from "node:test";
import { certifyStaff, identityNumber, revokeStaff } from "../../static/js/client/staff-trust.js";
import { protocol } from "../../static/js/crypto/keys.js";
import { FACILITATOR_ID, ROOT_ID, staffMember } from "./support/trust.mjs";

const p = await protocol();
const me = staffMember(ROOT_ID, "service_manager");
const them = staffMember(FACILITATOR_ID);
const loadKeys = async () => ({ accountId: me.accountId, secretKey: me.secretKey });
const now = new Date("2026-11-01T09:00:00.500Z");

test("the identity number is over both keys; garbage is null", async () => {
  const number = await identityNumber(p.b64encode(them.publicKey), p.b64encode(them.signingPublicKey));
  assert.equal(number, p.formatFingerprint(p.identityFingerprintDigits(them.publicKey, them.signingPublicKey)));
  assert.equal(await identityNumber("nope", p.b64encode(them.signingPublicKey)), null);
});

test("a staff-cert for the row, issued now by me, verifies under my signing key", async () => {
  const row = {
    accountId: them.accountId,
    role: "facilitator",
    boxPublicKey: p.b64encode(them.publicKey),
    signingPublicKey: p.b64encode(them.signingPublicKey),
  };
  const signed = await certifyStaff(row, { loadKeys, now });
  const fields = p.openStaffCert(me.signingPublicKey, p.b64decode(signed.statement), p.b64decode(signed.signature));
  assert.equal(fields.account_id, them.accountId);
  assert.equal(fields.issuer_account_id, me.accountId);
  assert.equal(fields.issued_at, "2026-11-01T09:00:00Z");
  assert.equal(fields.signing_public_key, row.signingPublicKey);
});

test("a revocation, reason disabled, verifies under my signing key", async () => {
  const signed = await revokeStaff(them.accountId, "disabled", { loadKeys, now });
  const fields = p.openRevocation(me.signingPublicKey, p.b64decode(signed.statement), p.b64decode(signed.signature));
  assert.deepEqual(
    { ...fields },
    { account_id: them.accountId, revoked_at: "2026-11-01T09:00:00Z", issuer_account_id: me.accountId, reason: "disabled" },
  );
});
