// client/cases.js with the real protocol (libsodium in node), against a stand-in for the JSON API
// that keeps what the server would: the case's public key, the grant of its secret key to a
// facilitator, the vault blob it cannot open.
import "./support/dom.mjs";

import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import {
  CaseKeyUnavailable,
  NameNotOpened,
  VaultUnreadable,
  forgetCase,
  giveCaseKey,
  keyCheck,
  loadPins,
  newCaseFields,
  openCase,
  openCaseKey,
  openParticipantName,
  pinComparedKey,
  sealParticipantName,
  securityNumber,
} from "../../static/js/client/cases.js";
import { loadSecretKey } from "../../static/js/client/session.js";
import { protocol, storeSecretKey, wipeKeys } from "../../static/js/crypto/keys.js";
import { ApiError } from "../../static/js/lib/errors.js";
import { fakeServer, json } from "./support/fake-server.mjs";

const p = await protocol();
const ME = "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const CASE = "7a0e1d2c-3b4a-4c5d-8e6f-7a8b9c0d1e2f";
const OTHER_CASE = "0b7e3f7a-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
const PARTICIPANT = "1f2e3d4c-5b6a-4789-8abc-def012345678";
const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A facilitator signed in in this tab: their key pair, kept as client/session.js finds it. */
async function signedInFacilitator() {
  const [secretKey, publicKey] = p.generateIdentity();
  const sessionKey = p.b64encode(p.randomBytes(32));
  await storeSecretKey(ME, secretKey, sessionKey);
  const session = { account_id: ME, public_key: p.b64encode(publicKey), session_key: sessionKey };
  return { secretKey, publicKey, session };
}

/** My keys for this tab, as a page loads them (client/session.js). */
async function myKeys(me) {
  fakeServer({ "GET /api/session": () => json(me.session) });
  return loadSecretKey();
}

/** A case as the server keeps it: its public key and the grant of its secret key to me. */
function caseFor(me, { caseId = CASE, grantedFor = caseId } = {}) {
  const [caseSk, casePk] = p.generateIdentity();
  const grant = p.makeCaseGrant(me.secretKey, me.publicKey, grantedFor, caseSk);
  return {
    caseSk,
    casePk,
    key: {
      case_id: caseId,
      epoch: 1,
      case_public_key: p.b64encode(casePk),
      grant: p.b64encode(grant),
      sender_public_key: p.b64encode(me.publicKey),
    },
  };
}

function serverFor(me, theCase, routes = {}) {
  return fakeServer({
    "GET /api/session": () => json(me.session),
    [`GET /api/cases/${CASE}/key`]: () => json(theCase.key),
    ...routes,
  });
}

beforeEach(() => wipeKeys());

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
    assert.deepEqual(Object.keys(fields).sort(), ["case_id", "grant", "public_key"]);
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

  test("a case public key the server swapped is noticed", async () => {
    const me = await signedInFacilitator();
    const theCase = caseFor(me);
    theCase.key.case_public_key = p.b64encode(p.generateIdentity()[1]);
    serverFor(me, theCase);
    const refusal = await openCaseKey(await loadSecretKey(), CASE).catch((e) => e);
    assert.ok(refusal instanceof CaseKeyUnavailable);
    assert.match(refusal.message, /do not match each other/);
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
