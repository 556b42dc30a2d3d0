// static/js/media/open-worker.js and open-workers.js: chunks of one GET checked and decrypted in
// Workers must give exactly what protocol.openChunk gives on the page, fail a tampered chunk
// with the same protocol error, read the GETs' answers there (Blobs) and move the plaintexts
// back instead of copying them, hold the content key only while a request is being answered,
// and end (with any copy of the key) when the message is closed or the page's keys are wiped
// (quick exit, sign-out, the session ending).
// Node has no Web Worker: the "Workers" here are stand-ins that pass each request through a
// real structured clone (with the transfer list, as postMessage does) to the real handler.
import "./support/dom.mjs";

import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import * as p from "../../static/js/crypto/protocol.js";
import { wipeKeys } from "../../static/js/crypto/keys.js";
import { ChunkUnavailable } from "../../static/js/media/chunk-fetch.js";
import { openMessage } from "../../static/js/media/open.js";
import { handleOpenRequest } from "../../static/js/media/open-worker.js";
import { ChunkOpeners } from "../../static/js/media/open-workers.js";

await p.ready();

const MiB = 1024 * 1024;
const OBJECT = "0b7f6a52-8f5c-4d33-9a51-6a1e2f3c4d5e";
const AUTHOR = "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const BASE = `/api/content/${OBJECT}/1/`;

function pattern(length, seed = 0) {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 1) out[i] = (i * 7 + seed) % 251;
  return out;
}

/** A letter and a recording of `chunks` chunks, sealed; what a reader is sent for it. */
function sealedMessage(chunks) {
  const [senderSk, senderPk] = p.generateIdentity();
  const [readerSk, readerPk] = p.generateIdentity();
  const key = p.generateContentKey();
  const recording = pattern(chunks * MiB - 1000, 3);
  const parts = [
    { kind: "letter", mime: "text/plain; charset=utf-8", name: "", data: p.randomBytes(0) },
    { kind: "recording", mime: "video/webm;codecs=vp8,opus", name: "", data: recording },
  ];
  const sealed = p.encryptContent(key, OBJECT, 1, parts, "2026-12-01T18:00:00.000Z", AUTHOR);
  const grant = p.makeContentGrant(senderSk, readerPk, OBJECT, 1, key, sealed.manifestHash);
  const manifest = p.openManifest(key, OBJECT, 1, sealed.manifestBlob, sealed.manifestHash);
  const layout = [{ part: 0, index: 0, final: true, inline: true }];
  sealed.chunks[1].forEach((_, index) => layout.push({ part: 1, index, inline: false }));
  return {
    key, readerSk, senderPk, recording, manifest, stored: sealed.chunks[1],
    object: { object_id: OBJECT, version: 1, manifest: p.b64encode(sealed.manifestBlob),
      manifest_hash: p.b64encode(sealed.manifestHash), grant: p.b64encode(grant),
      chunks: [p.b64encode(sealed.chunks[0][0])], layout, chunk_url: BASE },
  };
}

/** One GET's answer for chunks from..from+count-1: {body (a Blob), sizes}; `change(bytes)`
 * may alter the joined bytes first. */
function answer(stored, from, count, change = () => {}) {
  const chunks = stored.slice(from, from + count);
  const joined = new Uint8Array(chunks.reduce((sum, c) => sum + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    joined.set(chunk, at);
    at += chunk.length;
  }
  change(joined);
  return { body: new Blob([joined]), sizes: chunks.map((c) => c.length) };
}

function request(message, from, count, change) {
  const { chunks, size, hashes } = message.manifest.parts[1];
  return { key: message.key, objectId: OBJECT, version: 1, part: 1,
    entry: { chunks, size, hashes }, from, ...answer(message.stored, from, count, change) };
}

/** A stand-in Worker running the real handler; what it was sent goes into `seen`. */
function handlerWorker({ seen = [], delay = 0 } = {}) {
  const target = new EventTarget();
  target.terminated = false;
  target.postMessage = (message, transfer = []) => {
    const copy = structuredClone(message, { transfer });
    seen.push(copy);
    setTimeout(async () => {
      if (target.terminated) return;
      const { reply, transfer: back } = await handleOpenRequest(copy);
      const moved = structuredClone(reply, { transfer: back });
      for (const buffer of back) assert.equal(buffer.byteLength, 0); // moved, not copied
      if (!target.terminated) target.dispatchEvent(new MessageEvent("message", { data: moved }));
    }, delay);
  };
  target.terminate = () => {
    target.terminated = true;
  };
  return target;
}

/** Opened Workers that have all loaded the cipher. */
async function readyOpeners(options) {
  const openers = new ChunkOpeners(p, options);
  while (openers.ready.length < openers.workers.length) {
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return openers;
}

const realFetch = globalThis.fetch;
const realWorker = globalThis.Worker;
afterEach(() => {
  globalThis.fetch = realFetch;
  globalThis.Worker = realWorker;
  wipeKeys();
});

describe("open-worker.js handleOpenRequest", () => {
  test("a GET's chunks open as openChunk opens them, to be moved, and K is zeroed", async () => {
    const message = sealedMessage(3);
    const asked = { ...request(message, 0, 3), id: 4, key: message.key.slice() };
    const { reply, transfer } = await handleOpenRequest(asked);
    assert.equal(reply.id, 4);
    const joined = new Uint8Array(await new Blob(reply.plaintexts).arrayBuffer());
    assert.deepEqual(joined, message.recording);
    assert.deepEqual(transfer, reply.plaintexts.map((plain) => plain.buffer));
    assert.ok(asked.key.every((byte) => byte === 0), "the request's key is zeroed");
  });

  test("a tampered chunk answers the protocol's error and no plaintext", async () => {
    const message = sealedMessage(3);
    const asked = request(message, 0, 3, (bytes) => {
      bytes[MiB + 100] ^= 1; // in the second chunk
    });
    const { reply, transfer } = await handleOpenRequest({ ...asked, key: message.key.slice() });
    assert.deepEqual(reply.error.name, "DecryptionFailed");
    assert.equal(reply.plaintexts, undefined);
    assert.deepEqual(transfer, []);
  });

  test("sizes that do not add up to the body are refused", async () => {
    const message = sealedMessage(2);
    const asked = { ...request(message, 0, 2), key: message.key.slice() };
    asked.sizes = [asked.sizes[0]];
    const { reply } = await handleOpenRequest(asked);
    assert.equal(reply.error.name, "MalformedInput");
  });
});

describe("open-workers.js ChunkOpeners", () => {
  test("in two Workers: the same plaintexts, the body read there, K zeroed there", async () => {
    const message = sealedMessage(10);
    const seen = [];
    const makers = [handlerWorker({ seen, delay: 20 }), handlerWorker({ seen })];
    const openers = await readyOpeners({ count: 2, makeWorker: () => makers.shift() });
    const first = request(message, 0, 8);
    const second = request(message, 8, 2);
    const got = await Promise.all([openers.open(first), openers.open(second)]);
    const joined = new Uint8Array(await new Blob(got.flat()).arrayBuffer());
    assert.deepEqual(joined, message.recording);
    const asked = seen.filter((r) => !r.warm);
    assert.equal(asked.length, 2);
    for (const copy of asked) assert.ok(copy.key.every((byte) => byte === 0));
    assert.ok(message.key.some((byte) => byte !== 0), "the page's key is the page's to wipe");
    openers.close();
  });

  test("a tampered chunk fails with the protocol's own error class", async () => {
    const message = sealedMessage(3);
    const openers = await readyOpeners({ count: 1, makeWorker: () => handlerWorker() });
    const asked = request(message, 0, 3, (bytes) => {
      bytes[10] ^= 1;
    });
    await assert.rejects(openers.open(asked), p.DecryptionFailed);
    openers.close();
  });

  test("until a Worker has loaded the cipher, chunks open on this thread", async () => {
    const message = sealedMessage(2);
    const seen = [];
    const openers = new ChunkOpeners(p, { count: 1, makeWorker: () => handlerWorker({ seen }) });
    const got = await openers.open(request(message, 0, 2));
    assert.equal(got.length, 2);
    assert.deepEqual(seen.map((r) => r.warm), [true]); // only the warm-up went to the Worker
    assert.ok(message.key.some((byte) => byte !== 0), "the page's key was copied, not zeroed");
    openers.close();
  });

  test("wipeKeys ends the Workers: pending requests stop, nothing more is opened", async () => {
    const message = sealedMessage(3);
    const workers = [];
    const openers = await readyOpeners({ count: 2, makeWorker: () => {
      const worker = handlerWorker({ delay: 50 });
      workers.push(worker);
      return worker;
    } });
    const pending = openers.open(request(message, 0, 3));
    wipeKeys(); // quick exit, sign-out, the session ending
    assert.ok(workers.every((worker) => worker.terminated));
    await assert.rejects(pending, (error) => error.name === "AbortError");
    await assert.rejects(openers.open(request(message, 0, 1)), (e) => e.name === "AbortError");
  });

  test("a Worker that breaks fails what it was asked calmly, not as a failed check", async () => {
    const broken = () => {
      const target = new EventTarget();
      target.postMessage = (message) => {
        const reply = { id: message.id, ready: true };
        setTimeout(() => target.dispatchEvent(message.warm
          ? new MessageEvent("message", { data: reply })
          : new MessageEvent("error")), 1);
      };
      target.terminate = () => {};
      return target;
    };
    const openers = await readyOpeners({ count: 1, makeWorker: broken });
    await assert.rejects(openers.open(request(sealedMessage(1), 0, 1)), ChunkUnavailable);
    openers.close();
  });
});

describe("open.js with Workers", () => {
  /** The page's Worker constructor, standing in: each made Worker runs the real handler. */
  function installWorkers(seen = []) {
    const made = [];
    globalThis.Worker = function StandInWorker(url, options) {
      assert.match(String(url), /\/media\/open-worker\.js$/);
      assert.deepEqual(options, { type: "module" });
      const worker = handlerWorker({ seen });
      made.push(worker);
      return worker;
    };
    return made;
  }

  function serve(stored) {
    globalThis.fetch = async (url) => {
      const [, index, count] = /^1\/(\d+)(?:\?count=(\d+))?$/.exec(url.slice(BASE.length));
      const chunks = stored.slice(Number(index), Number(index) + Number(count ?? 1));
      const headers = count ? { "X-Chunks": chunks.map((c) => c.length).join(",") } : {};
      return new Response(new Blob(chunks), { headers });
    };
  }

  test("a part read in order is the recording; close() ends the Workers", async () => {
    const message = sealedMessage(20);
    const seen = [];
    const made = installWorkers(seen);
    serve(message.stored);
    const opened = await openMessage(p, message.readerSk, message.senderPk, message.object);
    const pieces = [await opened.parts[0].readChunk(0)];
    assert.equal(made.length, 0, "no Worker for the first chunk: the first frame needs it alone");
    // Two GETs of 8 at once, then one of 3 (the player's own sizes are in media-open.test.mjs).
    for await (const plaintext of opened.parts[0].readChunks(1, { batch: 8, ahead: 16 })) {
      pieces.push(plaintext);
      // The first GETs (asked for at once) are checked here while the Workers load the
      // cipher; the next one goes to a Worker.
      if (pieces.length === 2) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const joined = new Uint8Array(await new Blob(pieces).arrayBuffer());
    assert.deepEqual(joined, message.recording);
    assert.deepEqual(seen.filter((r) => !r.warm).map((r) => [r.from, r.sizes.length]), [[17, 3]]);
    opened.close();
    assert.ok(made.every((worker) => worker.terminated));
  });

  test("quick exit (wipeKeys) while a recording is read ends its Workers", async () => {
    const message = sealedMessage(3);
    const made = installWorkers();
    serve(message.stored);
    const opened = await openMessage(p, message.readerSk, message.senderPk, message.object);
    await opened.parts[0].readBatch(0, 3);
    wipeKeys();
    assert.ok(made.length >= 1 && made.every((worker) => worker.terminated));
    await assert.rejects(opened.parts[0].readBatch(0, 3), (error) => error.name === "AbortError");
  });
});
