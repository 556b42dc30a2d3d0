// static/js/media/seal.js against protocol.encryptContent: a message sealed as a stream
// (PartSealer, pieces of odd sizes) must be byte-identical to the same message sealed whole,
// given the same nonces. Run: node --test tests/js/

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as p from "../../static/js/crypto/protocol.js";
import {
  PartSealer,
  chunkCountFor,
  cipherSize,
  messageFormat,
  messageLength,
  sealManifest,
  sealMessage,
  sealTextPart,
} from "../../static/js/media/seal.js";

await p.ready();

const MiB = 1024 * 1024;
const OBJECT = "0b7f6a52-8f5c-4d33-9a51-6a1e2f3c4d5e";
const AUTHOR = "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const CREATED = "2026-11-23T10:00:00.000Z";

function pattern(length, seed = 0) {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 1) out[i] = (i + seed) % 251;
  return out;
}

function nonceList(n) {
  return Array.from({ length: n }, (_, i) => {
    const nonce = new Uint8Array(24);
    new DataView(nonce.buffer).setUint32(0, i + 1);
    return nonce;
  });
}

/** Feed `data` to a sealer in pieces of the given sizes, cycling. */
function feed(sealer, data, sizes) {
  const out = [];
  let offset = 0;
  let i = 0;
  while (offset < data.length) {
    const take = Math.min(sizes[i % sizes.length], data.length - offset);
    out.push(...sealer.push(data.subarray(offset, offset + take)));
    offset += take;
    i += 1;
  }
  return out;
}

const key = p.generateContentKey();
const parts = [
  { kind: "letter", mime: "text/plain; charset=utf-8", name: "", data: new TextEncoder().encode("Dear you,\n\nI am sorry.") },
  { kind: "recording", mime: "video/webm;codecs=vp8,opus", name: "", data: pattern(2 * MiB + 5) },
  { kind: "page", mime: "image/jpeg", name: "page 1.jpg", data: new Uint8Array(0) },
  { kind: "attachment", mime: "audio/mpeg", name: "song.mp3", data: pattern(2 * MiB, 7) },
  { kind: "page", mime: "application/pdf", name: "letter.pdf", data: pattern(MiB - 1, 3) },
];
const total = parts.reduce((sum, part) => sum + chunkCountFor(part.data.length), 0);

function streamed({ knownSize }) {
  const nonces = nonceList(total + 1);
  let used = 0;
  const nonce = () => nonces[used++];
  const chunks = [];
  const entries = [];
  const pieceSizes = [[7], [1000, 65536, 333333], [1], [MiB], [MiB + 1]];
  parts.forEach((part, number) => {
    const seen = [];
    const sealer = new PartSealer(p, {
      key, objectId: OBJECT, version: 3, part: number, kind: part.kind, mime: part.mime,
      name: part.name, nonce, knownSize: knownSize ? part.data.length : null,
      onChunk: (chunk) => seen.push(chunk),
    });
    const returned = feed(sealer, part.data, pieceSizes[number]);
    entries.push(sealer.finish());
    if (sealer.lastChunk) returned.push(sealer.lastChunk);
    assert.deepEqual(returned.map((c) => c.index), seen.map((c) => c.index));
    chunks.push(seen);
  });
  const { manifestBlob, manifestHash } = sealManifest(p, {
    key, objectId: OBJECT, version: 3, createdAt: CREATED, author: AUTHOR, entries,
    nonce: nonce(),
  });
  return { chunks, entries, manifestBlob, manifestHash };
}

describe("PartSealer", () => {
  const whole = p.encryptContent(key, OBJECT, 3, parts, CREATED, AUTHOR, {
    nonces: nonceList(total + 1),
  });

  for (const knownSize of [false, true]) {
    test(`streamed equals encryptContent (size ${knownSize ? "known" : "unknown"})`, () => {
      const s = streamed({ knownSize });
      assert.deepEqual(s.manifestBlob, whole.manifestBlob);
      assert.deepEqual(s.manifestHash, whole.manifestHash);
      assert.equal(s.chunks.length, whole.chunks.length);
      s.chunks.forEach((list, number) => {
        assert.equal(list.length, whole.chunks[number].length, `part ${number} chunk count`);
        list.forEach((chunk, index) => {
          assert.deepEqual(chunk.data, whole.chunks[number][index]);
          assert.equal(chunk.part, number);
          assert.equal(chunk.index, index);
          assert.equal(chunk.final, index === list.length - 1);
          assert.equal(chunk.size, chunk.data.length);
          assert.deepEqual(chunk.hash, p.chunkHash(chunk.data));
        });
      });
      // 2 MiB + 5 bytes: two full chunks and a final one of 5 bytes; an empty part: one empty
      // final chunk; exactly 2 MiB: two full chunks, the second final.
      assert.deepEqual(s.chunks[1].map((c) => c.data.length), [MiB + 40, MiB + 40, 45]);
      assert.deepEqual(s.chunks[2].map((c) => c.data.length), [40]);
      assert.deepEqual(s.chunks[3].map((c) => c.final), [false, true]);
    });
  }

  test("the sealed message opens with openContent", async () => {
    const s = streamed({ knownSize: false });
    const opened = await p.openContent(key, OBJECT, 3, s.manifestBlob, s.manifestHash,
      (part, index) => s.chunks[part][index].data);
    opened.forEach((part, number) => {
      assert.equal(part.kind, parts[number].kind);
      assert.equal(part.name, parts[number].name);
      assert.deepEqual(part.data, parts[number].data);
    });
  });

  test("skipChunk stands in for chunks sealed elsewhere", () => {
    const data = pattern(3 * MiB + 10);
    const first = new PartSealer(p, { key, objectId: OBJECT, version: 3, part: 1,
      kind: "attachment", mime: "video/mp4", name: "a.mp4", knownSize: data.length });
    const all = feed(first, data, [MiB]);
    first.finish();
    all.push(first.lastChunk);
    // Resume: chunks 0 and 2 are held already; only 1 and 3 are sealed again.
    const again = new PartSealer(p, { key, objectId: OBJECT, version: 3, part: 1,
      kind: "attachment", mime: "video/mp4", name: "a.mp4", knownSize: data.length });
    const sealed = [];
    for (let index = 0; index < 4; index += 1) {
      if (index % 2 === 0) {
        again.skipChunk({ size: all[index].size, hash: all[index].hash });
      } else {
        sealed.push(...again.push(data.subarray(index * MiB, (index + 1) * MiB)));
      }
    }
    const entry = again.finish();
    if (again.lastChunk) sealed.push(again.lastChunk);
    assert.deepEqual(sealed.map((c) => [c.index, c.final]), [[1, false], [3, true]]);
    assert.equal(entry.size, data.length);
    assert.equal(entry.chunks, 4);
    assert.equal(entry.hashes[0], p.b64encode(all[0].hash));
  });

  test("duration_ms is listed when given", () => {
    const sealer = new PartSealer(p, { key, objectId: OBJECT, version: 1, part: 1,
      kind: "recording", mime: "audio/webm;codecs=opus", name: "" });
    sealer.push(pattern(10));
    const entry = sealer.finish({ durationMs: 3210 });
    assert.equal(entry.duration_ms, 3210);
  });

  test("sizes", () => {
    assert.equal(chunkCountFor(0), 1);
    assert.equal(chunkCountFor(2 * MiB), 2);
    assert.equal(chunkCountFor(2 * MiB + 1), 3);
    assert.equal(cipherSize(0), 40);
    assert.equal(cipherSize(2 * MiB + 5), 2 * MiB + 5 + 120);
  });
});

describe("sealMessage", () => {
  test("text-only equals sealLetter given the same nonces", () => {
    const [sk, pk] = p.generateIdentity();
    const [, casePk] = p.generateIdentity();
    const text = "A short letter.";
    const n = nonceList(4);
    const letter = p.sealLetter(sk, pk, casePk, OBJECT, 1, text, CREATED, AUTHOR, {
      contentKey: key, nonces: n,
    });
    const { chunks, entry } = sealTextPart(p, { key, objectId: OBJECT, version: 1, text,
      nonce: () => n[0] });
    const { fields, manifestHash } = sealMessage(p, {
      key, objectId: OBJECT, version: 1, createdAt: CREATED, authorId: AUTHOR, authorSk: sk,
      authorPk: pk, casePk, inline: chunks, stored: [], entries: [entry],
      nonces: { manifest: n[1], grantToCase: n[2], grantToAuthor: n[3] },
    });
    assert.deepEqual(manifestHash, letter.manifestHash);
    assert.equal(fields.letter.manifest, p.b64encode(letter.manifest));
    assert.equal(fields.letter.chunks[0].data, p.b64encode(letter.chunks[0]));
    assert.deepEqual(fields.letter.stored_chunks, []);
    assert.equal(fields.grant_to_case, p.b64encode(letter.grantToCase));
    assert.equal(fields.grant_to_author, p.b64encode(letter.grantToAuthor));
    assert.equal(fields.format, "letter");
    assert.deepEqual(fields.length, {});
  });

  test("format and length", () => {
    const e = (kind, mime, duration_ms) => ({ kind, mime, duration_ms });
    assert.equal(messageFormat([e("letter", "text/plain; charset=utf-8")]), "letter");
    assert.equal(messageFormat([e("page", "image/png"), e("attachment", "audio/mpeg")]), "audio");
    assert.equal(messageFormat([e("recording", "audio/webm"), e("attachment", "video/mp4")]), "video");
    assert.deepEqual(
      messageLength([e("letter", "x"), e("recording", "video/webm", 61400), e("page", "image/png"),
        e("page", "application/pdf"), e("attachment", "audio/ogg", 2000)]),
      { seconds: 63, pages: 2 },
    );
  });
});
