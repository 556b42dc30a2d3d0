// client/case-epochs.js and the epochs in client/cases.js, with the real protocol, against a
// stand-in for the JSON API: the next epoch is made here and boxed only to the facilitators
// the trust log vouches for (never the one who left) and to the participants who joined; a
// browser walks back from the current key to earlier ones; a later epoch is accepted only if
// trusted staff signed it, and pinned.
import "./support/dom.mjs";

import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import {
  makeNextEpoch,
  olderCaseKeys,
  openWithCaseKeys,
  startNextEpoch,
} from "../../static/js/client/case-epochs.js";
import { NotCertifiedColleague } from "../../static/js/client/case-team.js";
import { NotGenuine, openCase, openParticipantName } from "../../static/js/client/cases.js";
import { loadSecretKey } from "../../static/js/client/session.js";
import { forgetTrust } from "../../static/js/client/trust.js";
import { protocol, storeSecretKey, wipeKeys } from "../../static/js/crypto/keys.js";
import { fakeServer, json } from "./support/fake-server.mjs";
import {
  ROOT_ID,
  TrustLog,
  caseKeyStatement,
  rootOf,
  securityEventRoutes,
  staffMember,
  trustRoutes,
  vaultRoutes,
} from "./support/trust.mjs";

const p = await protocol();
const b64 = p.b64encode;
const ME = "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const COLLEAGUE = "6e2d3c4b-5a6f-4b7c-8d9e-0f1a2b3c4d5e";
const STRANGER = "8f3e4d5c-6b7a-4c8d-9e0f-1a2b3c4d5e6f";
const CASE = "7a0e1d2c-3b4a-4c5d-8e6f-7a8b9c0d1e2f";
const JOINED = "1f2e3d4c-5b6a-4789-8abc-def012345678";
const WITHDRAWN = "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d";

/** Me signed in, a certified colleague, the trust log and my vault with the root pinned. */
async function world({ certifyColleague = true } = {}) {
  const me = staffMember(ME);
  const colleague = staffMember(COLLEAGUE);
  const sessionKey = b64(p.randomBytes(32));
  await storeSecretKey(ME, me.secretKey, sessionKey);
  const session = { account_id: ME, public_key: b64(me.publicKey), session_key: sessionKey };
  const root = staffMember(ROOT_ID, "service_manager");
  const log = new TrustLog(root);
  log.certify(root, me);
  if (certifyColleague) log.certify(root, colleague);
  const vault = vaultRoutes(me, { pins: { root: rootOf(root) } });
  const [personSk, personPk] = p.generateIdentity();
  const participants = [
    { participant_id: JOINED, joined: true, withdrawn_at: null, account_public_key: b64(personPk) },
    { participant_id: WITHDRAWN, joined: true, withdrawn_at: "2026-11-01T10:00:00+00:00", account_public_key: b64(personPk) },
  ];
  const routes = {
    ...trustRoutes(log),
    ...vault.routes,
    ...securityEventRoutes,
    "GET /api/session": () => json(session),
    [`GET /api/cases/${CASE}/participants`]: () => json(participants),
  };
  return { me, colleague, root, log, routes, personSk };
}

/** The key answer of epoch `epoch` granted to me by `granter`, with `previous` grants. */
function keyAnswer(me, { caseSk, casePk, epoch, granter = me, signer = granter, previous = [] }) {
  return {
    case_id: CASE,
    epoch,
    case_public_key: b64(casePk),
    grant: b64(p.makeCaseGrant(granter.secretKey, me.publicKey, CASE, caseSk)),
    sender_account_id: granter.accountId,
    sender_public_key: b64(granter.publicKey),
    case_key_statement: caseKeyStatement(signer, CASE, casePk, { epoch }),
    previous,
    key_change_pending: false,
  };
}

beforeEach(() => {
  wipeKeys();
  forgetTrust();
});

describe("client/case-epochs.js: making the next epoch", () => {
  test("the new key goes to the team the log vouches for and to who joined; the old one rides along", async () => {
    const w = await world();
    const [oldSk, oldPk] = p.generateIdentity();
    const server = fakeServer({
      ...w.routes,
      [`GET /api/cases/${CASE}/key`]: () => json(keyAnswer(w.me, { caseSk: oldSk, casePk: oldPk, epoch: 1 })),
      [`POST /api/cases/${CASE}/key-epochs`]: () => json({ epoch: 2 }),
    });
    const opened = await openCase(await loadSecretKey(), CASE);
    const { participants } = await startNextEpoch(opened, { epoch: 2, teamIds: [ME, COLLEAGUE] });
    assert.equal(participants, 1);
    const sent = server.requests.find((r) => r.method === "POST" && r.url.endsWith("/key-epochs")).body;
    assert.equal(sent.epoch, 2);
    // Signed by me for this case, epoch 2, naming the new public key.
    const fields = p.openCaseKeyEpoch(
      w.me.signingPublicKey,
      p.b64decode(sent.case_key_statement.statement),
      p.b64decode(sent.case_key_statement.signature),
    );
    assert.deepEqual([fields.case_id, fields.epoch, fields.case_public_key, fields.issuer_account_id], [CASE, 2, sent.public_key, ME]);
    // Each facilitator opens the same new secret, matching the public key; nobody else is named.
    assert.deepEqual(sent.facilitator_grants.map((g) => g.account_id), [ME, COLLEAGUE]);
    const [mine, theirs] = sent.facilitator_grants.map((g, i) =>
      p.openCaseGrant([w.me, w.colleague][i].secretKey, w.me.publicKey, CASE, p.b64decode(g.grant)),
    );
    assert.deepEqual(mine, theirs);
    assert.equal(b64(p.publicKeyFromSecret(mine)), sent.public_key);
    // The participant who joined (not the one who withdrew) gets the new public key.
    assert.deepEqual(sent.participant_grants.map((g) => g.participant_id), [JOINED]);
    const given = p.openCasePublicGrant(w.personSk, w.me.publicKey, CASE, p.b64decode(sent.participant_grants[0].grant));
    assert.equal(b64(given), sent.public_key);
    // Whoever holds the new secret opens the old one.
    const newPk = p.b64decode(sent.public_key);
    assert.deepEqual(p.openCaseGrant(mine, newPk, CASE, p.b64decode(sent.previous_grant)), oldSk);
  });

  test("a colleague the trust log does not vouch for gets nothing, and nothing is sent", async () => {
    const w = await world({ certifyColleague: false });
    const [caseSk, casePk] = p.generateIdentity();
    const server = fakeServer({
      ...w.routes,
      [`GET /api/cases/${CASE}/key`]: () => json(keyAnswer(w.me, { caseSk, casePk, epoch: 1 })),
    });
    const opened = await openCase(await loadSecretKey(), CASE);
    await assert.rejects(makeNextEpoch(opened, { epoch: 2, teamIds: [ME, COLLEAGUE] }), NotCertifiedColleague);
    await assert.rejects(makeNextEpoch(opened, { epoch: 2, teamIds: [ME, STRANGER] }), NotCertifiedColleague);
    assert.equal(server.requests.filter((r) => r.method === "POST" && r.url.endsWith("/key-epochs")).length, 0);
  });
});

describe("client/cases.js: opening a case after epochs", () => {
  /** Three epochs, each new one granting the one before; names sealed under each. */
  function threeEpochs() {
    const epochs = [1, 2, 3].map(() => p.generateIdentity());
    const previous = [3, 2].map((epoch) => {
      const [sk, pk] = epochs[epoch - 1];
      return { epoch, grant: b64(p.makeCaseGrant(sk, pk, CASE, epochs[epoch - 2][0])) };
    });
    return { epochs, previous };
  }

  test("the current key opens the earlier ones, and a name sealed under epoch 1 still opens", async () => {
    const w = await world();
    const { epochs, previous } = threeEpochs();
    const [sk3, pk3] = epochs[2];
    fakeServer({
      ...w.routes,
      [`GET /api/cases/${CASE}/key`]: () => json(keyAnswer(w.me, { caseSk: sk3, casePk: pk3, epoch: 3, granter: w.colleague, previous })),
    });
    const opened = await openCase(await loadSecretKey(), CASE);
    assert.equal(opened.caseKey.epoch, 3);
    assert.deepEqual(opened.caseKey.older.map((o) => o.epoch), [2, 1]);
    assert.deepEqual(opened.caseKey.older[1].caseSk, epochs[0][0]);
    const sealed = p.sealCaseText(epochs[0][0], CASE, `participant-name:${JOINED}`, "Hana");
    assert.equal(await openParticipantName(opened, JOINED, b64(sealed)), "Hana");
  });

  test("an epoch made by a browser that held no earlier key leaves what came before unreadable", async () => {
    const { epochs, previous } = threeEpochs();
    const chain = olderCaseKeys(p, CASE, { epoch: 3, caseSk: epochs[2][0] }, previous.slice(0, 1));
    assert.deepEqual(chain.map((o) => o.epoch), [2]);
    // A grant that does not open stops the walk; nothing is made up.
    const broken = [{ epoch: 3, grant: previous[1].grant }];
    assert.deepEqual(olderCaseKeys(p, CASE, { epoch: 3, caseSk: epochs[2][0] }, broken), []);
    const sealed = p.sealCaseText(epochs[0][0], CASE, "participant-name:x", "Hana");
    await assert.rejects(
      openWithCaseKeys(p, { caseSk: epochs[2][0], older: chain }, (sk) =>
        p.openCaseText(sk, CASE, "participant-name:x", sealed),
      ),
      p.ProtocolError,
    );
  });

  test("a later epoch signed by someone the log does not vouch for is refused", async () => {
    const w = await world({ certifyColleague: false });
    const [sk1, pk1] = p.generateIdentity();
    const [sk2, pk2] = p.generateIdentity();
    fakeServer({ ...w.routes, [`GET /api/cases/${CASE}/key`]: () => json(keyAnswer(w.me, { caseSk: sk1, casePk: pk1, epoch: 1 })) });
    await openCase(await loadSecretKey(), CASE);
    // The server (or the colleague who left, uncertified) offers epoch 2 signed by them.
    forgetTrust();
    fakeServer({
      ...w.routes,
      [`GET /api/cases/${CASE}/key`]: () => json(keyAnswer(w.me, { caseSk: sk2, casePk: pk2, epoch: 2, signer: w.colleague })),
    });
    await assert.rejects(openCase(await loadSecretKey(), CASE), NotGenuine);
  });

  test("a later epoch signed by trusted staff is pinned; the old key of an earlier epoch is then refused", async () => {
    const w = await world();
    const [sk1, pk1] = p.generateIdentity();
    const [sk2, pk2] = p.generateIdentity();
    const serve = (answer) =>
      fakeServer({ ...w.routes, [`GET /api/cases/${CASE}/key`]: () => json(answer) });
    serve(keyAnswer(w.me, { caseSk: sk1, casePk: pk1, epoch: 1 }));
    await openCase(await loadSecretKey(), CASE);
    forgetTrust();
    serve(keyAnswer(w.me, { caseSk: sk2, casePk: pk2, epoch: 2, signer: w.colleague, granter: w.colleague }));
    assert.equal((await openCase(await loadSecretKey(), CASE)).caseKey.epoch, 2);
    // Rolled back to epoch 1 by the server: an unexplained change, refused.
    forgetTrust();
    serve(keyAnswer(w.me, { caseSk: sk1, casePk: pk1, epoch: 1 }));
    await assert.rejects(openCase(await loadSecretKey(), CASE), NotGenuine);
  });
});

describe("client/case-epochs.js: a case reassigned to me", () => {
  test("with no earlier key held, the epoch is made from nothing and carries no previous grant", async () => {
    const w = await world();
    fakeServer(w.routes);
    const keys = await loadSecretKey();
    const fields = await makeNextEpoch({ caseId: CASE, keys, caseKey: null }, { epoch: 3, teamIds: [ME] });
    assert.equal(fields.epoch, 3);
    assert.equal("previous_grant" in fields, false);
    const mine = p.openCaseGrant(w.me.secretKey, w.me.publicKey, CASE, p.b64decode(fields.facilitator_grants[0].grant));
    assert.equal(b64(p.publicKeyFromSecret(mine)), fields.public_key);
  });
});
