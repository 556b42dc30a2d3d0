// static/js/media/seal-worker.js and seal-workers.js: a file sealed in Workers, run by run, must
// give exactly the chunks PartSealer gives on the page (same nonces, same bytes, same order,
// held chunks in their places), and a Worker that fails must end in a calm sentence.
// Node has no Web Worker: the "Workers" here are stand-ins that pass each request through a
// real structured clone (with the transfer list, as postMessage does) to the real handler.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as p from "../../static/js/crypto/protocol.js";
import { PartSealer } from "../../static/js/media/seal.js";
import { handleSealRequest } from "../../static/js/media/seal-worker.js";
import {
  SEALING_FAILED_MESSAGE,
  SealWorkers,
  SealingFailed,
  sealFileChunks,
  sealingRuns,
} from "../../static/js/media/seal-workers.js";

await p.ready();

const MiB = 1024 * 1024;
const OBJECT = "0b7f6a52-8f5c-4d33-9a51-6a1e2f3c4d5e";
const key = p.generateContentKey();

function pattern(length, seed = 0) {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 1) out[i] = (i * 7 + seed) % 251;
  return out;
}

function nonceFor(index) {
  const nonce = new Uint8Array(24);
  new DataView(nonce.buffer).setUint32(0, index + 1);
  return nonce;
}

/** The page's way: PartSealer over the whole file, with nonces by chunk number. */
function sealedOnThePage(data) {
  let index = 0;
  const sealer = new PartSealer(p, { key, objectId: OBJECT, version: 2, part: 1,
    kind: "attachment", mime: "video/mp4", name: "a.mp4", knownSize: data.length,
    nonce: () => nonceFor(index++) });
  const chunks = sealer.push(data);
  sealer.finish();
  if (sealer.lastChunk) chunks.push(sealer.lastChunk);
  return chunks;
}

/** A stand-in Worker running the real handler; `delay(request)` ms before it answers. */
function handlerWorker({ delay = () => 0, seen = [] } = {}) {
  const target = new EventTarget();
  target.terminated = false;
  target.postMessage = (message) => {
    const request = structuredClone(message);
    seen.push(request);
    setTimeout(async () => {
      if (target.terminated) return;
      const { reply, transfer } = await handleSealRequest(request);
      const moved = structuredClone(reply, { transfer });
      // Transferred, not copied: the worker's buffers are detached once posted.
      for (const buffer of transfer) assert.equal(buffer.byteLength, 0);
      target.dispatchEvent(new MessageEvent("message", { data: moved }));
    }, delay(request));
  };
  target.terminate = () => {
    target.terminated = true;
  };
  return target;
}

async function collect(iterable) {
  const out = [];
  for await (const item of iterable) out.push(item);
  return out;
}

const cases = [
  ["2 MiB + 5 bytes", 2 * MiB + 5],
  ["exactly 3 MiB", 3 * MiB],
  ["empty", 0],
  ["20 MiB + 1 byte (three runs)", 20 * MiB + 1],
];

describe("seal-worker.js handleSealRequest", () => {
  test("a run of chunks equals PartSealer's, with the buffers to transfer", async () => {
    const data = pattern(3 * MiB + 9);
    const page = sealedOnThePage(data);
    const { reply, transfer } = await handleSealRequest({ id: 7, key, objectId: OBJECT,
      version: 2, part: 1, file: new Blob([data]), size: data.length, indexes: [1, 2, 3],
      nonces: [1, 2, 3].map(nonceFor) });
    assert.equal(reply.id, 7);
    assert.deepEqual(reply.chunks.map((c) => [c.index, c.final]), [[1, false], [2, false], [3, true]]);
    reply.chunks.forEach((chunk, at) => {
      assert.deepEqual(chunk.data, page[at + 1].data);
      assert.deepEqual(chunk.hash, page[at + 1].hash);
    });
    assert.deepEqual(transfer, reply.chunks.map((c) => c.data.buffer));
  });

  test("bad requests answer with an error and nothing to transfer", async () => {
    const file = new Blob([pattern(10)]);
    const base = { id: 1, key, objectId: OBJECT, version: 2, part: 1, file, size: 10 };
    for (const request of [
      { ...base, indexes: [1] }, // past the end
      { ...base, indexes: [] },
      { ...base, size: 11, indexes: [0] }, // the file is not the size it was when chosen
      { ...base, file: "not a blob", indexes: [0] },
      { ...base, key: "k", indexes: [0] },
    ]) {
      const { reply, transfer } = await handleSealRequest(request);
      assert.equal(reply.id, 1);
      assert.match(reply.error, /MalformedInput/);
      assert.equal(reply.chunks, undefined);
      assert.deepEqual(transfer, []);
    }
  });
});

describe("seal-workers.js", () => {
  test("sealingRuns: runs of consecutive chunks, broken at held ones", () => {
    assert.deepEqual(sealingRuns(5, () => false, 2), [[0, 1], [2, 3], [4]]);
    assert.deepEqual(sealingRuns(6, (i) => i === 2 || i === 3, 8), [[0, 1], [4, 5]]);
    assert.deepEqual(sealingRuns(1, () => true), []);
  });

  for (const [name, size] of cases) {
    for (const where of ["on this thread", "in two Workers"]) {
      test(`${name}, ${where}: the same chunks as PartSealer, in order`, async () => {
        const data = pattern(size, 3);
        const page = sealedOnThePage(data);
        // The first Worker answers late, so replies come back out of order.
        const makers = [handlerWorker({ delay: () => 30 }), handlerWorker()];
        const workers = where === "on this thread"
          ? new SealWorkers({ makeWorker: () => null })
          : new SealWorkers({ count: 2, makeWorker: () => makers.shift() });
        assert.equal(workers.inWorkers, where !== "on this thread");
        const got = await collect(sealFileChunks(workers, { key, objectId: OBJECT, version: 2,
          part: 1, file: new Blob([data]), size, nonces: nonceFor }));
        workers.close();
        assert.deepEqual(got.map((c) => [c.part, c.index, c.final, c.size]),
          page.map((c) => [c.part, c.index, c.final, c.size]));
        got.forEach((chunk, index) => {
          assert.deepEqual(chunk.data, page[index].data);
          assert.deepEqual(chunk.hash, page[index].hash);
        });
      });
    }
  }

  test("held chunks keep their places and are never read or sealed", async () => {
    const data = pattern(10 * MiB + 3);
    const page = sealedOnThePage(data);
    const seen = [];
    const workers = new SealWorkers({ count: 1, makeWorker: () => handlerWorker({ seen }) });
    const held = new Set([0, 1, 9]);
    const got = await collect(sealFileChunks(workers, { key, objectId: OBJECT, version: 2,
      part: 1, file: new Blob([data]), size: data.length, isHeld: (i) => held.has(i),
      nonces: nonceFor }));
    workers.close();
    assert.deepEqual(got.map((c) => (c.held ? `held ${c.index}` : c.index)),
      ["held 0", "held 1", 2, 3, 4, 5, 6, 7, 8, "held 9", 10]);
    for (const chunk of got.filter((c) => !c.held)) {
      assert.deepEqual(chunk.data, page[chunk.index].data);
    }
    assert.deepEqual(seen.map((r) => r.indexes), [[2, 3, 4, 5, 6, 7, 8], [10]]);
  });

  test("memory stays bounded: at most `ahead` runs are asked for before the first is taken",
    async () => {
      const seen = [];
      const workers = new SealWorkers({ count: 2, makeWorker: () => handlerWorker({ seen }) });
      const size = 40 * MiB;
      const chunks = sealFileChunks(workers, { key, objectId: OBJECT, version: 2, part: 1,
        file: new Blob([new Uint8Array(size)]), size, runChunks: 2, ahead: 3 });
      await chunks.next();
      assert.ok(seen.length <= 4, `asked for ${seen.length} runs`);
      await chunks.return();
      workers.close();
    });

  test("a Worker that fails ends in SealingFailed, a calm sentence", async () => {
    const broken = () => {
      const target = new EventTarget();
      target.postMessage = () => setTimeout(() => target.dispatchEvent(new Event("error")), 1);
      target.terminate = () => {};
      return target;
    };
    const workers = new SealWorkers({ count: 2, makeWorker: broken });
    const data = pattern(3 * MiB);
    await assert.rejects(
      collect(sealFileChunks(workers, { key, objectId: OBJECT, version: 2, part: 1,
        file: new Blob([data]), size: data.length })),
      (error) => error instanceof SealingFailed && error.message === SEALING_FAILED_MESSAGE,
    );
    workers.close();
  });

  test("a file that changed after it was chosen ends in SealingFailed", async () => {
    const workers = new SealWorkers({ count: 1, makeWorker: () => handlerWorker() });
    await assert.rejects(
      collect(sealFileChunks(workers, { key, objectId: OBJECT, version: 2, part: 1,
        file: new Blob([pattern(100)]), size: 2 * MiB })),
      SealingFailed,
    );
    workers.close();
  });

  test("warm loads the cipher in every Worker before the first chunk", async () => {
    const seen = [];
    const workers = new SealWorkers({ count: 2, makeWorker: () => handlerWorker({ seen }) });
    await workers.warm();
    assert.deepEqual(seen.map((r) => r.warm), [true, true]);
    workers.close();
    await new SealWorkers({ makeWorker: () => null }).warm(); // on this thread: nothing to do
  });

  test("after close nothing more is sealed", async () => {
    const workers = new SealWorkers({ count: 1, makeWorker: () => handlerWorker() });
    workers.close();
    await assert.rejects(workers.seal({}), SealingFailed);
  });
});
