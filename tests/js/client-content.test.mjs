// client/content.js with the real protocol: sealed objects as they travel (the JSON shapes of
// docs/api-cases-and-letters.md) turned into protocol calls and back.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { chunkBytes, letterFields, openSealed } from "../../static/js/client/content.js";
import { participantWorld, sealedText, tampered } from "./support/participant.mjs";

const TEXT = "Dear you,\n\nI am sorry.";

describe("client/content.js", () => {
  test("chunks arrive as base64url strings or as upload-shaped objects", () => {
    const { p } = participantWorld();
    const bytes = new Uint8Array([1, 2, 3]);
    const b64 = p.b64encode(bytes);
    assert.deepEqual(chunkBytes(p, [b64, { part: 0, index: 1, data: b64 }]).map((c) => [...c]), [
      [1, 2, 3],
      [1, 2, 3],
    ]);
    assert.throws(() => chunkBytes(p, "not a list"), p.MalformedInput);
  });

  test("a sealed object opens for its reader, from its sender only", async () => {
    const { p, author, caseKeys } = participantWorld();
    const sealed = sealedText(author, caseKeys.publicKey, TEXT);
    assert.equal(await openSealed(p, caseKeys.secretKey, author.publicKey, sealed), TEXT);
    await assert.rejects(
      openSealed(p, caseKeys.secretKey, caseKeys.publicKey, sealed),
      p.ProtocolError,
    );
  });

  test("a changed chunk or nothing at all opens nothing", async () => {
    const { p, author, caseKeys } = participantWorld();
    const sealed = tampered(sealedText(author, caseKeys.publicKey, TEXT));
    await assert.rejects(
      openSealed(p, caseKeys.secretKey, author.publicKey, sealed),
      p.ProtocolError,
    );
    assert.throws(() => openSealed(p, caseKeys.secretKey, author.publicKey, null), p.MalformedInput);
  });

  test("a sealed letter becomes the send request's fields: one part, the last chunk final", () => {
    const { p, author, caseKeys } = participantWorld();
    const objectId = "0b7f6a52-8f5c-4d33-9a51-6a1e2f3c4d5e";
    const long = "x".repeat(p.CHUNK_SIZE + 10); // two chunks
    const sealed = p.sealLetter(author.secretKey, author.publicKey, caseKeys.publicKey, objectId,
      1, long, "2026-11-23T10:00:00.000Z", author.accountId);
    const fields = letterFields(p, sealed, objectId, 1);
    assert.deepEqual(Object.keys(fields).sort(), ["grant_to_author", "grant_to_case", "letter"]);
    assert.deepEqual(
      fields.letter.chunks.map(({ part, index, final }) => [part, index, final]),
      [
        [0, 0, false],
        [0, 1, true],
      ],
    );
    assert.equal(fields.letter.manifest_hash, p.b64encode(sealed.manifestHash));
    assert.equal(fields.grant_to_case, p.b64encode(sealed.grantToCase));
  });
});
