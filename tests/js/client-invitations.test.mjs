// client/invitations.js with the real protocol: the inviter's browser reserves an invitation,
// makes the code, MACs exactly the contract's fields and seals what the server may keep; the
// code that comes back joins (client/joining.js checks the MAC against what the server keeps).
// A reservation naming another root than the pinned one is refused before anything is sealed.
import "./support/dom.mjs";

import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { joinLink, makeInvitation } from "../../static/js/client/invitations.js";
import { startJoin } from "../../static/js/client/joining.js";
import { NotGenuine } from "../../static/js/client/security-events.js";
import { TrustNotSetUp } from "../../static/js/client/trust.js";
import { protocol } from "../../static/js/crypto/keys.js";
import { fakeServer, json } from "./support/fake-server.mjs";
import {
  FACILITATOR_ID,
  ROOT_ID,
  inviterOf,
  reported,
  rootOf,
  securityEventRoutes,
  staffMember,
  vaultRoutes,
} from "./support/trust.mjs";

const p = await protocol();
const CASE = "8f0e4c1a-2b3d-4e5f-9a6b-7c8d9e0f1a2b";
const PARTICIPANT = "3c2b1a0f-9e8d-4c7b-a6f5-e4d3c2b1a0f9";
const INVITATION = "7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d";
const NEW_ACCOUNT = "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

const root = staffMember(ROOT_ID, "service_manager");
const facilitator = staffMember(FACILITATOR_ID);
const loadKeys = async () => ({ accountId: facilitator.accountId, secretKey: facilitator.secretKey });

/** A server that keeps what it is given and serves the MAC fields as prepared. */
function inviteServer({ served = rootOf(root), pinned = rootOf(root) } = {}) {
  const kept = {};
  const vault = vaultRoutes(facilitator, pinned ? { pins: { root: pinned } } : {});
  const server = fakeServer({
    ...vault.routes,
    ...securityEventRoutes,
    "POST /api/invitations/prepare": ({ body }) => {
      kept.prepared = body;
      return json({
        invitation_id: INVITATION,
        account_id: NEW_ACCOUNT,
        expires_at: "2026-12-01T09:00:00Z",
        root: served,
      });
    },
    [`POST /api/invitations/${INVITATION}/seal`]: ({ body }) => {
      kept.sealed = body;
      return json({ invitation_id: INVITATION, expires_at: "2026-12-01T09:00:00Z" });
    },
    "POST /api/join/start": ({ body }) => {
      if (body.lookup_id !== kept.sealed?.lookup_id) return json({ error: "no" }, { status: 410 });
      const inviter = inviterOf(facilitator);
      return json({
        invitation_id: INVITATION,
        account_id: NEW_ACCOUNT,
        role: kept.prepared.role,
        case_id: kept.prepared.participant_id ? CASE : null,
        participant_id: kept.prepared.participant_id ?? null,
        inviter_account_id: inviter.account_id,
        inviter_box_public_key: inviter.box_public_key,
        inviter_signing_public_key: inviter.signing_public_key,
        root_account_id: ROOT_ID,
        root_signing_public_key: rootOf(root).signing_public_key,
        expires_at: "2026-12-01T09:00:00Z",
        mac: kept.sealed.mac,
        kdf: { salt: p.b64encode(p.randomBytes(16)), ops: 3, mem: 64 << 20 },
        role_label: "Participant",
        purpose: kept.servedPurpose ?? (kept.prepared.rekey ? "rekey" : "invite"),
      });
    },
  });
  return { server, kept };
}

beforeEach(() => {
  globalThis.location = new URL("https://portal.test/cases/x");
});

describe("client/invitations.js", () => {
  test("a participant's invitation: the code joins, and never reached the server", async () => {
    const { server, kept } = inviteServer();
    const issued = await makeInvitation(
      { role: "participant", caseId: CASE, participantId: PARTICIPANT },
      { loadKeys },
    );
    assert.deepEqual(kept.prepared, { role: "participant", participant_id: PARTICIPANT });
    assert.equal(issued.invitationId, INVITATION);
    assert.equal(issued.link, `https://portal.test/join#code=${issued.codeText}`);
    assert.match(kept.sealed.lookup_id, /^[0-9a-f]{32}$/);
    assert.equal(JSON.stringify(server.requests).includes(issued.codeText), false);
    // The joiner's browser accepts what was sealed.
    const invitation = await startJoin(issued.codeText);
    assert.equal(invitation.accountId, NEW_ACCOUNT);
    assert.deepEqual(invitation.inviter, inviterOf(facilitator));
    assert.deepEqual(invitation.root, rootOf(root));
  });

  test("a code for a new key says so under its MAC: served as a join code it is refused", async () => {
    const { kept } = inviteServer();
    const details = { role: "participant", caseId: CASE, participantId: PARTICIPANT, rekey: true };
    const issued = await makeInvitation(details, { loadKeys });
    assert.equal(kept.prepared.rekey, true);
    assert.equal((await startJoin(issued.codeText)).purpose, "rekey");
    kept.servedPurpose = "invite";
    assert.ok((await startJoin(issued.codeText).catch((e) => e)) instanceof NotGenuine);
  });

  test("a staff invitation names no case and no participant", async () => {
    const { kept } = inviteServer();
    const issued = await makeInvitation({ role: "facilitator", caseId: CASE }, { loadKeys });
    assert.deepEqual(kept.prepared, { role: "facilitator" });
    const invitation = await startJoin(issued.codeText);
    assert.equal(invitation.role, "facilitator");
  });

  test("a reservation naming another root is refused and reported; nothing is sealed", async () => {
    const other = staffMember(ROOT_ID, "service_manager");
    const { server, kept } = inviteServer({ served: rootOf(other) });
    await assert.rejects(makeInvitation({ role: "supporter" }, { loadKeys }), NotGenuine);
    assert.equal(kept.sealed, undefined);
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.deepEqual(reported(server), [{ kind: "trust-log-not-genuine" }]);
  });

  test("with no root pinned nothing is reserved", async () => {
    const { kept } = inviteServer({ pinned: null });
    await assert.rejects(makeInvitation({ role: "supporter" }, { loadKeys }), TrustNotSetUp);
    assert.equal(kept.prepared, undefined);
  });

  test("joinLink carries the code in the fragment", () => {
    assert.equal(joinLink("ABCD", "https://x.test"), "https://x.test/join#code=ABCD");
  });
});
