// Streaming open (protocol.openManifest + protocol.openChunk): what the media players use to
// check and decrypt one chunk at a time. Same protocol as openContent, which is now built on
// them. Run: node --test tests/js/

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as p from "../../static/js/crypto/protocol.js";

await p.ready();

const OBJECT_ID = "0b6f4a4e-8a8c-4a52-9d35-3c1d7d0f2a10";
const OTHER_ID = "11111111-2222-4333-8444-555555555555";
const AUTHOR = "5f1c2b7e-0d4a-4b9e-8f3a-2e6d1c9b8a77";
const VERSION = 3;
const MIB = p.CHUNK_SIZE;

function pattern(length, seed) {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 1) out[i] = (i * 7 + seed) % 251;
  return out;
}

const parts = [
  { kind: "letter", mime: "text/plain; charset=utf-8", name: "", data: new TextEncoder().encode("Dear you,") },
  { kind: "recording", mime: "video/webm;codecs=vp8,opus", name: "", data: pattern(2 * MIB + 5, 1), duration_ms: 95_000 },
  { kind: "page", mime: "image/png", name: "page 1.png", data: pattern(1000, 2) },
  { kind: "attachment", mime: "audio/webm", name: "a.webm", data: new Uint8Array(0) },
];

const key = p.generateContentKey();
const sealed = p.encryptContent(key, OBJECT_ID, VERSION, parts, "2025-01-02T03:04:05Z", AUTHOR);

function flipped(data, position) {
  const copy = Uint8Array.from(data);
  copy[position < 0 ? copy.length + position : position] ^= 1;
  return copy;
}

const open = () => p.openManifest(key, OBJECT_ID, VERSION, sealed.manifestBlob, sealed.manifestHash);

/** A manifest made with the key for chunks chosen by the test (what a buggy author could do). */
function handMade(listed, extra = {}) {
  const manifest = {
    v: 1,
    object_id: OBJECT_ID,
    version: VERSION,
    created_at: "2025-01-02T03:04:05Z",
    author: AUTHOR,
    parts: listed,
    ...extra,
  };
  const blob = p.encryptManifest(key, OBJECT_ID, VERSION, manifest);
  return p.openManifest(key, OBJECT_ID, VERSION, blob, p.manifestHash(blob));
}

describe("openManifest", () => {
  test("returns the parts with their sizes, chunk counts and hashes", () => {
    const manifest = open();
    assert.equal(manifest.author, AUTHOR);
    assert.equal(manifest.created_at, "2025-01-02T03:04:05Z");
    assert.deepEqual(
      manifest.parts.map((part) => [part.kind, part.mime, part.name, part.size, part.chunks]),
      [
        ["letter", "text/plain; charset=utf-8", "", 9, 1],
        ["recording", "video/webm;codecs=vp8,opus", "", 2 * MIB + 5, 3],
        ["page", "image/png", "page 1.png", 1000, 1],
        ["attachment", "audio/webm", "a.webm", 0, 1],
      ],
    );
    assert.deepEqual(
      manifest.parts[1].hashes,
      sealed.chunks[1].map((chunk) => p.b64encode(p.chunkHash(chunk))),
    );
    assert.ok(Object.isFrozen(manifest) && Object.isFrozen(manifest.parts[1].hashes));
    assert.deepEqual(manifest.parts.map((part) => part.duration_ms), [undefined, 95_000, undefined, undefined]);
  });

  test("a manifest that is not the granted one is refused", () => {
    const other = p.manifestHash(flipped(sealed.manifestBlob, 30));
    assert.throws(
      () => p.openManifest(key, OBJECT_ID, VERSION, sealed.manifestBlob, other),
      p.DecryptionFailed,
    );
    assert.throws(
      () => p.openManifest(key, OBJECT_ID, VERSION, flipped(sealed.manifestBlob, 30), p.manifestHash(flipped(sealed.manifestBlob, 30))),
      p.DecryptionFailed,
    );
  });

  test("a manifest of another object or version does not open", () => {
    assert.throws(
      () => p.openManifest(key, OTHER_ID, VERSION, sealed.manifestBlob, sealed.manifestHash),
      p.DecryptionFailed,
    );
    assert.throws(
      () => p.openManifest(key, OBJECT_ID, VERSION + 1, sealed.manifestBlob, sealed.manifestHash),
      p.DecryptionFailed,
    );
  });

  test("duration_ms is kept when it is a whole number, left out otherwise", () => {
    const entry = (duration) => ({
      kind: "recording",
      mime: "audio/webm",
      name: "",
      size: 0,
      chunks: 1,
      hashes: ["AAAA"],
      duration_ms: duration,
    });
    const manifest = handMade([entry(95_000), entry("95"), entry(-1)]);
    assert.deepEqual(
      manifest.parts.map((part) => part.duration_ms),
      [95_000, undefined, undefined],
    );
  });

  test("parts whose sizes do not add up are refused before any chunk is read", () => {
    const entry = { kind: "page", mime: "image/png", name: "", size: MIB + 1, chunks: 1, hashes: ["AAAA"] };
    assert.throws(() => handMade([entry]), p.MalformedInput);
    assert.throws(() => handMade([{ ...entry, size: 1, hashes: [7] }]), p.MalformedInput);
    assert.throws(() => handMade([{ ...entry, size: 1, kind: 7 }]), p.MalformedInput);
  });
});

describe("openChunk", () => {
  test("round trip: every chunk of every part opens to its plaintext", () => {
    const manifest = open();
    parts.forEach((part, number) => {
      const pieces = sealed.chunks[number].map((chunk, index) =>
        p.openChunk(key, OBJECT_ID, VERSION, manifest, number, index, chunk),
      );
      const joined = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
      let at = 0;
      for (const piece of pieces) {
        joined.set(piece, at);
        at += piece.length;
      }
      assert.deepEqual(joined, part.data);
    });
    // 2 MiB + 5 bytes: two full chunks and a last one of 5 bytes.
    assert.deepEqual(
      sealed.chunks[1].map((chunk, index) =>
        p.openChunk(key, OBJECT_ID, VERSION, manifest, 1, index, chunk).length,
      ),
      [MIB, MIB, 5],
    );
  });

  test("a tampered chunk is refused (nonce, body, tag)", () => {
    const manifest = open();
    for (const position of [0, 30, -1]) {
      assert.throws(
        () => p.openChunk(key, OBJECT_ID, VERSION, manifest, 1, 1, flipped(sealed.chunks[1][1], position)),
        p.DecryptionFailed,
      );
    }
  });

  test("a chunk from another index or another part is refused", () => {
    const manifest = open();
    assert.throws(
      () => p.openChunk(key, OBJECT_ID, VERSION, manifest, 1, 0, sealed.chunks[1][1]),
      p.DecryptionFailed,
    );
    assert.throws(
      () => p.openChunk(key, OBJECT_ID, VERSION, manifest, 2, 0, sealed.chunks[3][0]),
      p.DecryptionFailed,
    );
    assert.throws(
      () => p.openChunk(key, OBJECT_ID, VERSION, manifest, 1, 2, sealed.chunks[2][0]),
      p.DecryptionFailed,
    );
  });

  test("even when the manifest lists a chunk at another place, its AD refuses it", () => {
    // An author's bug (or a forged manifest with the key): part 2 listing part 1's first chunk.
    // The hash matches, but the chunk was sealed as (part 1, index 0, not final).
    const moved = sealed.chunks[1][0];
    const manifest = handMade([
      { kind: "page", mime: "image/png", name: "", size: MIB, chunks: 1, hashes: [p.b64encode(p.chunkHash(moved))] },
      { kind: "page", mime: "image/png", name: "", size: MIB, chunks: 1, hashes: [p.b64encode(p.chunkHash(moved))] },
    ]);
    assert.throws(() => p.openChunk(key, OBJECT_ID, VERSION, manifest, 1, 0, moved), p.DecryptionFailed);
  });

  test("the final flag is checked: a last chunk sealed as not final is refused", () => {
    const early = p.encryptChunk(key, OBJECT_ID, VERSION, 0, 0, false, pattern(10, 3));
    const manifest = handMade([
      { kind: "page", mime: "image/png", name: "", size: 10, chunks: 1, hashes: [p.b64encode(p.chunkHash(early))] },
    ]);
    assert.throws(() => p.openChunk(key, OBJECT_ID, VERSION, manifest, 0, 0, early), p.DecryptionFailed);
  });

  test("a chunk of the wrong length is refused", () => {
    // Authentic chunks, but shorter or longer than the manifest's size implies.
    const short = p.encryptChunk(key, OBJECT_ID, VERSION, 0, 0, false, pattern(MIB - 1, 4));
    const last = p.encryptChunk(key, OBJECT_ID, VERSION, 0, 1, true, pattern(6, 5));
    const manifest = handMade([
      {
        kind: "recording",
        mime: "audio/webm",
        name: "",
        size: MIB + 5,
        chunks: 2,
        hashes: [short, last].map((chunk) => p.b64encode(p.chunkHash(chunk))),
      },
    ]);
    assert.throws(() => p.openChunk(key, OBJECT_ID, VERSION, manifest, 0, 0, short), p.MalformedInput);
    assert.throws(() => p.openChunk(key, OBJECT_ID, VERSION, manifest, 0, 1, last), p.MalformedInput);
  });

  test("the wrong key, object or version does not open a chunk", () => {
    const manifest = open();
    const chunk = sealed.chunks[2][0];
    assert.throws(
      () => p.openChunk(p.generateContentKey(), OBJECT_ID, VERSION, manifest, 2, 0, chunk),
      p.DecryptionFailed,
    );
    assert.throws(() => p.openChunk(key, OTHER_ID, VERSION, manifest, 2, 0, chunk), p.DecryptionFailed);
    assert.throws(() => p.openChunk(key, OBJECT_ID, VERSION + 1, manifest, 2, 0, chunk), p.DecryptionFailed);
  });

  test("places outside the manifest are refused", () => {
    const manifest = open();
    const chunk = sealed.chunks[2][0];
    for (const [part, index] of [[4, 0], [-1, 0], [2, 1], [1, 3], [1.5, 0], [2, "0"]]) {
      assert.throws(() => p.openChunk(key, OBJECT_ID, VERSION, manifest, part, index, chunk), p.MalformedInput);
    }
    assert.throws(() => p.openChunk(key, OBJECT_ID, VERSION, {}, 2, 0, chunk), p.MalformedInput);
    assert.throws(() => p.openChunk(key, OBJECT_ID, VERSION, manifest, 2, 0, "chunk"), p.MalformedInput);
  });
});

describe("openContent on top of them", () => {
  test("opens a multi-part object whole, behaviour as before", async () => {
    const opened = await p.openContent(
      key,
      OBJECT_ID,
      VERSION,
      sealed.manifestBlob,
      sealed.manifestHash,
      (part, index) => sealed.chunks[part][index],
    );
    assert.deepEqual(
      opened.map((part) => [part.kind, part.mime, part.name, part.data]),
      parts.map((part) => [part.kind, part.mime, part.name, part.data]),
    );
  });

  test("one bad chunk anywhere and nothing is returned", async () => {
    await assert.rejects(
      p.openContent(key, OBJECT_ID, VERSION, sealed.manifestBlob, sealed.manifestHash, (part, index) =>
        part === 1 && index === 2 ? flipped(sealed.chunks[1][2], 30) : sealed.chunks[part][index],
      ),
      p.DecryptionFailed,
    );
  });
});
