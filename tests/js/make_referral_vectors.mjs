// Write tests/vectors/referrals-js.json: referral vectors made by static/js/crypto/protocol.js.
//
// Run from the repository root after a deliberate change to referrals in the protocol, then
// commit the result:
//
//     node tests/js/make_referral_vectors.mjs
//
// tests/unit/test_protocol_referrals.py recomputes every deterministic output here with
// portal/protocol.py and opens every sealed referral; tests/vectors/make_referral_vectors.py
// writes the mirror file referrals-python.json (same shape, other inputs). A sealed box takes a
// fresh ephemeral key, so sealed referrals are checked by opening them.

import { writeFileSync } from "node:fs";
import sodium from "../../static/vendor/libsodium-wrappers.mjs";
import * as p from "../../static/js/crypto/protocol.js";

const OUT = new URL("../vectors/referrals-js.json", import.meta.url);
const SEED = "js";
const MANAGER_ID = "0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9";
const KEY_ID = "9e8d7c6b-5a49-4837-a625-1403f2e1d0c9";
const OTHER_KEY_ID = "8d7c6b5a-4938-4726-b514-03f2e1d0c9b8";
const REFERRAL_ID = "7c6b5a49-3827-4615-a403-f2e1d0c9b8a7";

await p.ready();
await sodium.ready;

function fixed(label, size = 32) {
  return sodium.crypto_generichash(size, `portal/v1/test-vectors/${SEED}/referrals/${label}`, null);
}

const e = (data) => p.b64encode(data);
const digest = (data) => e(sodium.crypto_generichash(32, data, null));

const SMALL = {
  channel: "self",
  how_to_contact: "Text only, after 6 pm — never call. Ça va?",
  agreed: false,
  risks: null,
};
const PADDINGS = [2047 - 14, 2048 - 14];
const TOO_LONG = 32768 - 14;
const vectorForm = (spec) => spec.form ?? { padding: "x".repeat(spec.padding) };
const formSpecs = () => [{ form: SMALL }, ...PADDINGS.map((count) => ({ padding: count }))];

const managerSk = fixed("manager");
const facilitatorSk = fixed("facilitator");
const referralSk = fixed("referral");
const [signingSecret, signingPublicKey] = p.signingKeysFromSecret(managerSk);
const fields = {
  key_id: KEY_ID,
  referral_public_key: e(p.publicKeyFromSecret(referralSk)),
  issued_at: "2026-12-02T04:11:00Z",
  issuer_account_id: MANAGER_ID,
};
const [statement, signature] = p.signReferralKey(signingSecret, fields);
const nonce = fixed("grant-nonce", 24);
const grant = p.makeReferralKeyGrant(
  managerSk,
  p.publicKeyFromSecret(facilitatorSk),
  KEY_ID,
  referralSk,
  { nonce },
);
const plaintexts = formSpecs().map((spec) => {
  const plaintext = p.referralPlaintext(KEY_ID, vectorForm(spec));
  return { ...spec, length: plaintext.length, digest: digest(plaintext) };
});
const referralPk = p.publicKeyFromSecret(referralSk);
const sealed = formSpecs()
  .slice(0, 2)
  .map((spec) => ({ ...spec, sealed: e(p.sealReferral(referralPk, KEY_ID, vectorForm(spec))) }));
const shareNonce = fixed("share-nonce", 24);
const share = p.makeReferralShare(
  managerSk,
  p.publicKeyFromSecret(facilitatorSk),
  REFERRAL_ID,
  SMALL,
  { nonce: shareNonce },
);
const tampered = p.b64decode(sealed[0].sealed);
tampered[60] ^= 1;

const vectors = {
  about: "Referral vectors (docs/protocol-v1.md, Referrals) made by static/js/crypto/protocol.js.",
  generator: "tests/js/make_referral_vectors.mjs",
  key_id: KEY_ID,
  other_key_id: OTHER_KEY_ID,
  manager_secret_key: e(managerSk),
  manager_signing_public_key: e(signingPublicKey),
  facilitator_secret_key: e(facilitatorSk),
  referral_secret_key: e(referralSk),
  statement: { fields, statement: e(statement), signature: e(signature) },
  grant: { nonce: e(nonce), grant: e(grant) },
  plaintexts,
  sealed_sizes: p.referralSealedSizes(),
  sealed,
  sealed_tampered: e(tampered),
  too_long_padding: TOO_LONG,
  share: {
    referral_id: REFERRAL_ID,
    form: SMALL,
    nonce: e(shareNonce),
    share: e(share),
    sizes: p.referralShareSizes(),
  },
};
writeFileSync(OUT, `${JSON.stringify(vectors, null, 1)}\n`);
