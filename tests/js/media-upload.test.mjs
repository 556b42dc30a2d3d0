// media/upload.js (resumable uploads of sealed chunks) against a stand-in for the upload API,
// and media/amounts.js (sizes and times in words, re-exported by upload.js).
import "./support/dom.mjs";

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ApiError } from "../../static/js/lib/errors.js";
import {
  Uploader,
  UploadCancelled,
  formatBytes,
  formatClock,
  formatDuration,
  formatTimeLeft,
  hashText,
  heldMap,
} from "../../static/js/media/upload.js";
import { fakeServer, json } from "./support/fake-server.mjs";

const OBJECT = "0b7f6a52-8f5c-4d33-9a51-6a1e2f3c4d5e";
const BASE = `/api/uploads/${OBJECT}/1`;

document.head.innerHTML = '<meta name="csrf-token" content="tok-123">';

/** A PUT handler for Uploader's fetchImpl: records each chunk, answers with `answer(url)`. */
function chunkStore(answer = () => null) {
  const stored = new Map();
  const fetchImpl = async (url, init) => {
    const data = new Uint8Array(await init.body.arrayBuffer());
    const refusal = answer(url);
    if (refusal) return refusal;
    stored.set(new URL(url, "https://portal.test").pathname, { data, init });
    return json({ size: data.length });
  };
  return { stored, fetchImpl };
}

function chunks(...sizes) {
  return sizes.map((size, index) => ({ part: 1, index, data: new Uint8Array(size).fill(index) }));
}

/** Sealed chunks as media/seal.js gives them: with their hashes (here stand-ins). */
function hashed(part, first, ...sizes) {
  return sizes.map((size, i) => ({
    part,
    index: first + i,
    data: new Uint8Array(size).fill(first + i),
    hash: new Uint8Array(32).fill(part * 16 + first + i),
  }));
}

/** A batch PUT handler: records each request, answers with the chunks it listed. */
function batchStore(refuse = () => null) {
  const puts = [];
  const fetchImpl = async (url, init) => {
    const body = new Uint8Array(await init.body.arrayBuffer());
    const refusal = refuse(url);
    if (refusal) return refusal;
    const path = new URL(url, "https://portal.test").pathname;
    const [part, first] = path.split("/").slice(-2).map(Number);
    const listed = init.headers["X-Chunks"].split(",").map((entry) => entry.split(":"));
    puts.push({ path, listed, body });
    return json({
      chunks: listed.map(([size, hash], i) => ({
        part, index: first + i, size: Number(size), hash,
      })),
    });
  };
  return { puts, fetchImpl };
}

describe("media/amounts.js", () => {
  test("sizes in binary units, as the server words its limits", () => {
    assert.equal(formatBytes(900), "900 bytes");
    assert.equal(formatBytes(3.2 * 1024 * 1024), "3.2 MB");
    assert.equal(formatBytes(1024 ** 3), "1 GB");
    assert.equal(formatBytes(Number.NaN), "");
  });

  test("times left, lengths and a running clock", () => {
    assert.equal(formatTimeLeft(30), "less than a minute");
    assert.equal(formatTimeLeft(200), "about 3 minutes");
    assert.equal(formatTimeLeft(3900), "about 1 hour 5 minutes");
    assert.equal(formatDuration(125_000), "2 minutes 5 seconds");
    assert.equal(formatDuration(0), "0 seconds");
    assert.equal(formatClock(65_000), "1:05");
  });
});

describe("media/upload.js", () => {
  test("heldMap keys the server's held chunks by part and index", () => {
    const map = heldMap([{ part: 1, index: 2, size: 5 }]);
    assert.deepEqual(map.get("1/2"), { part: 1, index: 2, size: 5 });
    assert.equal(heldMap(null).size, 0);
  });

  test("start declares the bytes; send puts every chunk with the CSRF token", async () => {
    const server = fakeServer({
      [`POST ${BASE}`]: () => json({ held: [{ part: 1, index: 0 }], max_chunk_bytes: 1024 }),
    });
    const { stored, fetchImpl } = chunkStore();
    const seen = [];
    const onProgress = (progress) => seen.push(progress.percent);
    const up = new Uploader({ objectId: OBJECT, version: 1, fetchImpl, onProgress });
    const { held, maxChunkBytes } = await up.start(30);
    assert.deepEqual(server.requests[0].body, { bytes: 30 });
    assert.equal(maxChunkBytes, 1024);
    assert.ok(held.has("1/0"));
    up.alreadySent(10);
    await up.send(chunks(10, 10, 10).slice(1));
    assert.deepEqual([...stored.keys()].sort(), [`${BASE}/1/1`, `${BASE}/1/2`]);
    for (const { init } of stored.values()) {
      assert.equal(init.method, "PUT");
      assert.equal(init.headers["X-CSRF-Token"], "tok-123");
    }
    assert.equal(seen.at(-1), 100);
  });

  test("a server briefly away is waited for, then sending goes on by itself", async () => {
    fakeServer({ [`POST ${BASE}`]: () => json({ held: [] }) });
    let failures = 1;
    const { stored, fetchImpl } = chunkStore(() =>
      failures-- > 0 ? json({ error: "busy" }, { status: 503 }) : null,
    );
    const waiting = [];
    const up = new Uploader({
      objectId: OBJECT,
      version: 1,
      fetchImpl,
      onWaiting: (now) => {
        waiting.push(now);
        if (now) window.dispatchEvent(new Event("online")); // back at once: try again now
      },
    });
    await up.start(5);
    await up.send(chunks(5));
    assert.deepEqual(waiting, [true, false]);
    assert.equal(stored.size, 1);
  });

  test("a refusal stops sending with the server's sentence", async () => {
    fakeServer({ [`POST ${BASE}`]: () => json({ held: [] }) });
    const { fetchImpl } = chunkStore(() =>
      json({ error: "That is larger than allowed." }, { status: 413 }),
    );
    const up = new Uploader({ objectId: OBJECT, version: 1, fetchImpl, concurrency: 1 });
    await up.start(5);
    const refusal = await up.send(chunks(5, 5)).catch((e) => e);
    assert.ok(refusal instanceof ApiError);
    assert.equal(refusal.status, 413);
    assert.equal(refusal.message, "That is larger than allowed.");
  });

  test("a size the server reports wrongly is not taken for sent", async () => {
    fakeServer({ [`POST ${BASE}`]: () => json({ held: [] }) });
    const up = new Uploader({
      objectId: OBJECT,
      version: 1,
      fetchImpl: async () => json({ size: 1 }),
    });
    await up.start(5);
    await assert.rejects(up.send(chunks(5)), /stored a piece of your message wrongly/);
  });

  test("cancel stops and asks the server to drop what it holds", async () => {
    const server = fakeServer({
      [`POST ${BASE}`]: () => json({ held: [] }),
      [`DELETE ${BASE}`]: () => json({ ok: true }),
    });
    const never = () => new Promise(() => {});
    const up = new Uploader({ objectId: OBJECT, version: 1, fetchImpl: never });
    await up.start(5);
    await up.cancel();
    await assert.rejects(up.send(chunks(5)), UploadCancelled);
    assert.equal(server.requests.at(-1).method, "DELETE");
  });

  test("hashText spells a hash in base64url without padding", () => {
    assert.equal(hashText(new Uint8Array([0xfb, 0xff])), "-_8");
    assert.equal(hashText(new Uint8Array(32)), "A".repeat(43));
  });

  test("consecutive chunks of a part go several to a PUT, listed with sizes and hashes",
    async () => {
      fakeServer({ [`POST ${BASE}`]: () => json({ held: [] }) });
      const { puts, fetchImpl } = batchStore();
      const up = new Uploader({ objectId: OBJECT, version: 1, fetchImpl, batchChunks: 4 });
      const sent = [...hashed(1, 0, 10, 10, 10, 10, 10, 3), ...hashed(2, 0, 7)];
      const expected = sent.map((chunk) => ({
        path: `${BASE}/${chunk.part}/${chunk.index}`,
        entry: [String(chunk.data.length), hashText(chunk.hash)],
        data: [...chunk.data],
      }));
      const seen = [];
      up.onProgress = (progress) => seen.push(progress.sentBytes);
      await up.start(60);
      await up.send(sent);
      assert.deepEqual(puts.map((put) => put.path).sort(),
        [`${BASE}/1/0`, `${BASE}/1/4`, `${BASE}/2/0`]);
      const byPath = new Map(puts.map((put) => [put.path, put]));
      for (const [path, count, from] of [[`${BASE}/1/0`, 4, 0], [`${BASE}/1/4`, 2, 4],
        [`${BASE}/2/0`, 1, 6]]) {
        const put = byPath.get(path);
        const mine = expected.slice(from, from + count);
        assert.deepEqual(put.listed, mine.map((chunk) => chunk.entry));
        assert.deepEqual([...put.body], mine.flatMap((chunk) => chunk.data));
      }
      assert.equal(seen.at(-1), 60);
      assert.ok(sent.every((chunk) => chunk.data === null), "bytes let go once held");
    });

  test("a gap (a chunk held already) starts a new batch", async () => {
    fakeServer({ [`POST ${BASE}`]: () => json({ held: [{ part: 1, index: 1 }] }) });
    const { puts, fetchImpl } = batchStore();
    const up = new Uploader({ objectId: OBJECT, version: 1, fetchImpl, concurrency: 1 });
    await up.start(30);
    const [first, , third] = hashed(1, 0, 10, 10, 10);
    await up.send([first, third]);
    assert.deepEqual(puts.map((put) => [put.path, put.listed.length]),
      [[`${BASE}/1/0`, 1], [`${BASE}/1/2`, 1]]);
  });

  test("a batch refused for a moment is sent again whole", async () => {
    fakeServer({ [`POST ${BASE}`]: () => json({ held: [] }) });
    let failures = 1;
    const { puts, fetchImpl } = batchStore(() =>
      failures-- > 0 ? json({ error: "busy" }, { status: 503 }) : null,
    );
    const up = new Uploader({
      objectId: OBJECT,
      version: 1,
      fetchImpl,
      onWaiting: (now) => {
        if (now) window.dispatchEvent(new Event("online"));
      },
    });
    await up.start(20);
    await up.send(hashed(1, 0, 10, 10));
    assert.deepEqual(puts.map((put) => [put.path, put.listed.length]), [[`${BASE}/1/0`, 2]]);
  });

  test("the first batches are small, and grow by a chunk with each PUT that arrives", async () => {
    fakeServer({ [`POST ${BASE}`]: () => json({ held: [] }) });
    const { puts, fetchImpl } = batchStore();
    const up = new Uploader({ objectId: OBJECT, version: 1, fetchImpl, concurrency: 1 });
    await up.start(400);
    await up.send(hashed(1, 0, ...Array(40).fill(10)));
    assert.deepEqual(puts.map((put) => put.listed.length), [4, 5, 6, 7, 8, 8, 2]);
  });

  test("a batch lost on the way goes again whole, and the next ones are smaller for a while",
    async () => {
      fakeServer({ [`POST ${BASE}`]: () => json({ held: [] }) });
      const { puts, fetchImpl: store } = batchStore();
      let losses = 1;
      const fetchImpl = async (url, init) => {
        if (losses-- > 0) throw new TypeError("Failed to fetch"); // the connection dropped
        return store(url, init);
      };
      const up = new Uploader({
        objectId: OBJECT,
        version: 1,
        fetchImpl,
        concurrency: 1,
        batchChunks: 4,
        onWaiting: (now) => {
          if (now) window.dispatchEvent(new Event("online"));
        },
      });
      await up.start(120);
      await up.send(hashed(1, 0, ...Array(12).fill(10)));
      // Lost: the batch of 4 again whole, then 3 (halved, and one more as that one arrived),
      // then back to 4.
      assert.deepEqual(puts.map((put) => [put.path, put.listed.length]),
        [[`${BASE}/1/0`, 4], [`${BASE}/1/4`, 3], [`${BASE}/1/7`, 4], [`${BASE}/1/11`, 1]]);
      assert.equal(up.batchChunks, 4);
    });

  test("an answer that does not hold exactly what was sent is not taken for sent", async () => {
    fakeServer({ [`POST ${BASE}`]: () => json({ held: [] }) });
    const up = new Uploader({
      objectId: OBJECT,
      version: 1,
      fetchImpl: async () =>
        json({ chunks: [{ part: 1, index: 0, size: 10, hash: "A".repeat(43) }] }),
    });
    await up.start(20);
    await assert.rejects(up.send(hashed(1, 0, 10, 10)), /stored a piece of your message wrongly/);
  });
});

