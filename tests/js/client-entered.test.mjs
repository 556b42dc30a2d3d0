// client/entered.js with the real protocol, against a stand-in for the JSON API: a letter a
// facilitator enters is sealed exactly as a participant's (the case key opens it, from the
// facilitator's key), its note opens only for its own object, the object id is asked for once,
// and an entered letter's sealer is accepted only as the trust log's key for the facilitator
// named as having entered it.
import "./support/dom.mjs";

import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import {
  enteredAuthorStatus,
  enteredIdentity,
  identityOf,
  openEnteredNote,
  revisionIdentity,
  sealEntered,
  sealEnteredNote,
} from "../../static/js/client/entered.js";
import { loadSecretKey } from "../../static/js/client/session.js";
import { forgetTrust } from "../../static/js/client/trust.js";
import { protocol, storeSecretKey, wipeKeys } from "../../static/js/crypto/keys.js";
import { fakeServer, json } from "./support/fake-server.mjs";
import {
  ROOT_ID,
  TrustLog,
  rootOf,
  securityEventRoutes,
  staffMember,
  trustRoutes,
  vaultRoutes,
} from "./support/trust.mjs";

const p = await protocol();
const ME = "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const OTHER = "6e2d3c4b-5a6f-4b7c-8d9e-0f1a2b3c4d5e";
const CASE = "7a0e1d2c-3b4a-4c5d-8e6f-7a8b9c0d1e2f";
const KAI = "8b1f2e3d-4c5b-4d6e-9f7a-8b9c0d1e2f3a";
const OBJECT = "9c2a3f4e-5d6c-4e7f-8a8b-9c0d1e2f3a4b";
const MESSAGE = "0d3b4a5f-6e7d-4f8a-9b9c-0d1e2f3a4b5c";

async function facilitator() {
  const me = staffMember(ME);
  const sessionKey = p.b64encode(p.randomBytes(32));
  await storeSecretKey(ME, me.secretKey, sessionKey);
  const session = { account_id: ME, public_key: p.b64encode(me.publicKey), session_key: sessionKey };
  const root = staffMember(ROOT_ID, "service_manager");
  const log = new TrustLog(root);
  log.certify(root, me);
  const vault = vaultRoutes(me, { pins: { root: rootOf(root) } });
  let issued = 0;
  fakeServer({
    ...trustRoutes(log),
    ...vault.routes,
    ...securityEventRoutes,
    "GET /api/session": () => json(session),
    [`POST /api/cases/${CASE}/participants/${KAI}/entered/objects`]: () => {
      issued += 1;
      return json({ object_id: OBJECT });
    },
    [`POST /api/messages/${MESSAGE}/revise-for-them/object`]: () => {
      issued += 1;
      return json({ object_id: OBJECT, version: 2 });
    },
  });
  const keys = await loadSecretKey();
  const [caseSk, casePk] = p.generateIdentity();
  const opened = { caseId: CASE, keys, caseKey: { caseSk, casePk, epoch: 1 } };
  return { me, opened, issued: () => issued };
}

beforeEach(() => {
  wipeKeys();
  forgetTrust();
});

describe("client/entered.js", () => {
  test("an entered letter opens with the case key, from my key; its note only for its object", async () => {
    const { me, opened, issued } = await facilitator();
    const identity = enteredIdentity(CASE, KAI);
    const body = await sealEntered(opened, identity, { text: "I am sorry.", note: "Read back." });
    await sealEntered(opened, identity, { text: "Again.", note: "" });
    assert.equal(issued(), 1); // the same object on every try: sent twice is refused, not doubled
    const letter = body.letter;
    const text = await p.openLetter(
      opened.caseKey.caseSk,
      me.publicKey,
      OBJECT,
      1,
      p.b64decode(body.grant_to_case),
      p.b64decode(letter.manifest),
      letter.chunks.map((c) => p.b64decode(c.data)),
    );
    assert.equal(text, "I am sorry.");
    const json_ = { object_id: OBJECT, entered: { note: body.entered_note } };
    assert.equal(await openEnteredNote(opened.caseKey.caseSk, CASE, json_), "Read back.");
    const elsewhere = { ...json_, object_id: KAI };
    await assert.rejects(openEnteredNote(opened.caseKey.caseSk, CASE, elsewhere));
    assert.equal(await openEnteredNote(opened.caseKey.caseSk, CASE, { entered: {} }), null);
  });

  test("a revision made for them is the next version of the same object, asked for once", async () => {
    const { me, opened, issued } = await facilitator();
    const identity = revisionIdentity(MESSAGE);
    const body = await sealEntered(opened, identity, { text: "Changed words.", note: "" });
    assert.deepEqual(await identityOf(identity), { objectId: OBJECT, version: 2 });
    assert.equal(issued(), 1);
    assert.equal(body.letter.version, 2);
    assert.equal(body.entered_note, undefined);
    const text = await p.openLetter(
      opened.caseKey.caseSk,
      me.publicKey,
      OBJECT,
      2,
      p.b64decode(body.grant_to_case),
      p.b64decode(body.letter.manifest),
      body.letter.chunks.map((c) => p.b64decode(c.data)),
    );
    assert.equal(text, "Changed words.");
  });

  test("a recording's or scanned pages' note opens for its own object; no note, no field", async () => {
    const { opened } = await facilitator();
    const fields = await sealEnteredNote(opened, OBJECT, "Recorded at the visit.");
    const json_ = { object_id: OBJECT, entered: { note: fields.entered_note } };
    assert.equal(await openEnteredNote(opened.caseKey.caseSk, CASE, json_), "Recorded at the visit.");
    await assert.rejects(openEnteredNote(opened.caseKey.caseSk, CASE, { ...json_, object_id: KAI }));
    assert.deepEqual(await sealEnteredNote(opened, OBJECT, ""), {});
  });

  test("the sealer must be the trust log's key of the facilitator named as entering it", async () => {
    const { me, opened } = await facilitator();
    const mine = {
      author_account_id: ME,
      author_public_key: p.b64encode(me.publicKey),
      entered: { by_account_id: ME },
    };
    assert.equal(await enteredAuthorStatus(opened.keys, mine), "entered");
    const [, strangerPk] = p.generateIdentity();
    const forged = { ...mine, author_public_key: p.b64encode(strangerPk) };
    assert.equal(await enteredAuthorStatus(opened.keys, forged), "unknown");
    const renamed = { ...mine, entered: { by_account_id: OTHER } };
    assert.equal(await enteredAuthorStatus(opened.keys, renamed), "unknown");
  });
});
