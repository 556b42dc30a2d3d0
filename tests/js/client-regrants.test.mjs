// client/regrants.js with the real protocol, against a stand-in for the JSON API: after a key
// change, what is owed is granted again only to a key this facilitator pinned after comparing
// it in person (never to the server's "verified" alone, never to a changed key), for exactly
// the object and version listed, and the grant opens what was released.
import "./support/dom.mjs";

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { giveAccessAgain, ownKeyStatus, regrantsFor } from "../../static/js/client/regrants.js";
import { protocol } from "../../static/js/crypto/keys.js";
import { fakeServer, json } from "./support/fake-server.mjs";

const p = await protocol();
const b64 = (bytes) => p.b64encode(bytes);
const CASE = "7a0e1d2c-3b4a-4c5d-8e6f-7a8b9c0d1e2f";
const OBJECT = "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d";
const LETTER = "I am sorry for what I did.";

function someone(accountId, participantId, supporterId = null) {
  const [secretKey, publicKey] = p.generateIdentity();
  return { secretKey, publicKey, accountId, participantId, supporterId };
}

/** A case key, a letter sealed to it by its author, and a facilitator who holds the case key. */
function world() {
  const [caseSk, casePk] = p.generateIdentity();
  const [authorSk, authorPk] = p.generateIdentity();
  const [facilitatorSk, facilitatorPk] = p.generateIdentity();
  const sealed = p.sealLetter(authorSk, authorPk, casePk, OBJECT, 2, LETTER, "2026-11-22T12:00:00Z", "aa000000-0000-4000-8000-00000000000a");
  const opened = { caseId: CASE, keys: { secretKey: facilitatorSk }, caseKey: { caseSk, casePk, epoch: 1 } };
  const item = {
    message_id: "cc000000-0000-4000-8000-000000000001",
    what: "letter",
    object_id: OBJECT,
    version: 2,
    grant: b64(sealed.grantToCase),
    case_epoch: 1,
    sender_account_id: "aa000000-0000-4000-8000-00000000000a",
    sender_public_key: b64(authorPk),
  };
  return { sealed, opened, item, facilitatorPk };
}

function owed(person, items, verifiedPk = person.publicKey) {
  return {
    participant_id: person.participantId,
    supporter_id: person.supporterId,
    account_id: person.accountId,
    public_key: b64(person.publicKey),
    verified_public_key: b64(verifiedPk),
    items,
  };
}

const pinned = (...people) => ({
  readable: true,
  data: { pins: Object.fromEntries(people.map((x) => [x.accountId, b64(x.publicKey)])) },
});

describe("client/regrants.js", () => {
  test("only a key I pinned is mine to grant to; the server's word alone is a colleague's", () => {
    const harmed = someone("aa000000-0000-4000-8000-000000000001", "bb000000-0000-4000-8000-000000000001");
    const person = owed(harmed, []);
    assert.equal(ownKeyStatus(person, pinned(harmed)), "verified");
    assert.equal(ownKeyStatus(person, { readable: true, data: {} }), "colleague");
    assert.equal(ownKeyStatus(person, { readable: false, data: {} }), "unverified");
    // Re-keyed: my pin is of the old key, so the new one is "changed" until I compare it.
    const old = { ...harmed, publicKey: p.generateIdentity()[1] };
    assert.equal(ownKeyStatus(person, pinned(old)), "changed");
  });

  test("the grant is for exactly the listed version, opens the letter with the new key", async () => {
    const w = world();
    const harmed = someone("aa000000-0000-4000-8000-000000000001", "bb000000-0000-4000-8000-000000000001");
    const [grant] = regrantsFor(p, w.opened.keys.secretKey, w.opened.caseKey, owed(harmed, [w.item]));
    assert.deepEqual([grant.object_id, grant.version], [OBJECT, 2]);
    const text = await p.openLetter(harmed.secretKey, w.facilitatorPk, OBJECT, 2, p.b64decode(grant.grant), w.sealed.manifest, w.sealed.chunks);
    assert.equal(text, LETTER);
    assert.throws(() => p.openContentGrant(harmed.secretKey, w.facilitatorPk, OBJECT, 1, p.b64decode(grant.grant)), p.ProtocolError);
  });

  test("an item that does not open with my case key, or of an epoch I cannot reach, is left out", () => {
    const w = world();
    const harmed = someone("aa000000-0000-4000-8000-000000000001", "bb000000-0000-4000-8000-000000000001");
    const damaged = { ...w.item, grant: b64(p.randomBytes(p.b64decode(w.item.grant).length)) };
    const later = { ...w.item, case_epoch: 2 };
    assert.deepEqual(regrantsFor(p, w.opened.keys.secretKey, w.opened.caseKey, owed(harmed, [damaged, later])), []);
  });

  test("an item sealed under an earlier epoch is granted with that epoch's key, reached from mine", async () => {
    const w = world(); // the letter is sealed to epoch 1's key
    const [epoch2Sk, epoch2Pk] = p.generateIdentity();
    const caseKey = { caseSk: epoch2Sk, casePk: epoch2Pk, epoch: 2, older: [{ epoch: 1, caseSk: w.opened.caseKey.caseSk }] };
    const harmed = someone("aa000000-0000-4000-8000-000000000001", "bb000000-0000-4000-8000-000000000001");
    const [grant] = regrantsFor(p, w.opened.keys.secretKey, caseKey, owed(harmed, [w.item]));
    const text = await p.openLetter(harmed.secretKey, w.facilitatorPk, OBJECT, 2, p.b64decode(grant.grant), w.sealed.manifest, w.sealed.chunks);
    assert.equal(text, LETTER);
    // Without epoch 1's key (a facilitator whose epoch was made from nothing), it stays owed.
    const without = { ...caseKey, older: [] };
    assert.deepEqual(regrantsFor(p, w.opened.keys.secretKey, without, owed(harmed, [w.item])), []);
  });

  test("giving access again posts grants for the people I compared, and nobody else", async () => {
    const w = world();
    const harmed = someone("aa000000-0000-4000-8000-000000000001", "bb000000-0000-4000-8000-000000000001");
    const reader = someone("aa000000-0000-4000-8000-000000000002", "bb000000-0000-4000-8000-000000000001", "dd000000-0000-4000-8000-000000000001");
    const colleagues = someone("aa000000-0000-4000-8000-000000000003", "bb000000-0000-4000-8000-000000000002");
    const url = `/api/cases/${CASE}/regrants`;
    const server = fakeServer({
      [`GET ${url}`]: () =>
        json({ case_id: CASE, people: [owed(harmed, [w.item]), owed(reader, [w.item]), owed(colleagues, [w.item])] }),
      [`POST ${url}`]: () => json({ granted: 1 }),
    });
    const result = await giveAccessAgain(w.opened, pinned(harmed, reader));
    assert.equal(result.notMine, 1);
    assert.deepEqual(result.given.map((g) => [g.participantId, g.supporterId, g.count]), [
      [harmed.participantId, null, 1],
      [reader.participantId, reader.supporterId, 1],
    ]);
    const posted = server.requests.filter((r) => r.method === "POST").map((r) => r.body);
    assert.deepEqual(posted.map((b) => b.account_id), [harmed.accountId, reader.accountId]);
    assert.equal(posted[0].public_key, b64(harmed.publicKey));
    assert.doesNotMatch(JSON.stringify(posted), /sorry/);
  });

  test("what was written on a participant's behalf is granted to them and counted apart", async () => {
    const w = world();
    const responsible = someone("aa000000-0000-4000-8000-000000000004", "bb000000-0000-4000-8000-000000000004");
    const writtenFor = { ...w.item, what: "written_for" };
    const url = `/api/cases/${CASE}/regrants`;
    const server = fakeServer({
      [`GET ${url}`]: () => json({ case_id: CASE, people: [owed(responsible, [writtenFor])] }),
      [`POST ${url}`]: () => json({ granted: 1 }),
    });
    const result = await giveAccessAgain(w.opened, pinned(responsible));
    assert.deepEqual(result.given.map((g) => [g.count, g.forSide]), [[1, 1]]);
    const [posted] = server.requests.filter((r) => r.method === "POST").map((r) => r.body);
    const text = await p.openLetter(responsible.secretKey, w.facilitatorPk, OBJECT, 2, p.b64decode(posted.grants[0].grant), w.sealed.manifest, w.sealed.chunks);
    assert.equal(text, LETTER);
    // Not compared by me: nothing is granted to them from here.
    const again = await giveAccessAgain(w.opened, pinned());
    assert.deepEqual([again.given, again.notMine], [[], 1]);
  });

  test("an answer naming another case grants nothing", async () => {
    const w = world();
    const harmed = someone("aa000000-0000-4000-8000-000000000001", "bb000000-0000-4000-8000-000000000001");
    const server = fakeServer({
      [`GET /api/cases/${CASE}/regrants`]: () => json({ case_id: "another", people: [owed(harmed, [w.item])] }),
    });
    assert.deepEqual(await giveAccessAgain(w.opened, pinned(harmed)), { given: [], notMine: 0 });
    assert.equal(server.requests.filter((r) => r.method === "POST").length, 0);
  });
});
