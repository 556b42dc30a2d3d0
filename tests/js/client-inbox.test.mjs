// client/inbox.js with the real protocol (libsodium in node): the facilitator's note and the
// released message as the inbox page carries them (data-note, data-released), opened with this
// tab's key, against a stand-in for the JSON API (the session, and the chunks of a recording).
// Every check must hold: a grant from the facilitator it names, for exactly this object version,
// the manifest hash it commits to, every chunk's hash.
import "./support/dom.mjs";

import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import {
  MESSAGE_NOT_CHECKED,
  NOTE_NOT_CHECKED,
  NotChecked,
  openFacilitatorNote,
  openReleased,
  prepareToOpen,
} from "../../static/js/client/inbox.js";
import { NotGenuine, forgetTrust } from "../../static/js/client/trust.js";
import {
  KeysUnavailable,
  protocol,
  storeSecretKey,
  wipeKeys,
} from "../../static/js/crypto/keys.js";
import { settle } from "./support/dom.mjs";
import { fakeServer, json } from "./support/fake-server.mjs";
import {
  FACILITATOR_ID,
  OTHER_FACILITATOR_ID,
  ROOT_ID,
  TrustLog,
  reported,
  rootOf,
  securityEventRoutes,
  staffMember,
  trustRoutes,
  vaultRoutes,
} from "./support/trust.mjs";

const p = await protocol();
const RECIPIENT = "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const AUTHOR = "0b7e3f7a-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
const CREATED = "2026-11-23T10:00:00.000Z";
const LETTER_MIME = "text/plain; charset=utf-8";

const [recipientSk, recipientPk] = p.generateIdentity();
const [authorSk, authorPk] = p.generateIdentity();
// The facilitator, certified by the service root in the trust log this browser checks.
const root = staffMember(ROOT_ID, "service_manager");
const facilitator = staffMember(FACILITATOR_ID);
const { secretKey: facilitatorSk, publicKey: facilitatorPk } = facilitator;
const stranger = staffMember(OTHER_FACILITATOR_ID); // has keys, is certified by nobody
const [otherSk] = p.generateIdentity();
const AUTHOR_PK = p.b64encode(authorPk);
const [, casePk] = p.generateIdentity();
const sessionKey = p.b64encode(p.randomBytes(32));

function objectId() {
  return globalThis.crypto.randomUUID();
}

/** A text letter (or note) as the server hands it over, granted to me by `granter`. */
function sealedText(
  text,
  { granter = facilitatorSk, senderPk = facilitatorPk, senderId = FACILITATOR_ID } = {},
) {
  const id = objectId();
  const sealed = p.sealLetter(authorSk, authorPk, casePk, id, 1, text, CREATED, AUTHOR);
  const { contentKey, manifestHash } = sealed;
  const grant = p.makeContentGrant(granter, recipientPk, id, 1, contentKey, manifestHash);
  const last = sealed.chunks.length - 1;
  return {
    object_id: id,
    version: 1,
    manifest: p.b64encode(sealed.manifest),
    manifest_hash: p.b64encode(sealed.manifestHash),
    chunks: sealed.chunks.map((chunk) => p.b64encode(chunk)),
    layout: sealed.chunks.map((chunk, index) => ({
      part: 0,
      index,
      final: index === last,
      size: chunk.length,
      inline: true,
    })),
    chunk_url: `/api/content/${id}/1/`,
    grant: p.b64encode(grant),
    sender_account_id: senderId,
    sender_public_key: p.b64encode(senderPk),
  };
}

/** A message with a written part (inline) and a recording (fetched), granted to me. */
function sealedRecording(recording) {
  const id = objectId();
  const key = p.generateContentKey();
  const parts = [
    { kind: "letter", mime: LETTER_MIME, name: "", data: new TextEncoder().encode("Listen.") },
    { kind: "recording", mime: "audio/webm", name: "", data: recording, duration_ms: 2000 },
  ];
  const sealed = p.encryptContent(key, id, 1, parts, CREATED, AUTHOR);
  const grant = p.makeContentGrant(facilitatorSk, recipientPk, id, 1, key, sealed.manifestHash);
  const stored = new Map(
    sealed.chunks[1].map((chunk, index) => [`/api/content/${id}/1/1/${index}`, chunk]),
  );
  const released = {
    object_id: id,
    version: 1,
    manifest: p.b64encode(sealed.manifestBlob),
    manifest_hash: p.b64encode(sealed.manifestHash),
    chunks: sealed.chunks[0].map((chunk) => p.b64encode(chunk)),
    layout: [
      { part: 0, index: 0, final: true, size: sealed.chunks[0][0].length, inline: true },
      ...sealed.chunks[1].map((chunk, index, all) => ({
        part: 1,
        index,
        final: index === all.length - 1,
        size: chunk.length,
        inline: false,
      })),
    ],
    chunk_url: `/api/content/${id}/1/`,
    grant: p.b64encode(grant),
    sender_account_id: FACILITATOR_ID,
    sender_public_key: p.b64encode(facilitatorPk),
  };
  return { released, stored };
}

/**
 * This tab holds my key, and the server answers for my session, the trust log (`log`), my vault
 * (the root pinned at sign-in) and any stored chunks.
 */
function signedIn(
  stored = new Map(),
  { log = new TrustLog(root).certify(root, facilitator), extra = {} } = {},
) {
  const vault = vaultRoutes({ accountId: RECIPIENT, secretKey: recipientSk }, {
    pins: { root: rootOf(root) },
  });
  const routes = {
    ...trustRoutes(log),
    ...vault.routes,
    ...securityEventRoutes,
    "GET /api/session": () =>
      json({
        account_id: RECIPIENT,
        session_key: sessionKey,
        public_key: p.b64encode(recipientPk),
      }),
  };
  // One stored chunk, or with ?count=n it and the n - 1 after it, joined, sizes in X-Chunks
  // (docs/api-media.md, "Several chunks in one GET").
  const paths = [...stored.keys()];
  paths.forEach((path, at) => {
    routes[`GET ${path}`] = ({ query }) => {
      const count = Number(new URLSearchParams(query).get("count") ?? 0);
      if (!count) return new Response(stored.get(path));
      const chunks = paths.slice(at, at + count).map((each) => stored.get(each));
      const sizes = chunks.map((chunk) => chunk.length).join(",");
      return new Response(new Blob(chunks), { headers: { "X-Chunks": sizes } });
    };
  });
  return fakeServer({ ...routes, ...extra });
}

/** Bytes that differ from place to place (libsodium's randombytes is slow for a MiB in node). */
function pattern(length) {
  return Uint8Array.from({ length }, (_, i) => (i * 7 + 3) % 251);
}

function flipped(b64) {
  const bytes = p.b64decode(b64);
  bytes[bytes.length - 1] ^= 1;
  return p.b64encode(bytes);
}

/** `released` with one byte of its manifest, or of its first chunk, changed. */
function changed(released, field) {
  if (field === "chunks") {
    const [first, ...rest] = released.chunks;
    return { ...released, chunks: [flipped(first), ...rest] };
  }
  return { ...released, [field]: flipped(released[field]) };
}

/** The requests that fetched anything sealed (not the session, trust log, vault or reports). */
function contentRequests(server) {
  const plumbing = ["/api/session", "/api/trust", "/api/vault", "/api/security-events"];
  return server.requests.filter((r) => !plumbing.includes(r.url));
}

beforeEach(async () => {
  forgetTrust();
  wipeKeys();
  await storeSecretKey(RECIPIENT, recipientSk, sessionKey);
});

describe("client/inbox.js: before opening", () => {
  test("prepareToOpen resolves when this tab holds its key", async () => {
    signedIn();
    await prepareToOpen();
  });

  test("without a key in this tab, nothing is asked of the server at all", async () => {
    wipeKeys();
    const server = signedIn();
    await assert.rejects(prepareToOpen(), KeysUnavailable);
    assert.equal(server.requests.length, 0);
  });
});

describe("client/inbox.js: the facilitator's note", () => {
  test("a note from the facilitator it names opens to its text", async () => {
    signedIn();
    assert.equal(await openFacilitatorNote(sealedText("A short letter.")), "A short letter.");
  });

  test("a note whose grant another person made is not shown", async () => {
    signedIn();
    const forged = sealedText("Open it now.", { granter: otherSk });
    const refusal = await openFacilitatorNote(forged).catch((e) => e);
    assert.ok(refusal instanceof NotChecked);
    assert.equal(refusal.message, NOTE_NOT_CHECKED);
  });
});

describe("client/inbox.js: the released message", () => {
  test("a letter opens to its text, with nothing fetched but the session", async () => {
    const server = signedIn();
    const opened = await openReleased(sealedText("I am sorry.\n\nTruly."));
    assert.deepEqual(opened, { kind: "letter", text: "I am sorry.\n\nTruly.", transcript: null });
    assert.deepEqual(contentRequests(server), []);
    assert.deepEqual(reported(server), []);
  });

  const NEVER = "Never shown.";
  for (const [what, released] of [
    ["a grant made by someone else", () => sealedText(NEVER, { granter: otherSk })],
    ["a grant for another object", () => ({ ...sealedText(NEVER), object_id: objectId() })],
    ["a changed manifest", () => changed(sealedText(NEVER), "manifest")],
    ["a changed chunk", () => changed(sealedText(NEVER), "chunks")],
    ["a missing chunk", () => ({ ...sealedText(NEVER), chunks: [] })],
    ["nothing at all", () => null],
  ]) {
    test(`${what}: nothing is shown, and the sentence says so`, async () => {
      signedIn();
      const refusal = await openReleased(released()).catch((e) => e);
      assert.ok(refusal instanceof NotChecked, String(refusal));
      assert.equal(refusal.message, MESSAGE_NOT_CHECKED);
    });
  }

  test("a transcript comes with its label; one that does not check out is marked", async () => {
    signedIn();
    const released = {
      ...sealedText("The letter."),
      transcript: sealedText("The same words, translated."),
      transcript_label: "translation",
    };
    const opened = await openReleased(released);
    const translated = { label: "translation", text: "The same words, translated." };
    assert.deepEqual(opened.transcript, translated);

    const forged = sealedText("Other words.", { granter: otherSk });
    const marked = await openReleased({ ...released, transcript: forged, transcript_label: "x" });
    assert.equal(marked.text, "The letter.");
    assert.deepEqual(marked.transcript, { label: "transcript", failed: true });
  });

  test("a recording: the written part at once, each chunk checked as it is read", async () => {
    const recording = pattern(p.CHUNK_SIZE + 10);
    const { released, stored } = sealedRecording(recording);
    signedIn(stored);
    const opened = await openReleased(released);
    assert.equal(opened.kind, "media");
    assert.equal(opened.message.letterText, "Listen.");
    const [part] = opened.message.parts;
    assert.equal(part.kind, "recording");
    assert.equal(part.chunks, 2);
    const first = await part.readChunk(0);
    assert.deepEqual([...first.subarray(0, 16)], [...recording.subarray(0, 16)]);

    // The server swaps the second chunk for the first: caught before anything is decrypted.
    const [firstPath, secondPath] = [...stored.keys()];
    stored.set(secondPath, stored.get(firstPath));
    signedIn(stored);
    await assert.rejects(part.readChunk(1), p.DecryptionFailed);
    opened.message.close();
  });

  test("a recording read in order: a few chunks on their way at once, each checked", async () => {
    const recording = pattern(6 * p.CHUNK_SIZE + 3);
    const { released, stored } = sealedRecording(recording);
    const server = signedIn(stored);
    const opened = await openReleased(released);
    const [part] = opened.message.parts;
    const before = contentRequests(server).length;
    const reading = part.readChunks(2, { ahead: 4, batch: 2 });
    const first = await reading.next();
    // Chunk 2 is handed on; 2 to 5 were asked for meanwhile, two to a GET, nothing further yet.
    assert.deepEqual([...first.value.subarray(0, 8)], [...recording.subarray(2 * p.CHUNK_SIZE,
      2 * p.CHUNK_SIZE + 8)]);
    const asked = contentRequests(server)
      .slice(before)
      .map((r) => `${r.url.split("/").pop()}${r.query}`);
    assert.deepEqual(asked, ["2?count=2", "4?count=2"]);
    const rest = [];
    for await (const plaintext of reading) rest.push(plaintext.length);
    assert.deepEqual(rest, [p.CHUNK_SIZE, p.CHUNK_SIZE, p.CHUNK_SIZE, 3]);
    const whole = new Uint8Array(await (await part.readAll()).arrayBuffer());
    assert.deepEqual(whole, recording);

    // A swapped chunk on the way stops the reading with the check's error.
    const paths = [...stored.keys()];
    stored.set(paths[4], stored.get(paths[5]));
    signedIn(stored);
    await assert.rejects(part.readAll(), p.DecryptionFailed);
    opened.message.close();
  });

  test("a recording said to be from someone the chain does not vouch for is not opened", async () => {
    const { released, stored } = sealedRecording(pattern(100));
    const server = signedIn(stored);
    const forged = { ...released, sender_public_key: AUTHOR_PK };
    await assert.rejects(openReleased(forged), NotGenuine);
    assert.deepEqual(contentRequests(server), []);
  });
});

describe("client/inbox.js: only what trusted staff made is opened", () => {
  const fromStranger = (text) =>
    sealedText(text, {
      granter: stranger.secretKey,
      senderPk: stranger.publicKey,
      senderId: stranger.accountId,
    });

  test("a release from an uncertified account is refused and reported", async () => {
    const server = signedIn();
    const refusal = await openReleased(fromStranger("Never shown.")).catch((e) => e);
    assert.ok(refusal instanceof NotGenuine, String(refusal));
    assert.equal(refusal.kind, "release-not-genuine");
    assert.equal(
      refusal.message,
      "This could not be confirmed as coming from your facilitator. Nothing was opened. " +
        "Please tell your facilitator or the service.",
    );
    await settle();
    assert.deepEqual(reported(server), [{ kind: "release-not-genuine" }]);
  });

  test("a release whose transcript is from an uncertified account is refused whole", async () => {
    signedIn();
    const released = { ...sealedText("The letter."), transcript: fromStranger("Other words.") };
    await assert.rejects(openReleased(released), NotGenuine);
  });

  test("a note from an uncertified account is refused", async () => {
    signedIn();
    await assert.rejects(openFacilitatorNote(fromStranger("Open it now.")), NotGenuine);
  });

  test("a release from a facilitator the log has revoked is refused", async () => {
    const log = new TrustLog(root).certify(root, facilitator).revoke(root, facilitator);
    signedIn(new Map(), { log });
    await assert.rejects(openReleased(sealedText("Never shown.")), NotGenuine);
  });

  test("a release from a facilitator certified by an uncertified signer is refused", async () => {
    const log = new TrustLog(root).certify(stranger, facilitator);
    signedIn(new Map(), { log });
    await assert.rejects(openReleased(sealedText("Never shown.")), NotGenuine);
  });

  test("prepareToOpen refuses, so Open it now is not sent, when there is no chain", async () => {
    const missing = { "GET /api/trust": () => json({ error: "Not found." }, { status: 404 }) };
    signedIn(new Map(), { extra: missing });
    await assert.rejects(prepareToOpen(), NotGenuine);
  });
});
