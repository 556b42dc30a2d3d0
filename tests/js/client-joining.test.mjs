// client/joining.js with the real protocol: joining with a code made in the inviter's browser
// (found by its lookup id, MAC checked before anything else is sent, redeemed with the redeem
// proof, root and inviter pinned in the new vault) and the setup link (the first service
// manager's own staff-cert, pinning itself as root). The fake server keeps what a real one
// would: the MAC fields as prepared, the MAC, the redeem proof's hash.
import "./support/dom.mjs";

import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { NotGenuine } from "../../static/js/client/security-events.js";
import {
  CODE_REFUSED,
  MAC_FIELDS,
  completeJoin,
  makeJoinKeys,
  protocolTime,
  startJoin,
} from "../../static/js/client/joining.js";
import { handleKdfRequest } from "../../static/js/crypto/kdf-worker.js";
import { protocol, wipeKeys } from "../../static/js/crypto/keys.js";
import { ApiError } from "../../static/js/lib/errors.js";
import { fakeServer, json } from "./support/fake-server.mjs";
import {
  FACILITATOR_ID,
  ROOT_ID,
  inviterOf,
  reported,
  rootOf,
  securityEventRoutes,
  staffMember,
} from "./support/trust.mjs";

const p = await protocol();
const ACCOUNT = "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const INVITATION = "7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d";
const PASSWORD = "quiet-lantern-orchard-velvet";
const kdf = { salt: p.b64encode(p.randomBytes(16)), ops: p.DEFAULT_KDF_OPS, mem: p.DEFAULT_KDF_MEM };

async function derive(password, salt) {
  // The standard cost is checked; the work itself is the cheapest Argon2id, to keep tests fast.
  const reply = await handleKdfRequest({ password, salt, ops: 1, mem: p.MIN_KDF_MEM });
  return { authKey: reply.authKey, wrapKey: reply.wrapKey };
}

const root = staffMember(ROOT_ID, "service_manager");
const inviter = staffMember(FACILITATOR_ID, "facilitator");

/**
 * An invitation as the inviter's browser made it: {codeText, fields, mac, lookupId, hash};
 * with `rekey`, a code for a new key (purpose "rekey" under the MAC).
 */
function madeInvitation({ rekey = false } = {}) {
  const [code, codeText] = p.generateInvitationCode();
  const found = p.invitationSecrets(code);
  const fields = {
    invitation_id: INVITATION,
    account_id: ACCOUNT,
    role: "supporter",
    case_id: null,
    participant_id: null,
    inviter_account_id: inviter.accountId,
    inviter_box_public_key: p.b64encode(inviter.publicKey),
    inviter_signing_public_key: p.b64encode(inviter.signingPublicKey),
    root_account_id: root.accountId,
    root_signing_public_key: p.b64encode(root.signingPublicKey),
    expires_at: "2026-12-01T09:00:00Z",
    ...(rekey ? { purpose: "rekey" } : {}),
  };
  return {
    codeText,
    fields,
    mac: p.b64encode(p.invitationMac(found.macKey, fields)),
    lookupId: found.lookupId,
    hash: p.b64encode(p.invitationRedeemHash(found.redeemProof)),
  };
}

/** The server: answers the lookup id with `served` fields (a breached one swaps them). */
function joinServer(made, { served = made.fields, purpose = "invite" } = {}) {
  let blob = null;
  const state = { created: null, vault: () => null };
  const server = fakeServer({
    ...securityEventRoutes,
    "POST /api/join/start": ({ body }) =>
      body.lookup_id === made.lookupId
        ? json({ ...served, mac: made.mac, kdf, role_label: "Supporter", purpose })
        : json({ error: CODE_REFUSED }, { status: 410 }),
    "POST /api/join/complete": ({ body }) => {
      const hash = p.b64encode(p.invitationRedeemHash(p.b64decode(body.redeem_proof)));
      if (hash !== made.hash || body.lookup_id !== made.lookupId) {
        return json({ error: CODE_REFUSED }, { status: 410 });
      }
      state.created = body;
      return json({
        account_id: ACCOUNT,
        public_key: body.public_key,
        signing_public_key: body.signing_public_key,
        session_key: p.b64encode(p.randomBytes(32)),
        next: "/home",
        root: rootOf(root),
      });
    },
    "GET /api/vault": () => json({ blob }),
    "PUT /api/vault": ({ body }) => {
      blob = body.blob;
      return json({ ok: true });
    },
  });
  state.server = server;
  state.vault = (keys) => p.openVault(keys.secretKey, ACCOUNT, p.b64decode(blob));
  return state;
}

beforeEach(() => wipeKeys());

describe("client/joining.js: an invitation made in a browser", () => {
  test("found by lookup id, MAC checked, redeemed with the proof; root and inviter pinned", async () => {
    const made = madeInvitation();
    const state = joinServer(made);
    const invitation = await startJoin(made.codeText.toLowerCase());
    assert.deepEqual(state.server.requests[0].body, { lookup_id: made.lookupId });
    assert.equal(invitation.accountId, ACCOUNT);
    assert.equal(invitation.roleLabel, "Supporter");
    assert.equal(invitation.purpose, "invite");

    const { keys } = await makeJoinKeys(invitation, PASSWORD, { derive });
    const secretCopy = new Uint8Array(keys.secretKey);
    const signing = p.signingPublicKeyFromSecret(keys.secretKey);
    assert.equal(keys.wire.signing_public_key, p.b64encode(signing));
    assert.equal(keys.wire.staff_cert, undefined);
    const done = await completeJoin(invitation, "Ash", keys);
    assert.equal(state.created.lookup_id, made.lookupId);
    assert.equal(state.created.code, undefined);
    const both = p.identityFingerprintDigits(p.publicKeyFromSecret(secretCopy), signing);
    assert.equal(done.fingerprint, p.formatFingerprint(both));

    const pins = state.vault({ secretKey: secretCopy }).pins;
    assert.deepEqual(pins.root, rootOf(root));
    assert.deepEqual(pins.inviter, inviterOf(inviter));
    // The code itself and the MAC key never left the browser.
    const sent = JSON.stringify(state.server.requests);
    assert.equal(sent.includes(made.codeText), false);
    assert.deepEqual(reported(state.server), []);
  });

  for (const swapped of ["inviter_box_public_key", "inviter_signing_public_key", "root_signing_public_key"]) {
    test(`a served ${swapped} the code did not MAC is refused, reported, nothing redeemed`, async () => {
      const made = madeInvitation();
      const mallory = staffMember(FACILITATOR_ID);
      const key = swapped.startsWith("inviter_box") ? mallory.publicKey : mallory.signingPublicKey;
      const state = joinServer(made, { served: { ...made.fields, [swapped]: p.b64encode(key) } });
      const refusal = await startJoin(made.codeText).catch((e) => e);
      assert.ok(refusal instanceof NotGenuine);
      assert.equal(refusal.kind, "invitation-not-genuine");
      assert.match(refusal.message, /could not be confirmed as coming from the service/);
      assert.match(refusal.message, /nothing was done/);
      await new Promise((resolve) => setTimeout(resolve, 0));
      assert.deepEqual(reported(state.server), [
        { kind: "invitation-not-genuine", lookup_id: made.lookupId },
      ]);
      const urls = state.server.requests.map((r) => r.url);
      assert.deepEqual(urls, ["/api/join/start", "/api/security-events"]);
    });
  }

  test("a code for a new key says so under its MAC, and the page is told", async () => {
    const made = madeInvitation({ rekey: true });
    joinServer(made, { purpose: "rekey" });
    assert.equal((await startJoin(made.codeText)).purpose, "rekey");
  });

  test("a join code served as a code for a new key is refused, and the reverse", async () => {
    for (const [rekey, purpose] of [[false, "rekey"], [true, "invite"]]) {
      const made = madeInvitation({ rekey });
      const state = joinServer(made, { purpose });
      const refusal = await startJoin(made.codeText).catch((e) => e);
      assert.ok(refusal instanceof NotGenuine, purpose);
      assert.equal(refusal.kind, "invitation-not-genuine");
      assert.deepEqual(state.server.requests.map((r) => r.url).slice(0, 1), ["/api/join/start"]);
    }
  });

  test("a missing MAC or field is refused too", async () => {
    const made = madeInvitation();
    const { case_id: _dropped, ...fewer } = made.fields;
    joinServer({ ...made }, { served: { ...fewer, role: "participant" } });
    await assert.rejects(startJoin(made.codeText), NotGenuine);
    assert.equal(MAC_FIELDS.length, 11);
  });

  test("a code that is not one is refused at the field before any request", async () => {
    const state = joinServer(madeInvitation());
    const refusal = await startJoin("not a code").catch((e) => e);
    assert.ok(refusal instanceof ApiError);
    assert.equal(refusal.field, "code");
    assert.equal(state.server.requests.length, 0);
  });
});

describe("client/joining.js: the setup link", () => {
  test("sends its own staff-cert and pins itself as root", async () => {
    let blob = null;
    let created = null;
    fakeServer({
      "POST /api/join/start": () =>
        json({ account_id: ACCOUNT, role: "service_manager", role_label: "Service manager", kdf }),
      "POST /api/join/complete": ({ body }) => {
        created = body;
        return json({
          account_id: ACCOUNT,
          public_key: body.public_key,
          signing_public_key: body.signing_public_key,
          session_key: p.b64encode(p.randomBytes(32)),
          next: "/home",
          root: { account_id: ACCOUNT, signing_public_key: body.signing_public_key },
        });
      },
      "GET /api/vault": () => json({ blob }),
      "PUT /api/vault": ({ body }) => {
        blob = body.blob;
        return json({ ok: true });
      },
    });
    const invitation = await startJoin("ABCD-EFGH-JKMN-PQRS", { setup: true });
    const { keys } = await makeJoinKeys(invitation, PASSWORD, { derive });
    const secretCopy = new Uint8Array(keys.secretKey);
    await completeJoin(invitation, "Morgan", keys);
    assert.equal(created.code, "ABCD-EFGH-JKMN-PQRS");
    const signing = p.b64decode(created.signing_public_key);
    const cert = p.openStaffCert(
      signing,
      p.b64decode(created.staff_cert.statement),
      p.b64decode(created.staff_cert.signature),
    );
    assert.equal(cert.account_id, ACCOUNT);
    assert.equal(cert.issuer_account_id, ACCOUNT);
    assert.equal(cert.role, "service_manager");
    assert.equal(cert.box_public_key, created.public_key);
    assert.match(cert.issued_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const pins = p.openVault(secretCopy, ACCOUNT, p.b64decode(blob)).pins;
    assert.deepEqual(pins.root, { account_id: ACCOUNT, signing_public_key: created.signing_public_key });
  });

  test("protocolTime is whole seconds in UTC", () => {
    assert.equal(protocolTime(new Date("2026-11-01T09:00:00.123Z")), "2026-11-01T09:00:00Z");
  });
});
