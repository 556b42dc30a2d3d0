// client/drafts.js with the real protocol: drafts are sealed to their author's own key and
// bound to their id and to the letter they change; a keeper never loses words (a failed save is
// kept and tried again) and never saves with a wiped key or after the letter was sent.
import { settle } from "./support/dom.mjs";

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { keepDraft, listDrafts } from "../../static/js/client/drafts.js";
import { fakeServer, json } from "./support/fake-server.mjs";
import { MESSAGE_ID, participantWorld } from "./support/participant.mjs";

const DRAFT_A = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const DRAFT_B = "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e";

/** A draft row as GET /api/drafts lists it, sealed by `keys`. */
function row(p, keys, draftId, data) {
  const bytes = new TextEncoder().encode(JSON.stringify({ v: 1, ...data }));
  return {
    draft_id: draftId,
    blob: p.b64encode(p.sealDraft(keys.secretKey, keys.accountId, draftId, bytes)),
    revises_message_id: data.revises_message_id ?? null,
    updated_at: "2026-11-20T09:00:00+00:00",
  };
}

function opened(p, keys, draftId, blob) {
  const bytes = p.openDraft(keys.secretKey, keys.accountId, draftId, p.b64decode(blob));
  return JSON.parse(new TextDecoder().decode(bytes));
}

describe("client/drafts.js: the drafts to carry on", () => {
  test("only mine, for this letter, not empty, newest first", async () => {
    const { p, author } = participantWorld();
    const stranger = participantWorld().facilitator;
    const rows = [
      row(p, author, DRAFT_A, { text: "Older words.", saved_at: "2026-11-20T09:00:00Z" }),
      row(p, author, DRAFT_B, { text: "Newer words.", saved_at: "2026-11-21T09:00:00Z",
        recipient_participant_id: "someone" }),
      row(p, author, crypto.randomUUID(), { text: "Changes.", revises_message_id: MESSAGE_ID }),
      row(p, author, crypto.randomUUID(), { text: "   " }),
      row(p, { ...stranger, accountId: author.accountId }, crypto.randomUUID(), { text: "Not mine." }),
      { ...row(p, author, crypto.randomUUID(), { text: "Moved." }), draft_id: crypto.randomUUID() },
    ];
    fakeServer({ "GET /api/drafts": () => json(rows) });
    const found = await listDrafts(author);
    assert.deepEqual(found.map((d) => [d.draftId, d.text, d.recipientId]), [
      [DRAFT_B, "Newer words.", "someone"],
      [DRAFT_A, "Older words.", null],
    ]);
    const changes = await listDrafts(author, MESSAGE_ID);
    assert.deepEqual(changes.map((d) => d.text), ["Changes."]);
  });
});

describe("client/drafts.js: keeping a draft", () => {
  test("words are sealed to me, bound to their id and letter, and saved", async () => {
    const { p, author } = participantWorld();
    const server = fakeServer({ [`PUT /api/drafts/${DRAFT_A}`]: () => json({ updated_at: "now" }) });
    const statuses = [];
    const keeper = await keepDraft(author, {
      draft: { draftId: DRAFT_A, text: "Dear" },
      revisesMessageId: MESSAGE_ID,
      onStatus: (sentence) => statuses.push(sentence),
    });
    keeper.changed("Dear you, I am sorry.", { recipientId: null });
    await keeper.flush();
    assert.equal(server.requests.length, 1);
    const { body } = server.requests[0];
    assert.equal(body.revises_message_id, MESSAGE_ID);
    const data = opened(p, author, DRAFT_A, body.blob);
    assert.equal(data.text, "Dear you, I am sorry.");
    assert.equal(data.revises_message_id, MESSAGE_ID);
    assert.doesNotMatch(JSON.stringify(server.requests), /sorry/);
    assert.deepEqual(statuses, ["Saved a moment ago."]);
    assert.ok(keeper.saved);
    keeper.close();
  });

  test("a failed save is kept, said calmly and tried again", async () => {
    const { author } = participantWorld();
    let tries = 0;
    const server = fakeServer({
      [`PUT /api/drafts/${DRAFT_A}`]: () =>
        (tries += 1) === 1 ? json({ error: "Busy." }, { status: 503 }) : json({ updated_at: "now" }),
    });
    const statuses = [];
    const keeper = await keepDraft(author, {
      draft: { draftId: DRAFT_A, text: "" },
      onStatus: (sentence) => statuses.push(sentence),
    });
    keeper.changed("Words worth keeping.");
    await keeper.flush();
    assert.match(statuses.at(-1), /^Not saved just now\. Your words are still here/);
    assert.equal(keeper.saved, false);
    await keeper.flush(); // the retry (it would come by itself a few seconds later)
    assert.equal(statuses.at(-1), "Saved a moment ago.");
    assert.ok(keeper.saved);
    const [first, second] = server.requests;
    assert.equal(first.body.blob, second.body.blob); // the same sealed words, not lost
    keeper.close();
  });

  test("nothing is sealed with a wiped key, and nothing is saved once sent", async () => {
    const { author } = participantWorld();
    const server = fakeServer({});
    const keeper = await keepDraft({ ...author, secretKey: new Uint8Array(32) });
    keeper.changed("Words.");
    assert.equal(keeper.draftId, null);
    const sentKeeper = await keepDraft(author);
    sentKeeper.close();
    sentKeeper.changed("Words.");
    await sentKeeper.flush();
    await settle();
    assert.equal(server.requests.length, 0);
    keeper.close();
  });

  test("after sending, the draft is forgotten on the server too", async () => {
    const { author } = participantWorld();
    const server = fakeServer({
      [`PUT /api/drafts/${DRAFT_A}`]: () => json({ updated_at: "now" }),
      [`DELETE /api/drafts/${DRAFT_A}`]: () => json({ ok: true }),
    });
    const keeper = await keepDraft(author, { draft: { draftId: DRAFT_A, text: "Old." } });
    keeper.changed("Sent words.");
    await keeper.discard();
    assert.deepEqual(server.requests.map((r) => `${r.method} ${r.url}`), [
      `DELETE /api/drafts/${DRAFT_A}`,
    ]);
  });
});
