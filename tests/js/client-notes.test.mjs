// client/notes.js with the real protocol (libsodium in node), against a stand-in for the one
// endpoint it calls (POST /api/cases/{id}/objects): a note is sealed in the browser for the case
// key and for one person, and opened only after its grant, manifest hash and chunk hashes check.
import "./support/dom.mjs";

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { NOTE_KINDS, openNote, sealNote } from "../../static/js/client/notes.js";
import { protocol } from "../../static/js/crypto/keys.js";
import { fakeServer, json } from "./support/fake-server.mjs";

const p = await protocol();
const CASE = "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
const OBJECT = "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d";
const FACILITATOR = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
const WORDS = "Please say more about what you understand now.\n\nThank you.";

function world() {
  const [secretKey, publicKey] = p.generateIdentity();
  const [caseSk, casePk] = p.generateIdentity();
  const [personSk, personPk] = p.generateIdentity();
  const keys = { accountId: FACILITATOR, secretKey, publicKey };
  const server = fakeServer({
    [`POST /api/cases/${CASE}/objects`]: () => json({ object_id: OBJECT }),
  });
  return { keys, caseSk, casePk, personSk, personPk, server };
}

async function sealed(w, kind = "feedback", text = WORDS) {
  const { keys, casePk, personPk } = w;
  return sealNote({ keys, caseId: CASE, casePublicKey: casePk, kind, text, personPublicKey: personPk });
}

/** The note as a reader gets it back: one of its grants, and who made it. */
function asRead(note, grant, keys) {
  return { ...note, grant, sender_public_key: p.b64encode(keys.publicKey) };
}

describe("client/notes.js", () => {
  test("a note is sealed for the case key and for its one person, under the issued id", async () => {
    const w = world();
    const note = await sealed(w);
    assert.deepEqual(w.server.requests[0].body, { kind: "feedback" });
    assert.equal(note.object_id, OBJECT);
    assert.equal(note.version, 1);
    assert.deepEqual(Object.keys(note).sort(), [
      "chunks",
      "grant_to_case",
      "grant_to_person",
      "manifest",
      "manifest_hash",
      "object_id",
      "version",
    ]);
    assert.deepEqual(note.chunks.map(({ part, index, final }) => [part, index, final]), [[0, 0, true]]);
    assert.equal(await openNote(w.caseSk, asRead(note, note.grant_to_case, w.keys)), WORDS);
    assert.equal(await openNote(w.personSk, asRead(note, note.grant_to_person, w.keys)), WORDS);
    assert.doesNotMatch(JSON.stringify(note), /understand/);
  });

  test("nobody else opens it, and only as the note its id names", async () => {
    const w = world();
    const note = await sealed(w, "content_note");
    const [strangerSk] = p.generateIdentity();
    await assert.rejects(openNote(strangerSk, asRead(note, note.grant_to_person, w.keys)), p.ProtocolError);
    const elsewhere = { ...note, object_id: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d" };
    await assert.rejects(openNote(w.personSk, asRead(elsewhere, note.grant_to_person, w.keys)), p.ProtocolError);
  });

  test("a note changed on the server, or claiming another sender, does not open", async () => {
    const w = world();
    const note = await sealed(w, "transcript");
    const chunk = p.b64decode(note.chunks[0].data);
    chunk[chunk.length - 1] ^= 1;
    const changed = { ...note, chunks: [{ ...note.chunks[0], data: p.b64encode(chunk) }] };
    await assert.rejects(openNote(w.personSk, asRead(changed, note.grant_to_person, w.keys)), p.ProtocolError);
    const [, otherPk] = p.generateIdentity();
    const forged = { ...asRead(note, note.grant_to_person, w.keys), sender_public_key: p.b64encode(otherPk) };
    await assert.rejects(openNote(w.personSk, forged), p.ProtocolError);
    await assert.rejects(openNote(w.personSk, null), p.ProtocolError);
  });

  test("an approval note is sealed for the case key alone: no grant to anyone else", async () => {
    const w = world();
    const { keys, casePk } = w;
    const note = await sealNote({
      keys,
      caseId: CASE,
      casePublicKey: casePk,
      kind: "approval_note",
      text: WORDS,
      personPublicKey: null,
    });
    assert.deepEqual(w.server.requests[0].body, { kind: "approval_note" });
    assert.equal(note.grant_to_person, undefined);
    assert.equal(await openNote(w.caseSk, asRead(note, note.grant_to_case, w.keys)), WORDS);
    await assert.rejects(openNote(w.personSk, asRead(note, note.grant_to_case, w.keys)), p.ProtocolError);
  });

  test("only the four kinds of note exist, and nothing is asked for another", async () => {
    const w = world();
    assert.deepEqual([...NOTE_KINDS], ["feedback", "content_note", "transcript", "approval_note"]);
    await assert.rejects(sealed(w, "letter"), TypeError);
    assert.equal(w.server.requests.length, 0);
  });
});
