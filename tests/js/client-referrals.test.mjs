// client/referrals.js with the real protocol, against a stand-in for the JSON API: the public
// pages accept a referral key only if the trust log served with it holds its signer as the root
// or a certified, unrevoked service manager, and show the root's security number; staff open
// their grant only from trusted staff and give the key only to certified colleagues.
import "./support/dom.mjs";

import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import {
  NotAFacilitator,
  ShareNotGenuine,
  openSharedReferral,
  openTriageNote,
  sealTriageNote,
  shareReferral,
} from "../../static/js/client/referral-triage.js";
import {
  NotAReader,
  NotTakingReferrals,
  ReferralGrantNotGenuine,
  ReferralKeyNotGenuine,
  ReferralTooLong,
  grantReferralKey,
  loadReferralKey,
  makeReferralKey,
  openMyReferralKey,
  openReferral,
  sealReferralForm,
} from "../../static/js/client/referrals.js";
import { loadSecretKey } from "../../static/js/client/session.js";
import { forgetTrust } from "../../static/js/client/trust.js";
import { protocol, storeSecretKey, wipeKeys } from "../../static/js/crypto/keys.js";
import { fakeServer, json } from "./support/fake-server.mjs";
import {
  FACILITATOR_ID,
  MANAGER_ID,
  ROOT_ID,
  TrustLog,
  rootOf,
  securityEventRoutes,
  staffMember,
  trustRoutes,
  vaultRoutes,
} from "./support/trust.mjs";

const p = await protocol();
const KEY_ID = "3c1f2e4d-5a6b-4c7d-8e9f-0a1b2c3d4e5f";

/** A referral key published by `signer` (a staff member), served with `log`. */
function published(signer, log, { issuer = signer, keyId = KEY_ID } = {}) {
  const [secretKey, publicKey] = p.generateIdentity();
  const [statement, signature] = p.signReferralKey(signer.signingSecret, {
    key_id: keyId,
    referral_public_key: p.b64encode(publicKey),
    issued_at: "2026-12-02T04:00:00Z",
    issuer_account_id: issuer.accountId,
  });
  const key = {
    key_id: KEY_ID,
    referral_public_key: p.b64encode(publicKey),
    statement: p.b64encode(statement),
    signature: p.b64encode(signature),
    signer_account_id: signer.accountId,
  };
  return { secretKey, publicKey, key, served: { key, ...log.served() } };
}

function world({ revoke = false } = {}) {
  const root = staffMember(ROOT_ID, "service_manager");
  const manager = staffMember(MANAGER_ID, "service_manager");
  const facilitator = staffMember(FACILITATOR_ID, "facilitator");
  const log = new TrustLog(root);
  log.certify(root, manager).certify(root, facilitator);
  if (revoke) log.revoke(root, manager);
  return { root, manager, facilitator, log };
}

beforeEach(() => {
  wipeKeys();
  forgetTrust();
});

describe("client/referrals.js on the public pages", () => {
  test("a key a certified service manager published is accepted, with the root's number", async () => {
    const { root, manager, log } = world();
    const { publicKey, secretKey, served } = published(manager, log);
    fakeServer({ "GET /api/referrals/key": () => json(served) });
    const key = await loadReferralKey();
    assert.equal(key.keyId, KEY_ID);
    assert.deepEqual(key.publicKey, publicKey);
    const digits = p.identityFingerprintDigits(root.publicKey, root.signingPublicKey);
    assert.equal(key.rootNumber, p.formatFingerprint(digits));
    const sealed = await sealReferralForm(key, { form: "self", name: "Ana" });
    assert.equal(sealed.key_id, KEY_ID);
    const opened = p.openReferral(secretKey, KEY_ID, p.b64decode(sealed.ciphertext));
    assert.deepEqual(opened, { form: "self", name: "Ana" });
  });

  test("no key: the service is not taking referrals", async () => {
    const { log } = world();
    fakeServer({ "GET /api/referrals/key": () => json({ key: null, ...log.served() }) });
    await assert.rejects(loadReferralKey(), NotTakingReferrals);
  });

  test("a key from a facilitator, a revoked manager or nobody in the log is refused", async () => {
    const stranger = staffMember("bb000000-0000-4000-8000-000000000009", "service_manager");
    const cases = [
      () => {
        const { facilitator, log } = world();
        return published(facilitator, log).served;
      },
      () => {
        const { manager, log } = world({ revoke: true });
        return published(manager, log).served;
      },
      () => published(stranger, world().log).served,
      () => {
        const { manager, root, log } = world();
        return published(manager, log, { issuer: root }).served; // names another issuer
      },
      () => {
        const { manager, log } = world();
        const { served } = published(manager, log);
        served.key.referral_public_key = p.b64encode(p.generateIdentity()[1]); // swapped key
        return served;
      },
      () => {
        const { manager, log } = world();
        const { served } = published(manager, log);
        served.root = rootOf(manager); // a root the log does not lead to
        return served;
      },
    ];
    for (const make of cases) {
      const served = make();
      fakeServer({ "GET /api/referrals/key": () => json(served) });
      await assert.rejects(loadReferralKey(), ReferralKeyNotGenuine);
    }
  });

  test("a form too long to seal says so", async () => {
    const { manager, log } = world();
    fakeServer({ "GET /api/referrals/key": () => json(published(manager, log).served) });
    const key = await loadReferralKey();
    await assert.rejects(sealReferralForm(key, { message: "x".repeat(40000) }), ReferralTooLong);
  });
});

describe("client/referrals.js for staff", () => {
  async function asStaff(me, log, grantFor) {
    const sessionKey = p.b64encode(p.randomBytes(32));
    await storeSecretKey(me.accountId, me.secretKey, sessionKey);
    const session = {
      account_id: me.accountId,
      public_key: p.b64encode(me.publicKey),
      session_key: sessionKey,
    };
    const vault = vaultRoutes(me, { pins: { root: log.root } });
    fakeServer({
      ...trustRoutes(log),
      ...vault.routes,
      ...securityEventRoutes,
      "GET /api/session": () => json(session),
      "GET /api/referrals/my-grant": () => json(grantFor()),
    });
    return loadSecretKey();
  }

  test("the manager makes a key signed by them and granted to themself", async () => {
    const { manager, log } = world();
    const keys = await asStaff(manager, log, () => null);
    const made = await makeReferralKey(keys);
    const fields = p.openReferralKey(
      manager.signingPublicKey,
      p.b64decode(made.statement),
      p.b64decode(made.signature),
    );
    assert.equal(fields.key_id, made.key_id);
    assert.equal(fields.issuer_account_id, MANAGER_ID);
    const secret = p.openReferralKeyGrant(
      manager.secretKey,
      manager.publicKey,
      made.key_id,
      p.b64decode(made.grant),
    );
    assert.equal(p.b64encode(p.publicKeyFromSecret(secret)), made.referral_public_key);
  });

  test("a holder opens their grant and gives the key to a certified facilitator only", async () => {
    const { manager, facilitator, log } = world();
    const { secretKey, key } = published(manager, log);
    const grant = p.makeReferralKeyGrant(manager.secretKey, manager.publicKey, KEY_ID, secretKey);
    const mine = {
      key,
      grant: p.b64encode(grant),
      sender_account_id: MANAGER_ID,
      sender_public_key: p.b64encode(manager.publicKey),
    };
    const keys = await asStaff(manager, log, () => mine);
    const opened = await openMyReferralKey(keys);
    assert.deepEqual(opened.secretKey, secretKey);
    const given = await grantReferralKey(keys, FACILITATOR_ID);
    const theirs = p.openReferralKeyGrant(
      facilitator.secretKey,
      manager.publicKey,
      KEY_ID,
      p.b64decode(given.grant),
    );
    assert.deepEqual(theirs, secretKey);
    await assert.rejects(
      grantReferralKey(keys, "cc000000-0000-4000-8000-000000000001"),
      NotAReader,
    );
    const sealed = p.sealReferral(p.publicKeyFromSecret(secretKey), KEY_ID, { form: "self" });
    assert.deepEqual(await openReferral(keys, KEY_ID, p.b64encode(sealed)), { form: "self" });
    const other = "4d2e3f50-6a7b-4c8d-9e0f-1a2b3c4d5e6f";
    await assert.rejects(
      openReferral(keys, other, p.b64encode(sealed)),
      ReferralGrantNotGenuine,
    );
  });

  test("a grant from someone the log does not vouch for is not used", async () => {
    const { manager, log } = world();
    const stranger = staffMember("bb000000-0000-4000-8000-000000000009", "service_manager");
    const { secretKey, key } = published(manager, log);
    const grant = p.makeReferralKeyGrant(stranger.secretKey, manager.publicKey, KEY_ID, secretKey);
    const keys = await asStaff(manager, log, () => ({
      key,
      grant: p.b64encode(grant),
      sender_account_id: stranger.accountId,
      sender_public_key: p.b64encode(stranger.publicKey),
    }));
    await assert.rejects(openMyReferralKey(keys), ReferralGrantNotGenuine);
  });
});

describe("client/referrals.js for triage", () => {
  const REFERRAL_ID = "5e6f7081-92a3-4b4c-8d5e-6f708192a3b4";

  async function holding(me, log, secretKey, key, sender = me) {
    const sessionKey = p.b64encode(p.randomBytes(32));
    await storeSecretKey(me.accountId, me.secretKey, sessionKey);
    const grant = p.makeReferralKeyGrant(sender.secretKey, me.publicKey, KEY_ID, secretKey);
    const vault = vaultRoutes(me, { pins: { root: log.root } });
    fakeServer({
      ...trustRoutes(log),
      ...vault.routes,
      ...securityEventRoutes,
      "GET /api/session": () =>
        json({
          account_id: me.accountId,
          public_key: p.b64encode(me.publicKey),
          session_key: sessionKey,
        }),
      "GET /api/referrals/my-grant": () =>
        json({
          key,
          grant: p.b64encode(grant),
          sender_account_id: sender.accountId,
          sender_public_key: p.b64encode(sender.publicKey),
        }),
    });
    return loadSecretKey();
  }

  test("a note is sealed to the referral key and opens again; an empty one is not sent", async () => {
    const { manager, log } = world();
    const { secretKey, key } = published(manager, log);
    const keys = await holding(manager, log, secretKey, key);
    assert.equal(await sealTriageNote(keys, "   "), null);
    const sealed = await sealTriageNote(keys, " Asked the officer for consent ");
    assert.deepEqual(p.openReferral(secretKey, KEY_ID, p.b64decode(sealed)), {
      note: "Asked the officer for consent",
    });
    assert.equal(await openTriageNote(keys, KEY_ID, sealed), "Asked the officer for consent");
  });

  test("a referral is shared with a certified facilitator only, who opens it", async () => {
    const { manager, facilitator, log } = world();
    const { secretKey, key } = published(manager, log);
    const keys = await holding(manager, log, secretKey, key);
    const form = { form: "agency", person_name: "Sam" };
    const { share } = await shareReferral(keys, REFERRAL_ID, form, FACILITATOR_ID);
    assert.deepEqual(
      p.openReferralShare(facilitator.secretKey, manager.publicKey, REFERRAL_ID, p.b64decode(share)),
      form,
    );
    // Not to a service manager, nor to anyone the log does not hold.
    await assert.rejects(shareReferral(keys, REFERRAL_ID, form, MANAGER_ID), NotAFacilitator);
    await assert.rejects(
      shareReferral(keys, REFERRAL_ID, form, "cc000000-0000-4000-8000-000000000001"),
      NotAFacilitator,
    );
    // The facilitator's browser opens it, from a sender it trusts only.
    wipeKeys();
    forgetTrust();
    const theirs = await holding(facilitator, log, secretKey, key, manager);
    const shared = {
      referralId: REFERRAL_ID,
      share,
      senderAccountId: MANAGER_ID,
      senderPublicKey: p.b64encode(manager.publicKey),
    };
    assert.deepEqual(await openSharedReferral(theirs, shared), form);
    const stranger = staffMember("bb000000-0000-4000-8000-000000000009", "service_manager");
    await assert.rejects(
      openSharedReferral(theirs, {
        ...shared,
        senderAccountId: stranger.accountId,
        senderPublicKey: p.b64encode(stranger.publicKey),
      }),
      ShareNotGenuine,
    );
    await assert.rejects(
      openSharedReferral(theirs, { ...shared, referralId: KEY_ID }),
      ShareNotGenuine,
    );
  });
});
