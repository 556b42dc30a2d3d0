// client/cases.js with the real protocol (libsodium in node), against a stand-in for the JSON API
// that keeps what the server would: the case's public key, the grant of its secret key to a
// facilitator, the signed case key, the trust log that certifies the facilitator, the vault blob
// it cannot open.
import "./support/dom.mjs";

import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import {
  CaseKeyUnavailable,
  NameNotOpened,
  NotGenuine,
  VaultUnreadable,
  forgetCase,
  giveCaseKey,
  keyCheck,
  loadPins,
  newCaseFields,
  openCase,
  openCaseKey,
  openParticipantName,
  openSupporterName,
  pinComparedKey,
  sealParticipantName,
  sealSupporterName,
  securityNumber,
} from "../../static/js/client/cases.js";
import { loadSecretKey } from "../../static/js/client/session.js";
import { forgetTrust } from "../../static/js/client/trust.js";
import { protocol, storeSecretKey, wipeKeys } from "../../static/js/crypto/keys.js";
import { ApiError } from "../../static/js/lib/errors.js";
import { settle } from "./support/dom.mjs";
import { fakeServer, json } from "./support/fake-server.mjs";
import {
  OTHER_FACILITATOR_ID,
  ROOT_ID,
  TrustLog,
  caseKeyStatement,
  reported,
  rootOf,
  securityEventRoutes,
  staffMember,
  trustRoutes,
  vaultRoutes,
} from "./support/trust.mjs";

const p = await protocol();
const ME = "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const CASE = "7a0e1d2c-3b4a-4c5d-8e6f-7a8b9c0d1e2f";
const OTHER_CASE = "0b7e3f7a-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
const PARTICIPANT = "1f2e3d4c-5b6a-4789-8abc-def012345678";
const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * A facilitator signed in in this tab: their keys, kept as client/session.js finds them, the
 * service root and the trust log that certifies them (unless `certified` is false), and their
 * vault with the root pinned.
 */
async function signedInFacilitator({ certified = true } = {}) {
  const me = staffMember(ME);
  const sessionKey = p.b64encode(p.randomBytes(32));
  await storeSecretKey(ME, me.secretKey, sessionKey);
  const session = { account_id: ME, public_key: p.b64encode(me.publicKey), session_key: sessionKey };
  const root = staffMember(ROOT_ID, "service_manager");
  const log = new TrustLog(root);
  if (certified) log.certify(root, me);
  const vault = vaultRoutes(me, { pins: { root: rootOf(root) } });
  return { ...me, session, root, log, vault };
}

/** My keys for this tab, as a page loads them (client/session.js). */
async function myKeys(me) {
  fakeServer({ "GET /api/session": () => json(me.session) });
  return loadSecretKey();
}

/**
 * A case as the server keeps it: its public key, the grant of its secret key to me (made by
 * `granter`) and its case-key statement (signed by `signer`).
 */
function caseFor(me, { caseId = CASE, grantedFor = caseId, granter = me, signer = granter } = {}) {
  const [caseSk, casePk] = p.generateIdentity();
  const grant = p.makeCaseGrant(granter.secretKey, me.publicKey, grantedFor, caseSk);
  return {
    caseSk,
    casePk,
    key: {
      case_id: caseId,
      epoch: 1,
      case_public_key: p.b64encode(casePk),
      grant: p.b64encode(grant),
      sender_account_id: granter.accountId,
      sender_public_key: p.b64encode(granter.publicKey),
      case_key_statement: caseKeyStatement(signer, caseId, casePk),
    },
  };
}

function serverFor(me, theCase, routes = {}) {
  return fakeServer({
    ...trustRoutes(me.log),
    ...me.vault.routes,
    ...securityEventRoutes,
    "GET /api/session": () => json(me.session),
    [`GET /api/cases/${CASE}/key`]: () => json(theCase.key),
    ...routes,
  });
}

/** openCaseKey's refusal, checked to be NotGenuine of `kind`, reported for the case. */
async function refusedWith(server, kind) {
  const refusal = await openCaseKey(await loadSecretKey(), CASE).catch((e) => e);
  assert.ok(refusal instanceof NotGenuine, String(refusal));
  assert.equal(refusal.kind, kind);
  assert.match(refusal.message, /could not be confirmed .* Nothing was opened\. Please tell your service manager\./);
  await settle();
  assert.deepEqual(reported(server), [{ kind, case_id: CASE }]);
}

beforeEach(() => {
  wipeKeys();
  forgetTrust();
});

describe("client/cases.js: a new case", () => {
  test("makes the id and key pair here, and grants the secret key only to me", async () => {
    const me = await signedInFacilitator();
    const server = serverFor(me, caseFor(me));
    const fields = await newCaseFields();
    assert.match(fields.case_id, UUID4);
    const caseSk = p.openCaseGrant(
      me.secretKey,
      me.publicKey,
      fields.case_id,
      p.b64decode(fields.grant),
    );
    assert.equal(p.b64encode(p.publicKeyFromSecret(caseSk)), fields.public_key);
    assert.deepEqual(Object.keys(fields).sort(), [
      "case_id",
      "case_key_statement",
      "grant",
      "public_key",
    ]);
    // The case key for epoch 1, signed with the signing key derived from my identity key.
    const signed = p.openCaseKeyEpoch(
      p.signingPublicKeyFromSecret(me.secretKey),
      p.b64decode(fields.case_key_statement.statement),
      p.b64decode(fields.case_key_statement.signature),
    );
    assert.equal(signed.case_id, fields.case_id);
    assert.equal(signed.epoch, 1);
    assert.equal(signed.case_public_key, fields.public_key);
    assert.equal(signed.issuer_account_id, ME);
    assert.match(signed.issued_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // Only the session was asked for: the fields go with the form, not from here.
    assert.deepEqual(
      server.requests.map((r) => r.url),
      ["/api/session"],
    );
  });
});

describe("client/cases.js: the case key", () => {
  test("opens the grant made to me for exactly this case", async () => {
    const me = await signedInFacilitator();
    const theCase = caseFor(me);
    serverFor(me, theCase);
    const opened = await openCase(await loadSecretKey(), CASE);
    assert.equal(opened.caseId, CASE);
    assert.deepEqual([...opened.caseKey.caseSk], [...theCase.caseSk]);
    assert.deepEqual([...opened.caseKey.casePk], [...theCase.casePk]);
    forgetCase(opened);
    assert.ok(opened.caseKey.caseSk.every((b) => b === 0));
    assert.ok(opened.keys.secretKey.every((b) => b === 0));
  });

  test("no grant for me is said in words", async () => {
    const me = await signedInFacilitator();
    serverFor(me, caseFor(me), {
      [`GET /api/cases/${CASE}/key`]: () =>
        json({ error: "You do not hold this case's key yet." }, { status: 400 }),
    });
    const refusal = await openCaseKey(await loadSecretKey(), CASE).catch((e) => e);
    assert.ok(refusal instanceof CaseKeyUnavailable);
    assert.match(refusal.message, /^You do not hold this case's key yet\./);
  });

  test("a grant made for another case does not open for this one", async () => {
    const me = await signedInFacilitator();
    serverFor(me, caseFor(me, { grantedFor: OTHER_CASE }));
    const refusal = await openCaseKey(await loadSecretKey(), CASE).catch((e) => e);
    assert.ok(refusal instanceof CaseKeyUnavailable);
    assert.match(refusal.message, /could not be unlocked/);
  });

  test("a case public key the server swapped is refused before the grant is opened", async () => {
    const me = await signedInFacilitator();
    const theCase = caseFor(me);
    theCase.key.case_public_key = p.b64encode(p.generateIdentity()[1]);
    const server = serverFor(me, theCase);
    await refusedWith(server, "case-key-not-genuine");
  });

  test("a signed key that the grant's secret does not match is noticed", async () => {
    const me = await signedInFacilitator();
    const theCase = caseFor(me);
    const [, otherPk] = p.generateIdentity();
    theCase.key.case_public_key = p.b64encode(otherPk);
    theCase.key.case_key_statement = caseKeyStatement(me, CASE, otherPk);
    serverFor(me, theCase);
    const refusal = await openCaseKey(await loadSecretKey(), CASE).catch((e) => e);
    assert.ok(refusal instanceof CaseKeyUnavailable);
    assert.match(refusal.message, /do not match each other/);
  });
});

describe("client/cases.js: the case key only from trusted staff", () => {
  test("a grant and signed key from a certified colleague open, and the key is pinned", async () => {
    const me = await signedInFacilitator();
    const colleague = staffMember(OTHER_FACILITATOR_ID);
    me.log.certify(me.root, colleague);
    const theCase = caseFor(me, { granter: colleague });
    const server = serverFor(me, theCase);
    const { casePk } = await openCaseKey(await loadSecretKey(), CASE);
    assert.deepEqual([...casePk], [...theCase.casePk]);
    const pins = me.vault.data().pins;
    assert.deepEqual(pins.cases[CASE], { epoch: 1, case_public_key: p.b64encode(casePk) });
    assert.deepEqual(pins.trust_log, me.log.pin());
    assert.deepEqual(reported(server), []);
  });

  test("my own grant and signed key open while I am not certified yet", async () => {
    const me = await signedInFacilitator({ certified: false });
    serverFor(me, caseFor(me));
    const { casePk } = await openCaseKey(await loadSecretKey(), CASE);
    assert.equal(me.vault.data().pins.cases[CASE].case_public_key, p.b64encode(casePk));
  });

  test("a grant from an uncertified colleague is refused and reported", async () => {
    const me = await signedInFacilitator();
    const stranger = staffMember(OTHER_FACILITATOR_ID);
    const server = serverFor(me, caseFor(me, { granter: stranger, signer: me }));
    await refusedWith(server, "case-grant-not-genuine");
    assert.equal(me.vault.data().pins.cases, undefined);
  });

  test("a grant from a revoked colleague is refused", async () => {
    const me = await signedInFacilitator();
    const colleague = staffMember(OTHER_FACILITATOR_ID);
    me.log.certify(me.root, colleague).revoke(me.root, colleague);
    const server = serverFor(me, caseFor(me, { granter: colleague, signer: me }));
    await refusedWith(server, "case-grant-not-genuine");
  });

  test("a case key signed by an uncertified account is refused", async () => {
    const me = await signedInFacilitator();
    const stranger = staffMember(OTHER_FACILITATOR_ID);
    const server = serverFor(me, caseFor(me, { signer: stranger }));
    await refusedWith(server, "case-key-not-genuine");
  });

  test("a case with no signed key is refused", async () => {
    const me = await signedInFacilitator();
    const theCase = caseFor(me);
    theCase.key.case_key_statement = null;
    const server = serverFor(me, theCase);
    await refusedWith(server, "case-key-not-genuine");
  });

  test("a changed case key after the pin, with no later epoch, is refused", async () => {
    const me = await signedInFacilitator();
    serverFor(me, caseFor(me));
    await openCaseKey(await loadSecretKey(), CASE);
    forgetTrust();
    const server = serverFor(me, caseFor(me)); // a new key pair, signed, for epoch 1 again
    await refusedWith(server, "case-key-not-genuine");
  });

  test("a trust log that is not there is refused, never accepted", async () => {
    const me = await signedInFacilitator();
    const server = serverFor(me, caseFor(me), {
      "GET /api/trust": () => json({ error: "Not found." }, { status: 404 }),
    });
    const refusal = await openCaseKey(await loadSecretKey(), CASE).catch((e) => e);
    assert.ok(refusal instanceof NotGenuine);
    assert.equal(refusal.kind, "trust-log-not-genuine");
    assert.match(refusal.message, /Nothing was opened\. Please tell your service manager\.$/);
    await settle();
    assert.deepEqual(reported(server), [{ kind: "trust-log-not-genuine" }]);
  });
});

describe("client/cases.js: names and giving the case key", () => {
  async function opened() {
    const me = await signedInFacilitator();
    const theCase = caseFor(me);
    const server = serverFor(me, theCase, {
      [`POST /api/cases/${CASE}/participants/${PARTICIPANT}/case-key`]: () => json({ ok: true }),
    });
    return { me, theCase, server, opened: await openCase(await loadSecretKey(), CASE) };
  }

  test("a name is sealed to the case key with the participant id made here", async () => {
    const { theCase, opened: mine } = await opened();
    const fields = await sealParticipantName(mine, "Robin");
    assert.match(fields.participant_id, UUID4);
    const purpose = `participant-name:${fields.participant_id}`;
    const sealed = p.b64decode(fields.sealed_name);
    assert.equal(p.openCaseText(theCase.caseSk, CASE, purpose, sealed), "Robin");
    assert.equal(await openParticipantName(mine, fields.participant_id, fields.sealed_name), "Robin");
  });

  test("a name moved to another participant does not open", async () => {
    const { opened: mine } = await opened();
    const fields = await sealParticipantName(mine, "Robin");
    const refusal = await openParticipantName(mine, PARTICIPANT, fields.sealed_name).catch(
      (e) => e,
    );
    assert.ok(refusal instanceof NameNotOpened);
  });

  test("a supporter's name is sealed for them alone: never opened as a participant's", async () => {
    const { theCase, opened: mine } = await opened();
    const fields = await sealSupporterName(mine, "Jo");
    assert.match(fields.supporter_id, UUID4);
    const sealed = p.b64decode(fields.sealed_name);
    assert.equal(p.openCaseText(theCase.caseSk, CASE, `supporter-name:${fields.supporter_id}`, sealed), "Jo");
    assert.equal(await openSupporterName(mine, fields.supporter_id, fields.sealed_name), "Jo");
    const asParticipant = await openParticipantName(mine, fields.supporter_id, fields.sealed_name).catch(
      (e) => e,
    );
    assert.ok(asParticipant instanceof NameNotOpened);
    assert.ok((await sealSupporterName(null, "Jo").catch((e) => e)) instanceof CaseKeyUnavailable);
  });

  test("nothing is sealed without the case key", async () => {
    const refusal = await sealParticipantName(null, "Robin").catch((e) => e);
    assert.ok(refusal instanceof CaseKeyUnavailable);
    assert.match(refusal.message, /a name cannot be added/);
  });

  test("the case public key is boxed from me to the participant's key", async () => {
    const { me, theCase, server, opened: mine } = await opened();
    const [participantSk, participantPk] = p.generateIdentity();
    await giveCaseKey(mine, PARTICIPANT, p.b64encode(participantPk));
    const posted = server.requests.at(-1);
    assert.equal(posted.url, `/api/cases/${CASE}/participants/${PARTICIPANT}/case-key`);
    const casePk = p.openCasePublicGrant(
      participantSk,
      me.publicKey,
      CASE,
      p.b64decode(posted.body.grant),
    );
    assert.deepEqual([...casePk], [...theCase.casePk]);
  });

  test("a refusal to keep the grant is the server's sentence", async () => {
    const { opened: mine } = await opened();
    fakeServer({
      [`POST /api/cases/${CASE}/participants/${PARTICIPANT}/case-key`]: () =>
        json({ error: "This case is closed." }, { status: 409 }),
    });
    const refusal = await giveCaseKey(mine, PARTICIPANT, p.b64encode(p.generateIdentity()[1])).catch(
      (e) => e,
    );
    assert.ok(refusal instanceof ApiError);
    assert.equal(refusal.message, "This case is closed.");
  });
});

describe("client/cases.js: security numbers and pins", () => {
  const [, participantPk] = p.generateIdentity();
  const current = p.b64encode(participantPk);
  const participant = { accountId: ME, participantId: PARTICIPANT, publicKey: current };

  test("the number is worked out here from the public key", async () => {
    assert.equal(
      await securityNumber(current),
      p.formatFingerprint(p.fingerprintDigits(participantPk)),
    );
    assert.equal(await securityNumber("not a key"), null);
  });

  test("a key pinned here is verified; a different one has changed", () => {
    const pins = { data: { pins: { [ME]: current } }, readable: true };
    assert.equal(keyCheck(pins, participant), "verified");
    const other = p.b64encode(p.generateIdentity()[1]);
    assert.equal(keyCheck(pins, { ...participant, publicKey: other }), "changed");
  });

  test("the server's word alone is a colleague's, never mine", () => {
    const none = { data: {}, readable: true };
    assert.equal(keyCheck(none, participant), "unverified");
    assert.equal(keyCheck(none, { ...participant, verifiedPublicKey: current }), "colleague");
    const before = p.b64encode(p.generateIdentity()[1]);
    assert.equal(keyCheck(none, { ...participant, verifiedPublicKey: before }), "changed");
  });

  test("pinning keeps every other pin, sealed to my key", async () => {
    const me = await signedInFacilitator();
    const keys = await myKeys(me);
    let stored = p.b64encode(p.sealVault(me.secretKey, ME, { pins: { someone: "AAAA" } }));
    fakeServer({
      "GET /api/vault": () => json({ blob: stored }),
      "PUT /api/vault": ({ body }) => {
        stored = body.blob;
        return json({ ok: true });
      },
    });
    const pins = await pinComparedKey(keys, { ...participant, accountId: "acc" });
    assert.equal(keyCheck(pins, { ...participant, accountId: "acc" }), "verified");
    const reread = await loadPins(keys);
    assert.deepEqual(reread.data.pins, { someone: "AAAA", acc: current });
  });

  test("a vault that does not open is never written over", async () => {
    const keys = await myKeys(await signedInFacilitator());
    const server = fakeServer({
      "GET /api/vault": () => json({ blob: p.b64encode(p.randomBytes(80)) }),
    });
    assert.equal((await loadPins(keys)).readable, false);
    const refusal = await pinComparedKey(keys, participant).catch((e) => e);
    assert.ok(refusal instanceof VaultUnreadable);
    assert.ok(server.requests.every((r) => r.method === "GET"));
  });
});
