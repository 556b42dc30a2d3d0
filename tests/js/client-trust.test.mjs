// client/trust.js with the real protocol (libsodium in node), against a stand-in for the JSON API
// serving a real trust log and keeping my vault sealed: the log is checked against the pins in
// the vault (root, {count, head}), pinned as it grows, and refused when it shrinks, forks, or
// begins anywhere but the pinned root. No trust data at all is refused, never accepted.
import "./support/dom.mjs";

import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { NotGenuine } from "../../static/js/client/security-events.js";
import {
  TrustNotSetUp,
  forgetTrust,
  isTrustedStaffBoxKey,
  loadTrust,
  pinRootOnFirstUse,
  requireTrustedSenders,
  trustedStaff,
} from "../../static/js/client/trust.js";
import { VaultUnreadable } from "../../static/js/client/vault.js";
import { protocol } from "../../static/js/crypto/keys.js";
import { ApiError } from "../../static/js/lib/errors.js";
import { settle } from "./support/dom.mjs";
import { fakeServer, json } from "./support/fake-server.mjs";
import {
  FACILITATOR_ID,
  MANAGER_ID,
  OTHER_FACILITATOR_ID,
  ROOT_ID,
  TrustLog,
  inviterOf,
  reported,
  rootOf,
  securityEventRoutes,
  staffMember,
  trustRoutes,
  vaultRoutes,
} from "./support/trust.mjs";

const p = await protocol();
const ME = "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const b64 = (bytes) => p.b64encode(bytes);

/**
 * The service as the server keeps it, and me: {me, root, facilitator, log, vault, serve(routes)}.
 * My vault starts with the root pinned (`pins`: other pins to start with instead).
 */
function world({ pins } = {}) {
  const [secretKey, publicKey] = p.generateIdentity();
  const me = { accountId: ME, secretKey, publicKey };
  const root = staffMember(ROOT_ID, "service_manager");
  const facilitator = staffMember(FACILITATOR_ID);
  const log = new TrustLog(root).certify(root, facilitator);
  const vault = vaultRoutes(me, { pins: pins ?? { root: rootOf(root) } });
  let answer = () => log.served();
  const serve = (routes = {}) =>
    fakeServer({
      ...trustRoutes(() => answer()),
      ...vault.routes,
      ...securityEventRoutes,
      ...routes,
    });
  return {
    me,
    root,
    facilitator,
    log,
    vault,
    serve,
    /** Serve `make()` as GET /api/trust's answer from now on. */
    answer(make) {
      answer = make;
    },
  };
}

/** loadTrust refuses with trust-log-not-genuine, reported. */
async function refused(w, server, options) {
  const refusal = await loadTrust(w.me, options).catch((e) => e);
  assert.ok(refusal instanceof NotGenuine, String(refusal));
  assert.equal(refusal.kind, "trust-log-not-genuine");
  await settle();
  assert.deepEqual(reported(server), [{ kind: "trust-log-not-genuine" }]);
}

beforeEach(() => forgetTrust());

describe("client/trust.js: the chain as this browser checks it", () => {
  test("the certified staff, and the log's head pinned in my vault", async () => {
    const w = world();
    w.serve();
    const staff = await trustedStaff(w.me);
    assert.deepEqual(
      staff.map((s) => [s.account_id, s.role]),
      [
        [ROOT_ID, "service_manager"],
        [FACILITATOR_ID, "facilitator"],
      ],
    );
    const facilitatorKey = b64(w.facilitator.publicKey);
    assert.equal(await isTrustedStaffBoxKey(w.me, FACILITATOR_ID, facilitatorKey), true);
    assert.equal(await isTrustedStaffBoxKey(w.me, FACILITATOR_ID, b64(w.me.publicKey)), false);
    const pins = w.vault.data().pins;
    assert.deepEqual(pins.trust_log, w.log.pin());
    assert.deepEqual(pins.root, rootOf(w.root)); // kept as it was
  });

  test("checked once per page: the log is fetched once for any number of checks", async () => {
    const w = world();
    const server = w.serve();
    await Promise.all([loadTrust(w.me), loadTrust(w.me), trustedStaff(w.me)]);
    assert.equal(server.requests.filter((r) => r.url === "/api/trust").length, 1);
  });

  test("a log that grew is accepted and its new head pinned", async () => {
    const w = world();
    w.serve();
    await loadTrust(w.me);
    forgetTrust();
    const newcomer = staffMember(OTHER_FACILITATOR_ID);
    w.log.certify(w.root, newcomer);
    const view = await loadTrust(w.me);
    assert.ok(view.isTrustedBoxKey(OTHER_FACILITATOR_ID, b64(newcomer.publicKey)));
    assert.deepEqual(w.vault.data().pins.trust_log, w.log.pin());
    assert.equal(w.vault.data().pins.trust_log.count, 3);
  });

  test("a log shorter than the one pinned is refused and reported", async () => {
    const w = world();
    w.log.certify(w.root, staffMember(OTHER_FACILITATOR_ID));
    w.serve();
    await loadTrust(w.me);
    forgetTrust();
    const shorter = w.log.served();
    shorter.log.pop();
    w.answer(() => shorter);
    await refused(w, w.serve());
    assert.equal(w.vault.data().pins.trust_log.count, 3); // the pin stays
  });

  test("a forked log (an entry replaced) is refused", async () => {
    const w = world();
    w.serve();
    await loadTrust(w.me);
    forgetTrust();
    // The same length, but the facilitator's certificate swapped for another account's.
    const fork = new TrustLog(w.root).certify(w.root, staffMember(FACILITATOR_ID));
    w.answer(() => fork.served());
    await refused(w, w.serve());
  });

  test("a served root other than the pinned one is refused", async () => {
    const w = world();
    const impostor = staffMember(MANAGER_ID, "service_manager");
    w.answer(() => ({ ...w.log.served(), root: rootOf(impostor) }));
    await refused(w, w.serve());
  });

  test("a whole log of the server's own making, from its own root, is refused", async () => {
    const w = world();
    const impostor = staffMember(ROOT_ID, "service_manager"); // the same id, another key
    const forged = new TrustLog(impostor).certify(impostor, w.facilitator);
    w.answer(() => forged.served());
    await refused(w, w.serve());
  });

  test("a log whose first entry is not the root's own certificate is refused", async () => {
    const w = world();
    const notRoot = new TrustLog(w.root);
    notRoot.entries = [];
    notRoot.certify(w.root, w.facilitator, { role: "facilitator" });
    w.answer(() => notRoot.served());
    await refused(w, w.serve());
  });

  test("no trust data (404), no root or no log is refused, never accepted", async () => {
    for (const route of [
      () => json({ error: "Not found." }, { status: 404 }),
      () => json({ root: null, log: [] }),
      () => json({ root: rootOf(world().root) }),
    ]) {
      forgetTrust();
      const w = world();
      await refused(w, w.serve({ "GET /api/trust": route }));
    }
  });

  test("a server error is said, not cached: the next call asks again", async () => {
    const w = world();
    w.serve({ "GET /api/trust": () => json({ error: "Try again." }, { status: 503 }) });
    const failure = await loadTrust(w.me).catch((e) => e);
    assert.ok(failure instanceof ApiError && !(failure instanceof NotGenuine));
    w.serve();
    assert.equal((await loadTrust(w.me)).staff.length, 2);
  });

  test("no root pinned yet: TrustNotSetUp, nothing trusted", async () => {
    const w = world({ pins: {} });
    w.serve();
    await assert.rejects(loadTrust(w.me), TrustNotSetUp);
  });

  test("a vault that does not open: nothing is trusted and nothing written", async () => {
    const w = world();
    const server = w.serve({
      "GET /api/vault": () => json({ blob: b64(p.randomBytes(80)) }),
    });
    await assert.rejects(loadTrust(w.me), VaultUnreadable);
    assert.ok(!server.requests.some((r) => r.method === "PUT"));
  });

  test("a participant's pinned inviter counts for them, not for staff", async () => {
    const inviter = staffMember(OTHER_FACILITATOR_ID); // not certified in the log
    const w = world();
    w.vault.set({ pins: { root: rootOf(w.root), inviter: inviterOf(inviter) } });
    w.serve();
    const key = b64(inviter.publicKey);
    const asParticipant = { audience: "participant" };
    const asStaff = { audience: "staff" };
    assert.equal(await isTrustedStaffBoxKey(w.me, OTHER_FACILITATOR_ID, key, asParticipant), true);
    assert.equal(await isTrustedStaffBoxKey(w.me, OTHER_FACILITATOR_ID, key, asStaff), false);
  });

  test("for staff, my own keys count (worked out from my secret key, not the server's word)", async () => {
    const w = world();
    w.serve();
    const view = await loadTrust({ ...w.me, publicKey: w.facilitator.publicKey }, {
      audience: "staff",
    });
    assert.ok(view.isTrustedBoxKey(ME, b64(w.me.publicKey)));
    assert.ok(!view.isTrustedBoxKey(ME, b64(w.facilitator.publicKey)));
    assert.deepEqual(view.signingKeysOf(ME), [b64(p.signingPublicKeyFromSecret(w.me.secretKey))]);
  });
});

describe("client/trust.js: senders of sealed content", () => {
  test("every sender must be trusted staff; missing items are skipped", async () => {
    const w = world();
    const server = w.serve();
    const fromFacilitator = {
      sender_account_id: FACILITATOR_ID,
      sender_public_key: b64(w.facilitator.publicKey),
    };
    await requireTrustedSenders(w.me, [fromFacilitator, null, undefined], {
      kind: "release-not-genuine",
    });
    const stranger = staffMember(OTHER_FACILITATOR_ID);
    const fromStranger = { sender_account_id: stranger.accountId, sender_public_key: b64(stranger.publicKey) };
    const details = { kind: "release-not-genuine", messageId: "m-1" };
    const refusal = await requireTrustedSenders(w.me, [fromFacilitator, fromStranger], details).catch(
      (e) => e,
    );
    assert.ok(refusal instanceof NotGenuine);
    // The server names an account but not its key: refused too.
    await assert.rejects(
      requireTrustedSenders(w.me, [{ sender_public_key: fromFacilitator.sender_public_key }], details),
      NotGenuine,
    );
    await settle();
    assert.deepEqual(reported(server), [
      { kind: "release-not-genuine", message_id: "m-1" },
      { kind: "release-not-genuine", message_id: "m-1" },
    ]);
  });

  test("a report that fails does not change the refusal", async () => {
    const w = world();
    w.serve({ "POST /api/security-events": () => json({ error: "No." }, { status: 500 }) });
    const fromNobody = { sender_account_id: ME, sender_public_key: b64(w.me.publicKey) };
    await assert.rejects(
      requireTrustedSenders(w.me, [fromNobody], { kind: "release-not-genuine" }),
      NotGenuine,
    );
  });
});

describe("client/trust.js: trust on first use, at sign-in", () => {
  test("with no root pinned, the served root and log are pinned", async () => {
    const w = world({ pins: {} });
    w.serve();
    await pinRootOnFirstUse(w.me);
    assert.deepEqual(w.vault.data().pins, { root: rootOf(w.root), trust_log: w.log.pin() });
    assert.equal((await loadTrust(w.me)).staff.length, 2);
  });

  test("with no vault yet, one is made with the pins", async () => {
    const w = world();
    const vault = vaultRoutes(w.me, null);
    w.serve(vault.routes);
    await pinRootOnFirstUse(w.me);
    assert.deepEqual(vault.data().pins.root, rootOf(w.root));
  });

  test("other pins are kept", async () => {
    const w = world({ pins: { "some-account": "AAAA" } });
    w.serve();
    await pinRootOnFirstUse(w.me);
    assert.equal(w.vault.data().pins["some-account"], "AAAA");
    assert.deepEqual(w.vault.data().pins.root, rootOf(w.root));
  });

  test("a pinned root is never replaced, whatever the server serves", async () => {
    const w = world();
    const impostor = staffMember(MANAGER_ID, "service_manager");
    const forged = new TrustLog(impostor);
    w.answer(() => forged.served());
    const server = w.serve();
    await pinRootOnFirstUse(w.me);
    assert.deepEqual(w.vault.data().pins, { root: rootOf(w.root) });
    assert.ok(!server.requests.some((r) => r.method === "PUT"));
  });

  test("a log that does not walk from its own root is not pinned, and is reported", async () => {
    const w = world({ pins: {} });
    w.answer(() => ({ ...w.log.served(), root: rootOf(w.facilitator) }));
    const server = w.serve();
    await pinRootOnFirstUse(w.me);
    assert.deepEqual(w.vault.data().pins, {});
    assert.deepEqual(reported(server), [{ kind: "trust-log-not-genuine" }]);
  });

  test("no root on the server, no trust endpoint, or an unreadable vault: nothing, no throw", async () => {
    for (const routes of [
      { "GET /api/trust": () => json({ root: null, log: [] }) },
      { "GET /api/trust": () => json({ error: "Not found." }, { status: 404 }) },
      { "GET /api/vault": () => json({ blob: b64(p.randomBytes(80)) }) },
    ]) {
      const w = world({ pins: {} });
      const server = w.serve(routes);
      await pinRootOnFirstUse(w.me);
      assert.ok(!server.requests.some((r) => r.method === "PUT"));
    }
  });
});
