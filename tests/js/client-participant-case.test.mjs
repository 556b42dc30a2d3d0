// client/participant-case.js with the real protocol: the case public key (and so the
// facilitator's security number) is trusted only from a facilitator's grant that opens with my
// key, for my case; never from a bare field the server could swap. The grant's sender must be
// trusted staff (the real trust log, or my pinned inviter), a case-key statement by trusted
// staff must name the same key, and the key is pinned per case.
import "./support/dom.mjs";

import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import {
  NotGenuine,
  caseKeyCheck,
  caseKeyStatus,
  loadCaseContext,
} from "../../static/js/client/participant-case.js";
import { TrustNotSetUp, forgetTrust } from "../../static/js/client/trust.js";
import { settle } from "./support/dom.mjs";
import { fakeServer, json } from "./support/fake-server.mjs";
import { CASE_ID, participantWorld } from "./support/participant.mjs";
import {
  LATER,
  OTHER_FACILITATOR_ID,
  caseKeyStatement,
  inviterOf,
  reported,
  rootOf,
  staffMember,
} from "./support/trust.mjs";

beforeEach(() => forgetTrust());

/** The world's server, with GET /api/me/case answering meCase(extra). */
function serve(world, extra = {}, routes = {}) {
  return fakeServer({
    ...world.routes,
    "GET /api/me/case": () => json(world.meCase(extra)),
    ...routes,
  });
}

/** A grant of the world's case key (or `casePk`) made by `sender` for the author. */
function grantFrom(world, sender, casePk = world.caseKeys.publicKey) {
  const { p } = world;
  return {
    case_public_grant: p.b64encode(
      p.makeCasePublicGrant(sender.secretKey, world.author.publicKey, CASE_ID, casePk),
    ),
    grant_sender_account_id: sender.accountId,
    grant_sender_public_key: p.b64encode(sender.publicKey),
  };
}

async function refusedWith(world, server, kind) {
  const context = await loadCaseContext(world.p, world.author);
  assert.equal(context.status, "refused");
  assert.equal(context.casePublicKey, null);
  assert.equal(context.facilitatorPublicKey, null);
  assert.ok(context.problem instanceof NotGenuine);
  assert.equal(context.problem.kind, kind);
  assert.match(
    context.problem.message,
    /could not be confirmed as coming from your facilitator\b.*Nothing was opened\. Please tell your facilitator or the service\./,
  );
  await settle();
  assert.deepEqual(reported(server), [{ kind, case_id: CASE_ID }]);
  return context;
}

describe("client/participant-case.js: a case key the chain vouches for", () => {
  test("a grant the facilitator made for me opens: the case key and who vouched for it", async () => {
    const world = participantWorld();
    const server = serve(world);
    const context = await loadCaseContext(world.p, world.author);
    assert.equal(context.status, "confirmed");
    assert.deepEqual([...context.casePublicKey], [...world.caseKeys.publicKey]);
    assert.deepEqual([...context.facilitatorPublicKey], [...world.facilitator.publicKey]);
    assert.equal(context.me.case_id, CASE_ID);
    assert.equal(context.problem, null);
    assert.equal(await caseKeyStatus(world.author), "confirmed");
    // Pinned: the case key, and the log as it was seen.
    const pins = world.vault.data().pins;
    assert.deepEqual(pins.cases[CASE_ID], {
      epoch: 1,
      case_public_key: world.p.b64encode(world.caseKeys.publicKey),
    });
    assert.deepEqual(pins.trust_log, world.log.pin());
    assert.deepEqual(reported(server), []);
  });

  test("my pinned inviter counts as trusted staff, even before they are certified", async () => {
    const world = participantWorld();
    const inviter = staffMember(OTHER_FACILITATOR_ID);
    world.vault.set({ pins: { root: rootOf(world.root), inviter: inviterOf(inviter) } });
    serve(world, {
      ...grantFrom(world, inviter),
      case_key_statement: caseKeyStatement(inviter, CASE_ID, world.caseKeys.publicKey),
    });
    assert.equal((await caseKeyCheck(world.author)).status, "confirmed");
  });

  test("a later epoch signed by trusted staff replaces the pinned key", async () => {
    const world = participantWorld();
    serve(world);
    await loadCaseContext(world.p, world.author);
    forgetTrust();
    const [, newPk] = world.p.generateIdentity();
    serve(world, {
      ...grantFrom(world, world.facilitator, newPk),
      case_key_statement: caseKeyStatement(world.facilitator, CASE_ID, newPk, { epoch: 2 }),
    });
    const context = await loadCaseContext(world.p, world.author);
    assert.equal(context.status, "confirmed");
    assert.equal(world.vault.data().pins.cases[CASE_ID].epoch, 2);
  });
});

describe("client/participant-case.js: what is not trusted", () => {
  test("no grant yet is missing, and nothing is trusted", async () => {
    const world = participantWorld();
    serve(world, { case_public_grant: null });
    const context = await loadCaseContext(world.p, world.author);
    assert.equal(context.status, "missing");
    assert.equal(context.casePublicKey, null);
    assert.equal(context.facilitatorPublicKey, null);
  });

  test("a grant said to be from the facilitator who did not make it fails", async () => {
    const world = participantWorld();
    const impostor = staffMember(world.facilitator.accountId);
    serve(world, {
      case_public_grant: grantFrom(world, impostor).case_public_grant,
    });
    assert.equal((await loadCaseContext(world.p, world.author)).status, "failed");
    assert.equal(await caseKeyStatus(world.author), "failed");
  });

  test("a grant for another case fails", async () => {
    const world = participantWorld();
    const otherCase = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
    serve(world, { case_id: otherCase });
    assert.equal((await loadCaseContext(world.p, world.author)).status, "failed");
  });

  test("an answer about another account fails", async () => {
    const world = participantWorld();
    serve(world, { account_id: "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b" });
    assert.equal((await loadCaseContext(world.p, world.author)).status, "failed");
  });

  test("a grant from an account the log does not certify is refused and reported", async () => {
    const world = participantWorld();
    const stranger = staffMember(OTHER_FACILITATOR_ID);
    const server = serve(world, {
      ...grantFrom(world, stranger),
      case_key_statement: caseKeyStatement(stranger, CASE_ID, world.caseKeys.publicKey),
    });
    await refusedWith(world, server, "case-grant-not-genuine");
    assert.equal(world.vault.data().pins.cases, undefined); // nothing pinned
  });

  test("a grant from a revoked facilitator is refused", async () => {
    const world = participantWorld();
    world.log.revoke(world.root, world.facilitator, { revokedAt: LATER });
    const server = serve(world);
    await refusedWith(world, server, "case-grant-not-genuine");
  });

  test("a swapped case public key (granted, but not the signed one) is refused", async () => {
    const world = participantWorld();
    const [, swappedPk] = world.p.generateIdentity();
    const server = serve(world, grantFrom(world, world.facilitator, swappedPk));
    await refusedWith(world, server, "case-key-not-genuine");
  });

  test("no signed case key at all is refused", async () => {
    const world = participantWorld();
    const server = serve(world, { case_key_statement: null });
    await refusedWith(world, server, "case-key-not-genuine");
  });

  test("a case key signed by an uncertified account is refused", async () => {
    const world = participantWorld();
    const stranger = staffMember(OTHER_FACILITATOR_ID);
    const server = serve(world, {
      case_key_statement: caseKeyStatement(stranger, CASE_ID, world.caseKeys.publicKey),
    });
    await refusedWith(world, server, "case-key-not-genuine");
  });

  test("a case key signed for another case is refused", async () => {
    const world = participantWorld();
    const otherCase = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
    const server = serve(world, {
      case_key_statement: caseKeyStatement(world.facilitator, otherCase, world.caseKeys.publicKey),
    });
    await refusedWith(world, server, "case-key-not-genuine");
  });

  test("a changed case key with no later epoch, after the pin, is refused", async () => {
    const world = participantWorld();
    serve(world);
    assert.equal((await loadCaseContext(world.p, world.author)).status, "confirmed");
    forgetTrust();
    // The server replays a grant and statement of another key of the same epoch.
    const [, otherPk] = world.p.generateIdentity();
    const server = serve(world, {
      ...grantFrom(world, world.facilitator, otherPk),
      case_key_statement: caseKeyStatement(world.facilitator, CASE_ID, otherPk),
    });
    await refusedWith(world, server, "case-key-not-genuine");
    const pinned = world.vault.data().pins.cases[CASE_ID];
    assert.equal(pinned.case_public_key, world.p.b64encode(world.caseKeys.publicKey));
  });

  test("a server with no trust data (404) is refused, never accepted", async () => {
    const world = participantWorld();
    const server = serve(world, {}, {
      "GET /api/trust": () => json({ error: "Not found." }, { status: 404 }),
    });
    const context = await loadCaseContext(world.p, world.author);
    assert.equal(context.status, "refused");
    assert.equal(context.problem.kind, "trust-log-not-genuine");
    await settle();
    assert.deepEqual(reported(server), [{ kind: "trust-log-not-genuine" }]);
  });

  test("no root pinned yet: nothing is trusted until the next sign-in", async () => {
    const world = participantWorld();
    world.vault.set({});
    serve(world);
    await assert.rejects(loadCaseContext(world.p, world.author), TrustNotSetUp);
  });
});
