// client/feedback.js with the real protocol, against a stand-in for the JSON API: feedback text
// is sealed to the referral key as its own kind of form, opened only with the manager's grant,
// and anything that does not open as feedback (a referral the server moved here, another key's
// seal, a tampered box) is shown as not opened rather than as words.
import "./support/dom.mjs";

import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { openFeedbackTexts, sealFeedbackText } from "../../static/js/client/feedback.js";
import { loadReferralKey } from "../../static/js/client/referrals.js";
import { loadSecretKey } from "../../static/js/client/session.js";
import { forgetTrust } from "../../static/js/client/trust.js";
import { protocol, storeSecretKey, wipeKeys } from "../../static/js/crypto/keys.js";
import { fakeServer, json } from "./support/fake-server.mjs";
import {
  MANAGER_ID,
  ROOT_ID,
  TrustLog,
  securityEventRoutes,
  staffMember,
  trustRoutes,
  vaultRoutes,
} from "./support/trust.mjs";

const p = await protocol();
const KEY_ID = "3c1f2e4d-5a6b-4c7d-8e9f-0a1b2c3d4e5f";

function service() {
  const root = staffMember(ROOT_ID, "service_manager");
  const manager = staffMember(MANAGER_ID, "service_manager");
  const log = new TrustLog(root);
  log.certify(root, manager);
  const [secretKey, publicKey] = p.generateIdentity();
  const [statement, signature] = p.signReferralKey(manager.signingSecret, {
    key_id: KEY_ID,
    referral_public_key: p.b64encode(publicKey),
    issued_at: "2026-12-02T04:00:00Z",
    issuer_account_id: manager.accountId,
  });
  const key = {
    key_id: KEY_ID,
    referral_public_key: p.b64encode(publicKey),
    statement: p.b64encode(statement),
    signature: p.b64encode(signature),
    signer_account_id: manager.accountId,
  };
  const grant = p.makeReferralKeyGrant(manager.secretKey, manager.publicKey, KEY_ID, secretKey);
  const mine = {
    key,
    grant: p.b64encode(grant),
    sender_account_id: MANAGER_ID,
    sender_public_key: p.b64encode(manager.publicKey),
  };
  return { manager, log, key, mine, publicKey, secretKey };
}

async function asManager({ manager, log, key, mine }) {
  const sessionKey = p.b64encode(p.randomBytes(32));
  await storeSecretKey(manager.accountId, manager.secretKey, sessionKey);
  const vault = vaultRoutes(manager, { pins: { root: log.root } });
  fakeServer({
    ...trustRoutes(log),
    ...vault.routes,
    ...securityEventRoutes,
    "GET /api/session": () =>
      json({
        account_id: manager.accountId,
        public_key: p.b64encode(manager.publicKey),
        session_key: sessionKey,
      }),
    "GET /api/referrals/key": () => json({ key, ...log.served() }),
    "GET /api/referrals/my-grant": () => json(mine),
  });
  return loadSecretKey();
}

beforeEach(() => {
  wipeKeys();
  forgetTrust();
});

describe("client/feedback.js", () => {
  test("text is sealed as feedback to the referral key; no text seals nothing", async () => {
    const world = service();
    await asManager(world);
    const key = await loadReferralKey();
    assert.deepEqual(await sealFeedbackText(key, "   "), {});
    const sealed = await sealFeedbackText(key, "  It helped me. ");
    assert.equal(sealed.key_id, KEY_ID);
    const opened = p.openReferral(world.secretKey, KEY_ID, p.b64decode(sealed.ciphertext));
    assert.deepEqual(opened, { form: "feedback", text: "It helped me." });
  });

  test("the manager opens feedback, and nothing else, with their grant", async () => {
    const world = service();
    const keys = await asManager(world);
    const feedback = p.sealReferral(world.publicKey, KEY_ID, { form: "feedback", text: "Ok" });
    const referral = p.sealReferral(world.publicKey, KEY_ID, { form: "self", name: "Ana" });
    const [, otherPublic] = p.generateIdentity();
    const elsewhere = p.sealReferral(otherPublic, KEY_ID, { form: "feedback", text: "x" });
    const tampered = Uint8Array.from(feedback);
    tampered[tampered.length - 1] ^= 1;
    const items = [feedback, referral, elsewhere, tampered].map((sealed) => ({
      keyId: KEY_ID,
      ciphertext: p.b64encode(sealed),
    }));
    items.push({ keyId: "4d2e3f50-6a7b-4c8d-9e0f-1a2b3c4d5e6f", ciphertext: items[0].ciphertext });
    assert.deepEqual(await openFeedbackTexts(keys, items), ["Ok", null, null, null, null]);
  });
});
