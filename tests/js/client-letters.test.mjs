// client/letters.js with the real protocol (libsodium in node), against a stand-in for the
// JSON API: sending only what the case key may read and only while the server allows it, and
// reading my own message and the facilitator's note again only when every check passes.
import "./support/dom.mjs";

import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import {
  ContentDeleted,
  ContentNotChecked,
  NOT_CONFIRMED,
  caseKeyForSending,
  letterIdentity,
  letterToRevise,
  openFeedback,
  openMyLetter,
  openWrittenForMe,
  sealLetterBody,
} from "../../static/js/client/letters.js";
import { NotGenuine, forgetTrust } from "../../static/js/client/trust.js";
import { ApiError, ShowableError } from "../../static/js/lib/errors.js";
import { fakeServer, json } from "./support/fake-server.mjs";
import {
  MESSAGE_ID,
  OBJECT_ID,
  participantWorld,
  sealedMedia,
  sealedText,
  tampered,
} from "./support/participant.mjs";
import { FACILITATOR_ID, reported, staffMember } from "./support/trust.mjs";
import { settle } from "./support/dom.mjs";

const LETTER_URL = `GET /api/letters/${MESSAGE_ID}`;
const TEXT = "I broke your window.\n\nI am sorry for the fear it caused.";

beforeEach(() => forgetTrust());

/** Everything the browser sent, as one string. */
function sent(server) {
  return JSON.stringify(server.requests);
}

describe("client/letters.js: the case key for sending", () => {
  test("a grant from the facilitator that opens gives the case public key", async () => {
    const { author, caseKeys, meCase, routes } = participantWorld();
    fakeServer({ ...routes, "GET /api/me/case": () => json(meCase()) });
    assert.deepEqual([...(await caseKeyForSending(author))], [...caseKeys.publicKey]);
  });

  test("a grant from an account the trust log does not certify is refused and reported", async () => {
    const world = participantWorld();
    const stranger = staffMember("bb000000-0000-4000-8000-000000000009");
    const grant = world.p.makeCasePublicGrant(stranger.secretKey, world.author.publicKey,
      world.meCase().case_id, world.caseKeys.publicKey);
    const server = fakeServer({
      ...world.routes,
      "GET /api/me/case": () =>
        json(world.meCase({
          case_public_grant: world.p.b64encode(grant),
          grant_sender_account_id: stranger.accountId,
          grant_sender_public_key: world.p.b64encode(stranger.publicKey),
        })),
    });
    const refusal = await caseKeyForSending(world.author).catch((e) => e);
    assert.ok(refusal instanceof NotGenuine);
    assert.equal(refusal.kind, "case-grant-not-genuine");
    assert.match(refusal.message, /could not be confirmed as coming from your facilitator/);
    await settle();
    assert.deepEqual(reported(server), [
      { kind: "case-grant-not-genuine", case_id: world.meCase().case_id },
    ]);
    assert.ok(!server.requests.some((r) => r.url.startsWith("/api/letters")));
  });

  test("a grant that does not open for me is refused with the calm sentence", async () => {
    const world = participantWorld();
    const other = participantWorld(); // another facilitator's grant, named as if from ours
    fakeServer({
      ...world.routes,
      "GET /api/me/case": () =>
        json(world.meCase({ case_public_grant: other.meCase().case_public_grant })),
    });
    const refusal = await caseKeyForSending(world.author).catch((e) => e);
    assert.ok(refusal instanceof ShowableError);
    assert.equal(refusal.message, NOT_CONFIRMED);
  });

  test("no grant yet, and the server says nothing, is refused the same way", async () => {
    const { author, meCase, routes } = participantWorld();
    fakeServer({ ...routes, "GET /api/me/case": () => json(meCase({ case_public_grant: null })) });
    assert.equal((await caseKeyForSending(author).catch((e) => e)).message, NOT_CONFIRMED);
  });

  test("no grant yet says the server's sentence: the facilitator has to finish", async () => {
    const { author, meCase, routes } = participantWorld();
    const why = "Your facilitator has not finished setting up your case yet.";
    fakeServer({
      ...routes,
      "GET /api/me/case": () => json(meCase({ case_public_grant: null, why_not: why })),
    });
    const refusal = await caseKeyForSending(author).catch((e) => e);
    assert.ok(refusal instanceof ApiError);
    assert.equal(refusal.message, why);
  });

  test("the server's reason is said when it says nothing can be sent now", async () => {
    const { author, meCase, routes } = participantWorld();
    const why = "This case is paused at the moment, so letters cannot be sent. Your draft is kept.";
    fakeServer({
      ...routes,
      "GET /api/me/case": () => json(meCase({ can_write: false, why_not: why })),
    });
    const refusal = await caseKeyForSending(author).catch((e) => e);
    assert.ok(refusal instanceof ApiError);
    assert.equal(refusal.message, why);
  });
});

describe("client/letters.js: where a letter goes", () => {
  test("a revision uses the object and version the server rendered, asking nothing", async () => {
    const server = fakeServer({});
    const identity = letterIdentity({ objectId: OBJECT_ID, version: 3 });
    assert.deepEqual(await identity(), { objectId: OBJECT_ID, version: 3 });
    assert.equal(server.requests.length, 0);
  });

  test("a new letter asks for its object once and keeps it for every further try", async () => {
    const server = fakeServer({ "POST /api/letters/objects": () => json({ object_id: OBJECT_ID }) });
    const identity = letterIdentity();
    assert.deepEqual(await identity(), { objectId: OBJECT_ID, version: 1 });
    assert.deepEqual(await identity(), { objectId: OBJECT_ID, version: 1 });
    assert.equal(server.requests.length, 1);
  });

  test("a refused request for an object is asked again next time", async () => {
    let answers = 0;
    fakeServer({
      "POST /api/letters/objects": () =>
        (answers += 1) === 1
          ? json({ error: "Letters cannot be sent at the moment." }, { status: 409 })
          : json({ object_id: OBJECT_ID }),
    });
    const identity = letterIdentity();
    assert.ok((await identity().catch((e) => e)) instanceof ApiError);
    assert.deepEqual(await identity(), { objectId: OBJECT_ID, version: 1 });
  });
});

describe("client/letters.js: sealing a letter", () => {
  test("the body opens for the case key and for me, and holds no word in clear", async () => {
    const { p, author, caseKeys } = participantWorld();
    const server = fakeServer({});
    const identity = letterIdentity({ objectId: OBJECT_ID, version: 2 });
    const body = await sealLetterBody(author, identity, {
      text: TEXT,
      casePublicKey: caseKeys.publicKey,
    });
    assert.deepEqual(Object.keys(body).sort(), ["grant_to_author", "grant_to_case", "letter"]);
    assert.equal(body.letter.object_id, OBJECT_ID);
    assert.equal(body.letter.version, 2);
    const open = (sk, grant) =>
      p.openLetter(sk, author.publicKey, OBJECT_ID, 2, p.b64decode(grant),
        p.b64decode(body.letter.manifest), body.letter.chunks.map((c) => p.b64decode(c.data)));
    assert.equal(await open(caseKeys.secretKey, body.grant_to_case), TEXT);
    assert.equal(await open(author.secretKey, body.grant_to_author), TEXT);
    assert.doesNotMatch(JSON.stringify(body) + sent(server), /window|sorry/);
  });
});

describe("client/letters.js: reading my message again", () => {
  test("my letter opens with my own grant", async () => {
    const { author } = participantWorld();
    fakeServer({ [LETTER_URL]: () => json(sealedText(author, author.publicKey, TEXT)) });
    assert.deepEqual(await openMyLetter(author, MESSAGE_ID), { text: TEXT });
  });

  test("a chunk changed on the server opens nothing", async () => {
    const { author } = participantWorld();
    fakeServer({ [LETTER_URL]: () => json(tampered(sealedText(author, author.publicKey, TEXT))) });
    assert.ok((await openMyLetter(author, MESSAGE_ID).catch((e) => e)) instanceof ContentNotChecked);
  });

  test("a letter granted by someone else is not taken for mine", async () => {
    const { author, facilitator } = participantWorld();
    fakeServer({ [LETTER_URL]: () => json(sealedText(facilitator, author.publicKey, TEXT)) });
    assert.ok((await openMyLetter(author, MESSAGE_ID).catch((e) => e)) instanceof ContentNotChecked);
  });

  test("after my key changed, my letter granted again by my facilitator opens", async () => {
    const { p, author, facilitator, routes } = participantWorld();
    const again = {
      ...sealedText(facilitator, author.publicKey, TEXT),
      sender_account_id: FACILITATOR_ID,
      sender_public_key: p.b64encode(facilitator.publicKey),
    };
    fakeServer({ ...routes, [LETTER_URL]: () => json(again) });
    assert.deepEqual(await openMyLetter(author, MESSAGE_ID), { text: TEXT });
    assert.deepEqual(await letterToRevise(author, MESSAGE_ID), { text: TEXT, checked: true });
  });

  test("my letter granted again by an account nobody certified is refused and reported", async () => {
    const { p, author, routes } = participantWorld();
    const stranger = staffMember("bb000000-0000-4000-8000-000000000009");
    const again = {
      ...sealedText(stranger, author.publicKey, TEXT),
      sender_account_id: stranger.accountId,
      sender_public_key: p.b64encode(stranger.publicKey),
    };
    const server = fakeServer({ ...routes, [LETTER_URL]: () => json(again) });
    const refusal = await openMyLetter(author, MESSAGE_ID).catch((e) => e);
    assert.ok(refusal instanceof NotGenuine);
    await settle();
    assert.deepEqual(reported(server), [{ kind: "release-not-genuine", message_id: MESSAGE_ID }]);
  });

  test("a deleted message says so", async () => {
    const { author } = participantWorld();
    fakeServer({ [LETTER_URL]: () => json({ message_id: MESSAGE_ID, content_deleted: true }) });
    assert.ok((await openMyLetter(author, MESSAGE_ID).catch((e) => e)) instanceof ContentDeleted);
  });

  test("a message with a recording opens with its written part; the recording waits", async () => {
    const { author } = participantWorld();
    const recording = new Uint8Array(5000).map((_, i) => i % 251);
    const { answer } = sealedMedia(author, TEXT, recording);
    const server = fakeServer({ [LETTER_URL]: () => json(answer) });
    const { media } = await openMyLetter(author, MESSAGE_ID);
    assert.equal(media.letterText, TEXT);
    assert.deepEqual(media.parts.map((part) => part.kind), ["recording"]);
    assert.equal(server.requests.length, 1); // nothing of the recording is fetched yet
    media.close();
  });
});

describe("client/letters.js: a letter written on my behalf", () => {
  /** The letter a representative wrote for me, granted to me by the facilitator's browser. */
  function grantedBy(p, granter, author, text = TEXT, accountId = FACILITATOR_ID) {
    return {
      ...sealedText(granter, author.publicKey, text),
      written_for_you: true,
      sender_account_id: accountId,
      sender_public_key: p.b64encode(granter.publicKey),
    };
  }

  test("it opens with the grant the certified facilitator made me", async () => {
    const { p, author, facilitator, routes } = participantWorld();
    fakeServer({ ...routes, [LETTER_URL]: () => json(grantedBy(p, facilitator, author)) });
    assert.deepEqual(await openWrittenForMe(author, MESSAGE_ID), { text: TEXT });
  });

  test("a grant from an uncertified account is refused before it is opened, and reported", async () => {
    const { p, author, routes } = participantWorld();
    const stranger = staffMember("bb000000-0000-4000-8000-000000000009");
    const answer = grantedBy(p, stranger, author, TEXT, stranger.accountId);
    const server = fakeServer({ ...routes, [LETTER_URL]: () => json(answer) });
    const refusal = await openWrittenForMe(author, MESSAGE_ID).catch((e) => e);
    assert.ok(refusal instanceof NotGenuine);
    await settle();
    assert.deepEqual(reported(server), [{ kind: "release-not-genuine", message_id: MESSAGE_ID }]);
  });

  test("a grant the certified facilitator is named for but did not make opens nothing", async () => {
    const { p, author, facilitator, routes } = participantWorld();
    const other = participantWorld().facilitator;
    const answer = { ...grantedBy(p, other, author), sender_public_key: p.b64encode(facilitator.publicKey) };
    fakeServer({ ...routes, [LETTER_URL]: () => json(answer) });
    assert.ok((await openWrittenForMe(author, MESSAGE_ID).catch((e) => e)) instanceof ContentNotChecked);
  });

  test("a chunk changed on the server opens nothing", async () => {
    const { p, author, facilitator, routes } = participantWorld();
    fakeServer({ ...routes, [LETTER_URL]: () => json(tampered(grantedBy(p, facilitator, author))) });
    assert.ok((await openWrittenForMe(author, MESSAGE_ID).catch((e) => e)) instanceof ContentNotChecked);
  });
});

describe("client/letters.js: the facilitator's note", () => {
  test("a note granted to me by the facilitator opens", async () => {
    const { p, author, facilitator, routes } = participantWorld();
    const note = "Please say more about what you understand now.";
    const feedback = {
      ...sealedText(facilitator, author.publicKey, note),
      sender_account_id: FACILITATOR_ID,
      sender_public_key: p.b64encode(facilitator.publicKey),
    };
    const mine = sealedText(author, author.publicKey, TEXT);
    fakeServer({ ...routes, [LETTER_URL]: () => json({ ...mine, feedback }) });
    assert.equal(await openFeedback(author, MESSAGE_ID), note);
  });

  test("a note naming the facilitator's account with another key opens nothing", async () => {
    const { p, author, routes } = participantWorld();
    const other = participantWorld().facilitator; // same account id, not the certified keys
    const feedback = {
      ...sealedText(other, author.publicKey, "A note."),
      sender_account_id: FACILITATOR_ID,
      sender_public_key: p.b64encode(other.publicKey),
    };
    fakeServer({ ...routes, [LETTER_URL]: () => json({ feedback }) });
    const refusal = await openFeedback(author, MESSAGE_ID).catch((e) => e);
    assert.ok(refusal instanceof NotGenuine);
  });

  test("a note the certified facilitator is named for but did not make opens nothing", async () => {
    const { p, author, facilitator, routes } = participantWorld();
    const other = participantWorld().facilitator;
    const feedback = {
      ...sealedText(other, author.publicKey, "A note."),
      sender_account_id: FACILITATOR_ID,
      sender_public_key: p.b64encode(facilitator.publicKey),
    };
    fakeServer({ ...routes, [LETTER_URL]: () => json({ feedback }) });
    assert.ok((await openFeedback(author, MESSAGE_ID).catch((e) => e)) instanceof ContentNotChecked);
  });

  test("a note from an uncertified account is refused before it is opened, and reported", async () => {
    const { p, author, routes } = participantWorld();
    const stranger = staffMember("bb000000-0000-4000-8000-000000000009");
    const feedback = {
      ...sealedText(stranger, author.publicKey, "A note from nobody we know."),
      sender_account_id: stranger.accountId,
      sender_public_key: p.b64encode(stranger.publicKey),
    };
    const server = fakeServer({ ...routes, [LETTER_URL]: () => json({ feedback }) });
    const refusal = await openFeedback(author, MESSAGE_ID).catch((e) => e);
    assert.ok(refusal instanceof NotGenuine);
    assert.equal(refusal.kind, "release-not-genuine");
    await settle();
    assert.deepEqual(reported(server), [{ kind: "release-not-genuine", message_id: MESSAGE_ID }]);
  });

  test("no note is null", async () => {
    const { author } = participantWorld();
    fakeServer({ [LETTER_URL]: () => json({ ...sealedText(author, author.publicKey, TEXT), feedback: null }) });
    assert.equal(await openFeedback(author, MESSAGE_ID), null);
  });
});

describe("client/letters.js: starting the changes from the letter as sent", () => {
  test("a text letter gives its words", async () => {
    const { author } = participantWorld();
    fakeServer({ [LETTER_URL]: () => json(sealedText(author, author.publicKey, TEXT)) });
    assert.deepEqual(await letterToRevise(author, MESSAGE_ID), { text: TEXT, checked: true });
  });

  test("a message with a recording gives its written part", async () => {
    const { author } = participantWorld();
    const { answer } = sealedMedia(author, TEXT, new Uint8Array(100));
    fakeServer({ [LETTER_URL]: () => json(answer) });
    assert.deepEqual(await letterToRevise(author, MESSAGE_ID), { text: TEXT, checked: true });
  });

  test("words that do not pass their checks are not given at all", async () => {
    const { author } = participantWorld();
    fakeServer({ [LETTER_URL]: () => json(tampered(sealedText(author, author.publicKey, TEXT))) });
    assert.deepEqual(await letterToRevise(author, MESSAGE_ID), { text: "", checked: false });
  });
});
