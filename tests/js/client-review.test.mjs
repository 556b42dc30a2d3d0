// client/review.js with the real protocol (libsodium in node), against a stand-in for the JSON
// API that serves one case as the server would: the case key granted to the facilitator, a
// message sealed by its author to the case key, the participants, the facilitator's vault.
import { settle } from "./support/dom.mjs";

import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { openNote } from "../../static/js/client/notes.js";
import {
  CannotApprove,
  CaseKeyUnavailable,
  ContentFailedChecks,
  NotInThisCase,
  closeReview,
  declaredDifferences,
  keyStatuses,
  markUnverified,
  nameOf,
  openContent,
  openApprovalNote,
  openFeedback,
  openReview,
  sealApproval,
  sealFeedback,
  sealFirstApproval,
  sealReason,
} from "../../static/js/client/review.js";
import { protocol, storeSecretKey, wipeKeys } from "../../static/js/crypto/keys.js";
import { NotGenuine, forgetTrust } from "../../static/js/client/trust.js";
import { writerKeyFrom } from "../../static/js/client/review-keys.js";
import { fakeServer, json } from "./support/fake-server.mjs";
import {
  ROOT_ID,
  TrustLog,
  reported,
  caseKeyStatement,
  rootOf,
  securityEventRoutes,
  staffMember,
  trustRoutes,
} from "./support/trust.mjs";

const p = await protocol();
const b64 = (bytes) => p.b64encode(bytes);
const CASE = "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
const MESSAGE = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b";
const OBJECT = "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d";
const NOTE_OBJECT = "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e";
const IDS = {
  facilitator: "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
  author: "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
  recipient: "0b7e3f7a-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
};
const AUTHOR_PARTICIPANT = "6e5d4c3b-2a1f-4e0d-9c8b-7a6f5e4d3c2b";
const RECIPIENT_PARTICIPANT = "4c3b2a1f-0e9d-4c8b-8a7f-6e5d4c3b2a1f";
const CREATED = "2026-11-23T10:00:00.000Z";
const LETTER = "I am sorry for what I did.\n\nI think about it every day.";

function person(accountId) {
  const [secretKey, publicKey] = p.generateIdentity();
  return { accountId, secretKey, publicKey };
}

/**
 * One case as the server keeps it. `pins(people)`: {account id: key} in the facilitator's vault;
 * `verified`: who the server records as compared in person; `review`: changes to the review
 * answer; `caseGrant`: "foreign" for a case key granted to someone else (a breached server).
 */
async function world({
  pins = () => ({}),
  verified = [],
  review = {},
  vault = "sealed",
  media = null,
  caseGrant = "mine",
} = {}) {
  // A certified facilitator of a service whose root this browser pinned (client/trust.js).
  const facilitator = staffMember(IDS.facilitator);
  const root = staffMember(ROOT_ID, "service_manager");
  const log = new TrustLog(root);
  log.certify(root, facilitator);
  const author = person(IDS.author);
  const recipient = person(IDS.recipient);
  const [caseSk, casePk] = p.generateIdentity();
  const sessionKey = b64(p.randomBytes(32));
  await storeSecretKey(IDS.facilitator, facilitator.secretKey, sessionKey);
  const content = media ? sealMedia(author, casePk, media) : sealText(author, casePk);
  const answer = {
    message_id: MESSAGE,
    case_id: CASE,
    state: "in_review",
    format: media ? media.format : "letter",
    length: media ? media.length : {},
    version: 1,
    ...content.fields,
    author_public_key: b64(author.publicKey),
    author_participant_id: AUTHOR_PARTICIPANT,
    recipient: {
      participant_id: RECIPIENT_PARTICIPANT,
      side_label: "Person harmed",
      public_key: b64(recipient.publicKey),
      account_id: IDS.recipient,
      verified_public_key: null,
      withdrawn: false,
    },
    feedback: null,
    ...review,
  };
  const participant = (id, account, who, name) => ({
    participant_id: id,
    account_id: account.accountId,
    account_public_key: b64(account.publicKey),
    verified_public_key: verified.includes(who) ? b64(account.publicKey) : null,
    sealed_name: b64(p.sealCaseText(caseSk, CASE, `participant-name:${id}`, name)),
  });
  const participants = [
    participant(AUTHOR_PARTICIPANT, author, "author", "Sam"),
    participant(RECIPIENT_PARTICIPANT, recipient, "recipient", "Hana"),
  ];
  const vaultBlob =
    vault === "unreadable"
      ? b64(p.randomBytes(80))
      : b64(
          p.sealVault(facilitator.secretKey, IDS.facilitator, {
            pins: { root: rootOf(root), ...pins({ author, recipient }) },
          }),
        );
  const grantee = caseGrant === "foreign" ? person(IDS.author).publicKey : facilitator.publicKey;
  const server = fakeServer({
    ...trustRoutes(log),
    ...securityEventRoutes,
    "PUT /api/vault": () => json({ ok: true }),
    "GET /api/session": () =>
      json({ account_id: IDS.facilitator, public_key: b64(facilitator.publicKey), session_key: sessionKey }),
    [`GET /api/messages/${MESSAGE}/review`]: () => json(answer),
    [`GET /api/cases/${CASE}/key`]: () =>
      json({
        case_id: CASE,
        epoch: 1,
        case_public_key: b64(casePk),
        grant: b64(p.makeCaseGrant(facilitator.secretKey, grantee, CASE, caseSk)),
        sender_account_id: IDS.facilitator,
        sender_public_key: b64(facilitator.publicKey),
        case_key_statement: caseKeyStatement(facilitator, CASE, casePk),
      }),
    [`GET /api/cases/${CASE}/participants`]: () => json(participants),
    "GET /api/vault": () => json({ blob: vaultBlob }),
    [`POST /api/cases/${CASE}/objects`]: () => json({ object_id: NOTE_OBJECT }),
    ...content.routes,
  });
  return { facilitator, author, recipient, caseSk, casePk, answer, participants, server, content };
}

function sealText(author, casePk) {
  const sealed = p.sealLetter(author.secretKey, author.publicKey, casePk, OBJECT, 1, LETTER, CREATED, IDS.author);
  return {
    fields: {
      object_id: OBJECT,
      manifest: b64(sealed.manifest),
      manifest_hash: b64(sealed.manifestHash),
      chunks: sealed.chunks.map(b64),
      layout: sealed.chunks.map((chunk, index) => ({
        part: 0,
        index,
        final: index === sealed.chunks.length - 1,
        size: chunk.length,
        inline: true,
      })),
      chunk_url: `/api/content/${OBJECT}/1/`,
      grant: b64(sealed.grantToCase),
    },
    routes: {},
  };
}

/** A written letter (inline) and one recording stored apart, fetched chunk by chunk. */
function sealMedia(author, casePk, { mime, durationMs }) {
  const key = p.generateContentKey();
  const parts = [
    { kind: "letter", mime: "text/plain; charset=utf-8", name: "", data: new TextEncoder().encode(LETTER) },
    { kind: "recording", mime, name: "", data: p.randomBytes(5000), duration_ms: durationMs },
  ];
  const sealed = p.encryptContent(key, OBJECT, 1, parts, CREATED, IDS.author);
  const [letter, recording] = sealed.chunks;
  return {
    fields: {
      object_id: OBJECT,
      manifest: b64(sealed.manifestBlob),
      manifest_hash: b64(sealed.manifestHash),
      chunks: letter.map(b64),
      layout: [
        ...letter.map((c, index) => ({ part: 0, index, final: true, size: c.length, inline: true })),
        ...recording.map((c, index) => ({ part: 1, index, final: true, size: c.length, inline: false })),
      ],
      chunk_url: `/api/content/${OBJECT}/1/`,
      grant: b64(p.makeContentGrant(author.secretKey, casePk, OBJECT, 1, key, sealed.manifestHash)),
    },
    // The stored chunk as the blob store holds it (tests may change it, as a breach would).
    routes: { [`GET /api/content/${OBJECT}/1/1/0`]: () => new Response(recording[0]) },
    stored: recording,
    recording: parts[1].data,
  };
}

/** Everything the browser sent, as one string. */
function sent(server) {
  return JSON.stringify(server.requests);
}

beforeEach(() => {
  wipeKeys();
  forgetTrust();
});

describe("client/review.js: opening", () => {
  test("the letter opens with the case key after every check, and so do the names", async () => {
    const w = await world();
    const review = await openReview(MESSAGE, CASE);
    const content = await openContent(review);
    assert.equal(content.text, LETTER);
    assert.deepEqual(content.declared, {});
    const [author, recipient] = w.participants;
    assert.equal(await nameOf(review, author.participant_id, author.sealed_name), "Sam");
    assert.equal(await nameOf(review, recipient.participant_id, recipient.sealed_name), "Hana");
    // A name sealed for one participant does not open as another's.
    await assert.rejects(nameOf(review, author.participant_id, recipient.sealed_name), p.ProtocolError);
  });

  test("a review answer for another case is refused before any key is asked for", async () => {
    const w = await world({ review: { case_id: "8d7c6b5a-4f3e-4d2c-9b1a-0f9e8d7c6b5a" } });
    await assert.rejects(openReview(MESSAGE, CASE), NotInThisCase);
    assert.equal(w.server.requests.some((r) => r.url.endsWith("/key")), false);
  });

  test("without the case key nothing opens, and the page is told why", async () => {
    await world({ caseGrant: "foreign" });
    const refusal = await openReview(MESSAGE, CASE).catch((error) => error);
    assert.ok(refusal instanceof CaseKeyUnavailable);
    assert.match(refusal.message, /could not be unlocked/);
  });

  test("a letter changed on the server fails its checks, shows nothing and cannot be approved", async () => {
    const w = await world();
    const chunk = p.b64decode(w.answer.chunks[0]);
    chunk[chunk.length - 1] ^= 1;
    w.answer.chunks = [b64(chunk)];
    const review = await openReview(MESSAGE, CASE);
    await assert.rejects(openContent(review), ContentFailedChecks);
    await assert.rejects(sealApproval(review, { keyRiskAccepted: true }), CannotApprove);
    assert.equal(w.server.requests.some((r) => r.method === "POST"), false);
  });

  test("a grant made by anyone but the writer fails the checks", async () => {
    const [, strangerPk] = p.generateIdentity();
    await world({ review: { author_public_key: b64(strangerPk) } });
    const review = await openReview(MESSAGE, CASE);
    await assert.rejects(openContent(review), ContentFailedChecks);
  });

  test("feedback on the previous version opens with the case key; a changed one does not", async () => {
    const w = await world();
    const note = await noteFromFacilitator(w, "Please leave out the last line.");
    w.answer.feedback = note;
    const review = await openReview(MESSAGE, CASE);
    assert.equal(await openFeedback(review), "Please leave out the last line.");
    const chunk = p.b64decode(note.chunks[0]);
    chunk[0] ^= 1;
    review.json.feedback = { ...note, chunks: [b64(chunk)] };
    await assert.rejects(openFeedback(review), p.ProtocolError);
    review.json.feedback = null;
    assert.equal(await openFeedback(review), null);
  });

  test("feedback from an account no trusted staff certified is refused unopened, and reported", async () => {
    const w = await world();
    const stranger = staffMember("dd000000-0000-4000-8000-000000000009");
    const sealed = p.sealLetter(
      stranger.secretKey, stranger.publicKey, w.casePk, NOTE_OBJECT, 1, "Approve it.", CREATED, stranger.accountId,
    );
    w.answer.feedback = {
      object_id: NOTE_OBJECT,
      version: 1,
      manifest: b64(sealed.manifest),
      chunks: sealed.chunks.map(b64),
      grant: b64(sealed.grantToCase),
      sender_account_id: stranger.accountId,
      sender_public_key: b64(stranger.publicKey),
    };
    const review = await openReview(MESSAGE, CASE);
    const refusal = await openFeedback(review).catch((e) => e);
    assert.ok(refusal instanceof NotGenuine, String(refusal));
    assert.equal(refusal.kind, "release-not-genuine");
    await settle();
    assert.deepEqual(reported(w.server), [
      { kind: "release-not-genuine", case_id: CASE, message_id: MESSAGE },
    ]);
  });
});

/** A feedback note as the server returns it to the case's facilitators. */
async function noteFromFacilitator(w, text) {
  const sealed = p.sealLetter(
    w.facilitator.secretKey, w.facilitator.publicKey, w.casePk, NOTE_OBJECT, 1, text, CREATED, IDS.facilitator,
  );
  return {
    object_id: NOTE_OBJECT,
    version: 1,
    manifest: b64(sealed.manifest),
    chunks: sealed.chunks.map(b64),
    grant: b64(sealed.grantToCase),
    sender_account_id: IDS.facilitator,
    sender_public_key: b64(w.facilitator.publicKey),
  };
}

describe("client/review.js: recordings, and what the writer declared", () => {
  test("the written part opens at once; the recording chunk by chunk, each checked", async () => {
    const w = await world({ media: { mime: "video/webm", durationMs: 61_000, format: "video", length: { seconds: 61 } } });
    const review = await openReview(MESSAGE, CASE);
    const { opened, declared } = await openContent(review);
    assert.equal(opened.letterText, LETTER);
    assert.deepEqual(declared, {});
    assert.equal(w.server.requests.some((r) => r.url.includes("/api/content/")), false);
    const [recording] = opened.parts;
    assert.equal(recording.kind, "recording");
    assert.deepEqual(await recording.readChunk(0), w.content.recording);
    // A stored chunk changed on the server is caught before a byte of it is handed on.
    w.content.stored[0][100] ^= 1;
    await assert.rejects(recording.readChunk(0), p.ProtocolError);
    opened.close();
  });

  test("a declared format or length that differs from the manifest is reported", async () => {
    await world({ media: { mime: "audio/ogg", durationMs: 300_000, format: "video", length: { seconds: 60 } } });
    const review = await openReview(MESSAGE, CASE);
    const { opened, declared } = await openContent(review);
    assert.deepEqual(declared, {
      format: { declared: "video", actual: "audio" },
      seconds: { declared: 60, measured: 300 },
    });
    opened.close();
  });

  test("small differences in length pass; pages count unless a PDF hides them", () => {
    const manifest = (parts) => ({ parts: [{ kind: "letter", mime: "text/plain" }, ...parts] });
    const timed = manifest([{ kind: "recording", mime: "audio/ogg", duration_ms: 100_000 }]);
    assert.deepEqual(declaredDifferences({ format: "audio", length: { seconds: 102 } }, timed), {});
    const pages = manifest([{ kind: "page", mime: "image/png" }, { kind: "page", mime: "image/png" }]);
    assert.deepEqual(declaredDifferences({ format: "letter", length: { pages: 3 } }, pages), {
      pages: { declared: 3, measured: 2, pdfs: 0 },
    });
    const withPdf = manifest([{ kind: "page", mime: "image/png" }, { kind: "page", mime: "application/pdf" }]);
    assert.deepEqual(declaredDifferences({ format: "letter", length: { pages: 4 } }, withPdf), {});
    assert.deepEqual(declaredDifferences({ format: "audio" }, null), {
      format: { declared: "audio", actual: "letter" },
    });
  });
});

describe("client/review.js: the keys compared in person", () => {
  const pinBoth = ({ author, recipient }) => ({
    [IDS.author]: b64(author.publicKey),
    [IDS.recipient]: b64(recipient.publicKey),
  });

  test("keys pinned in my vault and unchanged are verified", async () => {
    await world({ pins: pinBoth });
    const review = await openReview(MESSAGE, CASE);
    assert.deepEqual(await keyStatuses(review), { recipient: "verified", author: "verified" });
  });

  test("a pin that differs is changed; the server's word alone is only a colleague's", async () => {
    const [, otherPk] = p.generateIdentity();
    await world({ pins: () => ({ [IDS.recipient]: b64(otherPk) }), verified: ["author"] });
    const review = await openReview(MESSAGE, CASE);
    assert.deepEqual(await keyStatuses(review), { recipient: "changed", author: "colleague" });
  });

  test("an author key that belongs to nobody named is unknown", async () => {
    const [, strangerPk] = p.generateIdentity();
    await world({ pins: pinBoth, review: { author_public_key: b64(strangerPk) } });
    const review = await openReview(MESSAGE, CASE);
    assert.deepEqual(await keyStatuses(review), { recipient: "verified", author: "unknown" });
  });

  // Sealed before its writer was given a new key pair: the grant keeps the key of its day, and
  // the server says so (author_key_earlier); the writer's current key is another.
  async function rekeyedWriter({ pins = pinBoth, earlier = true } = {}) {
    const review = { author_account_id: IDS.author, author_key_earlier: earlier };
    const made = await world({ pins, review });
    made.participants[0].account_public_key = b64(p.generateIdentity()[1]);
    return made;
  }

  test("sealed with the writer's earlier key that I compared in person: theirs", async () => {
    await rekeyedWriter();
    const review = await openReview(MESSAGE, CASE);
    assert.deepEqual(await keyStatuses(review), { recipient: "verified", author: "earlier-verified" });
  });

  test("sealed with an earlier key I never pinned: earlier, not confirmed", async () => {
    const pins = ({ recipient }) => ({ [IDS.recipient]: b64(recipient.publicKey) });
    await rekeyedWriter({ pins });
    const review = await openReview(MESSAGE, CASE);
    assert.deepEqual(await keyStatuses(review), { recipient: "verified", author: "earlier" });
  });

  test("a key that is not the writer's current one, without the server saying why, is unknown", async () => {
    await rekeyedWriter({ earlier: false });
    const review = await openReview(MESSAGE, CASE);
    assert.deepEqual(await keyStatuses(review), { recipient: "verified", author: "unknown" });
  });

  test("another participant's key is never a writer's earlier one", async () => {
    const { answer, recipient } = await rekeyedWriter();
    answer.author_public_key = b64(recipient.publicKey);
    const review = await openReview(MESSAGE, CASE);
    assert.equal((await keyStatuses(review)).author, "unknown");
  });

  test("an unreadable vault confirms nothing: without its pins not even the case key opens", async () => {
    await world({ vault: "unreadable" });
    const refusal = await openReview(MESSAGE, CASE).then(openContent).catch((e) => e);
    assert.ok(refusal instanceof Error, String(refusal));
    assert.match(refusal.message, /could not be unlocked/);
  });

  // Written on the author participant's behalf: the supporter or representative who sealed it
  // is the writer, checked against my pin of their key like an author's.
  const WRITER_PLACE = "8f7e6d5c-4b3a-4c2d-9e1f-0a9b8c7d6e5f";
  const writtenBy = (change = {}) => ({
    author_account_id: IDS.author,
    written_by: {
      supporter_id: WRITER_PLACE,
      kind: "representative",
      account_id: IDS.author,
      verified_public_key: null,
      ...change,
    },
  });

  test("a representative's key I compared in person is verified as the writer's", async () => {
    const { answer } = await world({ pins: pinBoth, review: writtenBy() });
    answer.written_by.public_key = answer.author_public_key;
    const review = await openReview(MESSAGE, CASE);
    assert.deepEqual(await keyStatuses(review), { recipient: "verified", author: "verified" });
  });

  test("a writer named with another key than the one that sealed is unknown", async () => {
    const [, otherPk] = p.generateIdentity();
    await world({ pins: pinBoth, review: writtenBy({ public_key: b64(otherPk) }) });
    assert.equal((await keyStatuses(await openReview(MESSAGE, CASE))).author, "unknown");
  });

  test("a writer whose account is not the author's the server names is unknown", async () => {
    const { answer } = await world({
      pins: pinBoth,
      review: writtenBy({ account_id: IDS.recipient }),
    });
    answer.written_by.public_key = answer.author_public_key;
    assert.equal((await keyStatuses(await openReview(MESSAGE, CASE))).author, "unknown");
  });

  test("the writer must be the participant the server names", async () => {
    await world({ pins: pinBoth, review: { author_participant_id: RECIPIENT_PARTICIPANT } });
    const review = await openReview(MESSAGE, CASE);
    assert.equal((await keyStatuses(review)).author, "unknown");
  });
});

describe("client/review.js: deciding", () => {
  test("approving also grants to each supporter who may read for the recipient and whose key I compared, and to no other", async () => {
    const compared = person("aa000000-0000-4000-8000-000000000001");
    const notCompared = person("aa000000-0000-4000-8000-000000000002");
    const reader = (someone, id) => ({
      supporter_id: id,
      kind: "supporter",
      account_id: someone.accountId,
      public_key: b64(someone.publicKey),
      verified_public_key: b64(someone.publicKey), // the server says so: not enough
    });
    const w = await world({
      pins: ({ recipient }) => ({
        [IDS.recipient]: b64(recipient.publicKey),
        [compared.accountId]: b64(compared.publicKey),
      }),
      review: {
        readers: [
          reader(compared, "bb000000-0000-4000-8000-000000000001"),
          reader(notCompared, "bb000000-0000-4000-8000-000000000002"),
        ],
      },
    });
    const review = await openReview(MESSAGE, CASE);
    await openContent(review);
    const body = await sealApproval(review, {});
    assert.deepEqual(
      body.supporter_grants.map((g) => g.supporter_id),
      ["bb000000-0000-4000-8000-000000000001"],
    );
    const text = await p.openLetter(
      compared.secretKey,
      w.facilitator.publicKey,
      OBJECT,
      1,
      p.b64decode(body.supporter_grants[0].grant),
      p.b64decode(w.answer.manifest),
      w.answer.chunks.map(p.b64decode),
    );
    assert.equal(text, LETTER);
  });

  test("approving grants exactly this version to the recipient, and seals the note for them", async () => {
    const w = await world({ pins: ({ recipient }) => ({ [IDS.recipient]: b64(recipient.publicKey) }) });
    const review = await openReview(MESSAGE, CASE);
    await openContent(review);
    const body = await sealApproval(review, { note: "A short letter of apology.", transcript: "" });
    assert.deepEqual(Object.keys(body).sort(), ["note", "recipient_grant"]);
    const text = await p.openLetter(
      w.recipient.secretKey,
      w.facilitator.publicKey,
      OBJECT,
      1,
      p.b64decode(body.recipient_grant),
      p.b64decode(w.answer.manifest),
      w.answer.chunks.map(p.b64decode),
    );
    assert.equal(text, LETTER);
    assert.throws(
      () => p.openContentGrant(w.recipient.secretKey, w.facilitator.publicKey, OBJECT, 2, p.b64decode(body.recipient_grant)),
      p.ProtocolError,
    );
    const read = (grant, sk) => openNote(sk, { ...body.note, grant, sender_public_key: b64(w.facilitator.publicKey) });
    assert.equal(await read(body.note.grant_to_person, w.recipient.secretKey), "A short letter of apology.");
    assert.equal(await read(body.note.grant_to_case, w.caseSk), "A short letter of apology.");
    assert.doesNotMatch(sent(w.server), /apology|sorry/);
  });

  test("a recipient key not compared in person is approved only once the risk is accepted", async () => {
    const w = await world();
    const review = await openReview(MESSAGE, CASE);
    await openContent(review);
    await assert.rejects(sealApproval(review, {}), CannotApprove);
    const body = await sealApproval(review, { transcript: "The same words.", keyRiskAccepted: true });
    assert.deepEqual(Object.keys(body).sort(), ["recipient_grant", "transcript"]);
    const transcript = { ...body.transcript, grant: body.transcript.grant_to_person, sender_public_key: b64(w.facilitator.publicKey) };
    assert.equal(await openNote(w.recipient.secretKey, transcript), "The same words.");
  });

  test("a recipient key that changed since it was compared is refused, whatever was accepted", async () => {
    const [, oldPk] = p.generateIdentity();
    const w = await world({ pins: () => ({ [IDS.recipient]: b64(oldPk) }) });
    const review = await openReview(MESSAGE, CASE);
    await openContent(review);
    const refusal = await sealApproval(review, { keyRiskAccepted: true }).catch((e) => e);
    assert.ok(refusal instanceof CannotApprove, String(refusal));
    assert.match(refusal.message, /key changed since you compared it in person/);
    assert.doesNotMatch(sent(w.server), /recipient_grant/);
  });

  test("nothing is approved before the content is checked, or after a chunk failed", async () => {
    await world();
    const review = await openReview(MESSAGE, CASE);
    await assert.rejects(sealApproval(review, { keyRiskAccepted: true }), CannotApprove);
    await openContent(review);
    markUnverified(review);
    await assert.rejects(sealApproval(review, { keyRiskAccepted: true }), CannotApprove);
  });

  test("a recipient without a key gets nothing", async () => {
    await world({ review: { recipient: { participant_id: RECIPIENT_PARTICIPANT, public_key: null } } });
    const review = await openReview(MESSAGE, CASE);
    await openContent(review);
    await assert.rejects(sealApproval(review, { keyRiskAccepted: true }), CannotApprove);
  });

  test("a recipient on paper (no account) gets no grant, note or transcript", async () => {
    const onPaper = { participant_id: RECIPIENT_PARTICIPANT, public_key: null, on_paper: true };
    await world({ review: { recipient: onPaper } });
    const review = await openReview(MESSAGE, CASE);
    await assert.rejects(sealApproval(review, {}), CannotApprove); // not checked yet
    await openContent(review);
    assert.deepEqual(await sealApproval(review, { note: "Hello", transcript: "Words" }), {});
  });

  test("feedback and reasons are sealed to the writer and the case key, never sent in clear", async () => {
    const w = await world();
    const review = await openReview(MESSAGE, CASE);
    const { feedback } = await sealFeedback(review, "  Please say more.  ");
    const { reason } = await sealReason(review, "It would cause harm.");
    const read = (note, grant, sk) => openNote(sk, { ...note, grant, sender_public_key: b64(w.facilitator.publicKey) });
    assert.equal(await read(feedback, feedback.grant_to_person, w.author.secretKey), "Please say more.");
    assert.equal(await read(reason, reason.grant_to_case, w.caseSk), "It would cause harm.");
    await assert.rejects(read(reason, reason.grant_to_person, w.recipient.secretKey), p.ProtocolError);
    assert.deepEqual(
      w.server.requests.filter((r) => r.method === "POST").map((r) => r.body),
      [{ kind: "feedback" }, { kind: "feedback" }],
    );
    assert.doesNotMatch(sent(w.server), /say more|harm/);
  });

  test("a first approval makes no grant for the recipient, and its note is for the case key", async () => {
    const w = await world();
    const review = await openReview(MESSAGE, CASE);
    await assert.rejects(sealFirstApproval(review, { note: "x" }), CannotApprove);
    await openContent(review);
    assert.deepEqual(await sealFirstApproval(review, { note: "  " }), {});
    const body = await sealFirstApproval(review, { note: " Checked with the officer. " });
    assert.deepEqual(Object.keys(body), ["note"]);
    assert.equal(body.note.grant_to_person, undefined);
    const opened = await openNote(w.caseSk, {
      ...body.note,
      grant: body.note.grant_to_case,
      sender_public_key: b64(w.facilitator.publicKey),
    });
    assert.equal(opened, "Checked with the officer.");
    assert.doesNotMatch(sent(w.server), /officer/);
  });

  test("the first approver's note opens with the case key; a changed one does not", async () => {
    const w = await world();
    const note = await noteFromFacilitator(w, "Checked with the officer.");
    w.answer.approval_note = note;
    const review = await openReview(MESSAGE, CASE);
    assert.equal(await openApprovalNote(review), "Checked with the officer.");
    const chunk = p.b64decode(note.chunks[0]);
    chunk[0] ^= 1;
    review.json.approval_note = { ...note, chunks: [b64(chunk)] };
    await assert.rejects(openApprovalNote(review), p.ProtocolError);
    review.json.approval_note = null;
    assert.equal(await openApprovalNote(review), null);
  });

  test("closing the review wipes the keys it held", async () => {
    await world();
    const review = await openReview(MESSAGE, CASE);
    closeReview(review);
    assert.ok(review.caseKey.caseSk.every((byte) => byte === 0));
    assert.ok(review.keys.secretKey.every((byte) => byte === 0));
  });
});

describe("client/review-keys.js: words to a writer given a new key pair", () => {
  const [, oldPk] = p.generateIdentity();
  const [, newPk] = p.generateIdentity();
  const json = {
    author_account_id: IDS.author,
    author_participant_id: AUTHOR_PARTICIPANT,
    author_public_key: b64(oldPk),
    author_key_earlier: true,
    writer_public_key: b64(newPk),
    written_by: null,
  };
  const vault = (pins) => ({ readable: true, data: { pins } });

  test("go to their new key only once I compared it in person, and otherwise wait", () => {
    assert.deepEqual(writerKeyFrom(p, json, vault({ [IDS.author]: b64(newPk) })), newPk);
    assert.equal(writerKeyFrom(p, json, vault({ [IDS.author]: b64(oldPk) })), null);
    assert.equal(writerKeyFrom(p, json, vault({})), null);
    assert.equal(writerKeyFrom(p, json, { readable: false, data: {} }), null);
  });

  test("a supporter who wrote it is looked up as the supporter they are", () => {
    const place = "bb000000-0000-4000-8000-000000000009";
    const supporter = { ...json, written_by: { supporter_id: place } };
    assert.deepEqual(
      writerKeyFrom(p, supporter, vault({ [`participant:${place}`]: b64(newPk) })),
      newPk,
    );
  });
});
