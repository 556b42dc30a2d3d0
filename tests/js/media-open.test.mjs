// static/js/media/open.js reading a media message's stored chunks: in order, several in one GET
// (?count=, docs/api-media.md "Several chunks in one GET"), each checked against the manifest as
// one chunk is, with a bounded stretch asked for ahead. Real crypto (protocol.js over
// libsodium); the server is a stand-in `fetch` that answers from the sealed chunks.
import "./support/dom.mjs";

import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import * as p from "../../static/js/crypto/protocol.js";
import {
  ChunkUnavailable,
  FETCH_BATCH,
  openMessage,
  READ_AHEAD,
} from "../../static/js/media/open.js";

await p.ready();

const MiB = 1024 * 1024;
const OBJECT = "0b7f6a52-8f5c-4d33-9a51-6a1e2f3c4d5e";
const AUTHOR = "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const CREATED = "2026-12-01T18:00:00.000Z";
const BASE = `/api/content/${OBJECT}/1/`;

function pattern(length, seed = 0) {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 1) out[i] = (i * 7 + seed) % 251;
  return out;
}

/** A sealed message as the server hands it to its recipient: a letter and a recording of
 * `chunks` chunks stored apart. */
function sealedMessage(chunks) {
  const [senderSk, senderPk] = p.generateIdentity();
  const [readerSk, readerPk] = p.generateIdentity();
  const key = p.generateContentKey();
  const recording = pattern(chunks * MiB - 1000, 3);
  const parts = [
    { kind: "letter", mime: "text/plain; charset=utf-8", name: "", data: p.randomBytes(0) },
    { kind: "recording", mime: "video/webm;codecs=vp8,opus", name: "", data: recording },
  ];
  const sealed = p.encryptContent(key, OBJECT, 1, parts, CREATED, AUTHOR);
  const grant = p.makeContentGrant(senderSk, readerPk, OBJECT, 1, key, sealed.manifestHash);
  const layout = [{ part: 0, index: 0, final: true, inline: true }];
  sealed.chunks[1].forEach((_, index) => layout.push({ part: 1, index, inline: false }));
  return {
    readerSk,
    senderPk,
    recording,
    stored: sealed.chunks[1],
    object: {
      object_id: OBJECT,
      version: 1,
      manifest: p.b64encode(sealed.manifestBlob),
      manifest_hash: p.b64encode(sealed.manifestHash),
      grant: p.b64encode(grant),
      chunks: [p.b64encode(sealed.chunks[0][0])],
      layout,
      chunk_url: BASE,
    },
  };
}

/** A stand-in server: answers chunk GETs (one, or ?count= several with X-Chunks) from `stored`,
 * through `change(chunks)` when given; every address asked for goes into `asked`. */
function serve(stored, { change = (chunks) => chunks, status = 200 } = {}) {
  const asked = [];
  globalThis.fetch = async (url) => {
    asked.push(url.slice(BASE.length));
    if (status !== 200) return new Response("{}", { status });
    const [, index, count] = /^1\/(\d+)(?:\?count=(\d+))?$/.exec(url.slice(BASE.length));
    const from = Number(index);
    const chunks = change(stored.slice(from, from + Number(count ?? 1)));
    const body = new Blob(chunks);
    const headers = count ? { "X-Chunks": chunks.map((c) => c.length).join(",") } : {};
    return new Response(body, { status, headers });
  };
  return asked;
}

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

async function opened(message) {
  const { readerSk, senderPk, object } = message;
  return openMessage(p, readerSk, senderPk, object);
}

describe("media/open.js reading stored chunks", () => {
  test("a part is read in order, checked, several chunks to a GET", async () => {
    const message = sealedMessage(18);
    const asked = serve(message.stored);
    const reading = await opened(message);
    const pieces = [];
    for await (const plaintext of reading.parts[0].readChunks(0)) pieces.push(plaintext);
    const joined = new Uint8Array(await new Blob(pieces).arrayBuffer());
    assert.deepEqual(joined, message.recording);
    assert.equal(FETCH_BATCH, 16);
    assert.deepEqual(asked, ["1/0?count=16", "1/16?count=2"]);
  });

  test("no more is asked for than the stretch ahead, in whole GETs", async () => {
    const message = sealedMessage(10);
    const asked = serve(message.stored);
    const reading = await opened(message);
    const chunks = reading.parts[0].readChunks(0, { ahead: 4, batch: 2 });
    await chunks.next();
    // Two GETs of two: four chunks asked for, one handed on; a third GET waits for room.
    assert.deepEqual(asked, ["1/0?count=2", "1/2?count=2"]);
    await chunks.next();
    await chunks.next();
    assert.deepEqual(asked, ["1/0?count=2", "1/2?count=2", "1/4?count=2"]);
    await chunks.return();
    assert.equal(READ_AHEAD, 32); // the player's stretch: 32 MiB, two GETs
  });

  test("one chunk is still asked for on its own", async () => {
    const message = sealedMessage(3);
    const asked = serve(message.stored);
    const reading = await opened(message);
    const [first] = await reading.parts[0].readBatch(0, 1);
    assert.deepEqual(first, message.recording.subarray(0, MiB));
    assert.deepEqual(await reading.parts[0].readChunk(1), message.recording.subarray(MiB, 2 * MiB));
    assert.deepEqual(asked, ["1/0", "1/1"]);
  });

  test("a chunk of a GET that does not match the manifest fails its check", async () => {
    const message = sealedMessage(3);
    serve(message.stored, {
      change: (chunks) => chunks.map((c, i) => (i === 1 ? Uint8Array.from(c, (b) => b ^ 1) : c)),
    });
    const reading = await opened(message);
    await assert.rejects(reading.parts[0].readBatch(0, 3), p.DecryptionFailed);
  });

  test("chunks of a GET in the wrong order fail their check", async () => {
    const message = sealedMessage(3);
    serve(message.stored, { change: (chunks) => [...chunks].reverse() });
    const reading = await opened(message);
    await assert.rejects(reading.parts[0].readBatch(0, 2), p.DecryptionFailed);
  });

  test("an answer that does not add up to the chunks asked for fails its check", async () => {
    const message = sealedMessage(3);
    serve(message.stored, { change: (chunks) => chunks.slice(0, 1) });
    const reading = await opened(message);
    await assert.rejects(reading.parts[0].readBatch(0, 2), p.MalformedInput);
  });

  test("a refused GET is a chunk unavailable, not a failed check", async () => {
    const message = sealedMessage(3);
    serve(message.stored, { status: 404 });
    const reading = await opened(message);
    await assert.rejects(
      reading.parts[0].readBatch(0, 3),
      (error) => error instanceof ChunkUnavailable && error.status === 404,
    );
  });
});
