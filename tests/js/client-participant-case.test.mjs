// client/participant-case.js with the real protocol: the case public key (and so the
// facilitator's security number) is trusted only from a facilitator's grant that opens with my
// key, for my case; never from a bare field the server could swap.
import "./support/dom.mjs";

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { caseKeyStatus, loadCaseContext } from "../../static/js/client/participant-case.js";
import { fakeServer, json } from "./support/fake-server.mjs";
import { participantWorld } from "./support/participant.mjs";

describe("client/participant-case.js", () => {
  test("a grant the facilitator made for me opens: the case key and who vouched for it", async () => {
    const { p, author, facilitator, caseKeys, meCase } = participantWorld();
    fakeServer({ "GET /api/me/case": () => json(meCase()) });
    const context = await loadCaseContext(p, author);
    assert.equal(context.status, "confirmed");
    assert.deepEqual([...context.casePublicKey], [...caseKeys.publicKey]);
    assert.deepEqual([...context.facilitatorPublicKey], [...facilitator.publicKey]);
    assert.equal(context.me.case_id, meCase().case_id);
    assert.equal(await caseKeyStatus(author), "confirmed");
  });

  test("no grant yet is missing, and nothing is trusted", async () => {
    const { p, author, meCase } = participantWorld();
    fakeServer({ "GET /api/me/case": () => json(meCase({ case_public_grant: null })) });
    const context = await loadCaseContext(p, author);
    assert.equal(context.status, "missing");
    assert.equal(context.casePublicKey, null);
    assert.equal(context.facilitatorPublicKey, null);
  });

  test("a grant said to be from someone who did not make it fails", async () => {
    const world = participantWorld();
    const stranger = participantWorld().facilitator;
    fakeServer({
      "GET /api/me/case": () =>
        json(world.meCase({ grant_sender_public_key: world.p.b64encode(stranger.publicKey) })),
    });
    const context = await loadCaseContext(world.p, world.author);
    assert.equal(context.status, "failed");
    assert.equal(context.casePublicKey, null);
    assert.equal(await caseKeyStatus(world.author), "failed");
  });

  test("a grant for another case fails", async () => {
    const { p, author, meCase } = participantWorld();
    const otherCase = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
    fakeServer({ "GET /api/me/case": () => json(meCase({ case_id: otherCase })) });
    assert.equal((await loadCaseContext(p, author)).status, "failed");
  });

  test("an answer about another account fails", async () => {
    const { p, author, meCase } = participantWorld();
    const otherAccount = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b";
    fakeServer({ "GET /api/me/case": () => json(meCase({ account_id: otherAccount })) });
    assert.equal((await loadCaseContext(p, author)).status, "failed");
  });
});
