// client/readers.js with the real protocol: which supporters get a grant on approval (only keys
// this facilitator pinned after comparing them in person), and that the grant opens the letter.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { readerGrants, readerKeyStatus } from "../../static/js/client/readers.js";
import { protocol } from "../../static/js/crypto/keys.js";

const p = await protocol();
const b64 = (bytes) => p.b64encode(bytes);
const OBJECT = "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d";

function reader(id) {
  const [secretKey, publicKey] = p.generateIdentity();
  return {
    secretKey,
    json: {
      supporter_id: id,
      account_id: `${id.slice(0, -1)}9`,
      public_key: b64(publicKey),
      verified_public_key: b64(publicKey),
    },
  };
}

describe("client/readers.js", () => {
  test("only a key pinned in my own vault counts as compared; a changed one never", () => {
    const jo = reader("bb000000-0000-4000-8000-000000000001");
    const pinned = { readable: true, data: { pins: { [jo.json.account_id]: jo.json.public_key } } };
    assert.equal(readerKeyStatus(jo.json, pinned), "verified");
    assert.notEqual(readerKeyStatus(jo.json, { readable: true, data: {} }), "verified");
    assert.equal(readerKeyStatus(jo.json, { readable: false, data: {} }), "unverified");
    const [, otherPk] = p.generateIdentity();
    assert.equal(readerKeyStatus({ ...jo.json, public_key: b64(otherPk) }, pinned), "changed");
  });

  test("grants go to the compared readers only, open with their key, and the content key is wiped", () => {
    const [facilitatorSk] = p.generateIdentity();
    const jo = reader("bb000000-0000-4000-8000-000000000001");
    const kim = reader("bb000000-0000-4000-8000-000000000002");
    const vault = { readable: true, data: { pins: { [jo.json.account_id]: jo.json.public_key } } };
    const key = p.generateContentKey();
    const manifestHash = p.randomBytes(32);
    const review = {
      json: { object_id: OBJECT, version: 1, readers: [jo.json, kim.json] },
      keys: { secretKey: facilitatorSk },
    };
    const grants = readerGrants(p, review, vault, [key, manifestHash]);
    assert.deepEqual(grants.map((g) => g.supporter_id), [jo.json.supporter_id]);
    const [opened] = p.openContentGrant(
      jo.secretKey,
      p.publicKeyFromSecret(facilitatorSk),
      OBJECT,
      1,
      p.b64decode(grants[0].grant),
    );
    assert.equal(opened.length, 32);
    assert.ok(key.every((byte) => byte === 0));
  });
});
