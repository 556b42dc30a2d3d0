// client/staff-trust.js with the real protocol: the Certify page's security number over both
// keys, its staff-cert, the staff page's revocation and the root's hand-over, signed with my
// derived signing key; the hand-over only as this browser's walk of the trust log allows.
import "./support/dom.mjs";

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  HandOverRefused,
  certifyStaff,
  handOverRoot,
  identityNumber,
  revokeStaff,
} from "../../static/js/client/staff-trust.js";
import { protocol } from "../../static/js/crypto/keys.js";
import { trustView, walkTrustLog } from "../../static/js/crypto/trust-chain.js";
import { FACILITATOR_ID, MANAGER_ID, ROOT_ID, TrustLog, staffMember } from "./support/trust.mjs";

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

/** loadTrust's stand-in: this log walked as client/trust.js walks it. */
const trustFrom = (log) => async () => trustView(walkTrustLog(p, log.bytes()));

test("the root hands over to a certified service manager, with the key from the log", async () => {
  const manager = staffMember(MANAGER_ID, "service_manager");
  const log = new TrustLog(me).certify(me, manager);
  const signed = await handOverRoot(manager.accountId, { loadKeys, now, trust: trustFrom(log) });
  const fields = p.openRootHandover(me.signingPublicKey, p.b64decode(signed.statement), p.b64decode(signed.signature));
  assert.deepEqual(
    { ...fields },
    {
      new_root_account_id: manager.accountId,
      new_root_signing_public_key: p.b64encode(manager.signingPublicKey),
      issued_at: "2026-11-01T09:00:00Z",
      issuer_account_id: me.accountId,
    },
  );
});

test("no hand-over to a facilitator, an uncertified or revoked manager, or when I am not the root", async () => {
  const manager = staffMember(MANAGER_ID, "service_manager");
  const stranger = staffMember("aa000000-0000-4000-8000-000000000009", "service_manager");
  const log = new TrustLog(me).certify(me, manager).certify(me, them);
  const refused = (id, trust) => assert.rejects(handOverRoot(id, { loadKeys, now, trust }), HandOverRefused);
  await refused(them.accountId, trustFrom(log)); // a facilitator
  await refused(stranger.accountId, trustFrom(log)); // never certified
  await refused(me.accountId, trustFrom(log)); // myself
  const revoked = new TrustLog(me).certify(me, manager).revoke(me, manager);
  await refused(manager.accountId, trustFrom(revoked));
  // Once handed over, the old root can hand over nothing.
  const handedOver = new TrustLog(me).certify(me, manager).handOver(me, manager);
  await assert.rejects(
    handOverRoot(manager.accountId, { loadKeys, now, trust: trustFrom(handedOver) }),
    /not the service's root now/,
  );
});
