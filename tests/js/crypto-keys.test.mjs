// crypto/keys.js and crypto/vault.js with the real protocol, and the clients that fetch for
// them (client/session.js, client/vault.js) against a stand-in for the JSON API.
import "./support/dom.mjs";

import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { loadSecretKey } from "../../static/js/client/session.js";
import { VaultUnreadable, loadVault, pinKey } from "../../static/js/client/vault.js";
import {
  KeysUnavailable,
  forget,
  holdSecret,
  protocol,
  storeSecretKey,
  wipeKeys,
} from "../../static/js/crypto/keys.js";
import { keyStatus, pinFor, withPin } from "../../static/js/crypto/vault.js";
import { fakeServer, json } from "./support/fake-server.mjs";

const p = await protocol();
const ACCOUNT = "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

function identity() {
  const [secretKey, publicKey] = p.generateIdentity();
  return { accountId: ACCOUNT, secretKey, publicKey };
}

beforeEach(() => {
  wipeKeys();
});

describe("crypto/keys.js", () => {
  test("held keys are zeroed by forget and by wipeKeys", () => {
    const one = holdSecret(new Uint8Array([1, 2, 3]));
    const two = holdSecret(new Uint8Array([4, 5]));
    forget(one);
    assert.deepEqual([...one], [0, 0, 0]);
    wipeKeys();
    assert.deepEqual([...two], [0, 0]);
  });

  test("the tab's key opens only with its own session's key", async () => {
    const me = identity();
    const sessionKey = p.randomBytes(32);
    await storeSecretKey(ACCOUNT, me.secretKey, p.b64encode(sessionKey));
    const session = {
      account_id: ACCOUNT,
      session_key: p.b64encode(sessionKey),
      public_key: p.b64encode(me.publicKey),
    };
    const server = fakeServer({ "GET /api/session": () => json(session) });
    const keys = await loadSecretKey();
    assert.deepEqual([...keys.secretKey], [...me.secretKey]);
    assert.equal(keys.accountId, ACCOUNT);
    // Reading the key is not activity: the request must not extend the session.
    assert.equal(server.requests.length, 1);

    fakeServer({
      "GET /api/session": () => json({ ...session, session_key: p.b64encode(p.randomBytes(32)) }),
    });
    await assert.rejects(loadSecretKey(), KeysUnavailable);
    wipeKeys();
    assert.deepEqual([...keys.secretKey], new Array(32).fill(0));
    await assert.rejects(loadSecretKey(), KeysUnavailable); // nothing stored any more
  });
});

describe("crypto/vault.js", () => {
  test("keyStatus: pinned, changed, a colleague's word, never compared", () => {
    assert.equal(keyStatus("A", "A"), "verified");
    assert.equal(keyStatus("A", "B"), "changed");
    assert.equal(keyStatus(null, "B", "A"), "changed");
    assert.equal(keyStatus(null, "A", "A"), "colleague");
    assert.equal(keyStatus(null, "A"), "unverified");
    assert.equal(keyStatus("A", null), "unverified");
  });

  test("pins are found by the first id that has one, and added without losing others", () => {
    const data = withPin(withPin({ drafts: [1] }, "p1", "K1"), "p2", "K2");
    assert.deepEqual(data, { drafts: [1], pins: { p1: "K1", p2: "K2" } });
    assert.equal(pinFor(data, "nobody", "p2"), "K2");
    assert.equal(pinFor({}, "p1"), null);
  });
});

describe("client/vault.js", () => {
  test("pinning seals the vault; the server only ever sees ciphertext", async () => {
    const me = identity();
    let stored = null;
    const server = fakeServer({
      "GET /api/vault": () => json({ blob: stored }),
      "PUT /api/vault": ({ body }) => {
        stored = body.blob;
        return json({ ok: true });
      },
    });
    const publicKey = p.b64encode(p.randomBytes(32));
    await pinKey(me, "participant-1", publicKey);
    assert.doesNotMatch(stored, new RegExp(publicKey));
    const { data, readable } = await loadVault(me);
    assert.ok(readable);
    assert.equal(pinFor(data, "participant-1"), publicKey);
    assert.equal(server.requests.filter((r) => r.method === "PUT").length, 1);
  });

  test("a vault that does not open is never overwritten", async () => {
    const me = identity();
    const someoneElse = identity();
    const blob = p.b64encode(p.sealVault(someoneElse.secretKey, ACCOUNT, { pins: { x: "y" } }));
    const server = fakeServer({ "GET /api/vault": () => json({ blob }) });
    assert.deepEqual(await loadVault(me), { data: {}, readable: false });
    await assert.rejects(pinKey(me, "participant-1", "K"), VaultUnreadable);
    assert.equal(server.requests.filter((r) => r.method === "PUT").length, 0);
  });
});
