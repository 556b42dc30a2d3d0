// client/casework.js with the real protocol (libsodium in node): a case's records (risk
// answers, notes, agreement descriptions) are sealed to the case key as case data whose purpose
// names the record's id made here; they open with the case key of their epoch or a later one
// (walking back), and never as another record or another kind of record.
import "./support/dom.mjs";

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  CaseKeyUnavailable,
  RecordNotOpened,
  openAssessment,
  openRecord,
  sealAssessment,
  sealItem,
  sealNote,
} from "../../static/js/client/casework.js";
import { protocol } from "../../static/js/crypto/keys.js";

const p = await protocol();
const CASE = "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const CANARY = "canary-7f3e: the fence at number 12";

function opened(caseSk = p.generateIdentity()[0], older = []) {
  return { caseId: CASE, keys: null, caseKey: { caseSk, older } };
}

describe("client/casework.js", () => {
  test("a note is sealed to the case key under a purpose naming its new id", async () => {
    const mine = opened();
    const fields = await sealNote(mine, CANARY);
    assert.match(fields.note_id, UUID4);
    assert.deepEqual(Object.keys(fields).sort(), ["note_id", "text"]);
    assert.ok(!fields.text.includes("canary"));
    const sealed = p.b64decode(fields.text);
    const purpose = `facilitator-note:${fields.note_id}`;
    assert.equal(p.openCaseText(mine.caseKey.caseSk, CASE, purpose, sealed), CANARY);
    assert.equal(await openRecord(mine, "note", fields.note_id, fields.text), CANARY);
  });

  test("each record gets its own id", async () => {
    const mine = opened();
    const first = await sealItem(mine, "Repaint the fence");
    const second = await sealItem(mine, "Repaint the fence");
    assert.notEqual(first.item_id, second.item_id);
    assert.equal(await openRecord(mine, "item", first.item_id, first.description), "Repaint the fence");
  });

  test("words moved to another record, or shown as another kind, do not open", async () => {
    const mine = opened();
    const note = await sealNote(mine, CANARY);
    const item = await sealItem(mine, "Apologise");
    const moved = await openRecord(mine, "note", item.item_id, note.text).catch((e) => e);
    assert.ok(moved instanceof RecordNotOpened);
    const asItem = await openRecord(mine, "item", note.note_id, note.text).catch((e) => e);
    assert.ok(asItem instanceof RecordNotOpened);
    const otherCase = { ...mine, caseId: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d" };
    assert.ok((await openRecord(otherCase, "note", note.note_id, note.text).catch((e) => e)) instanceof RecordNotOpened);
    assert.ok((await openRecord(mine, "note", note.note_id, "!!").catch((e) => e)) instanceof RecordNotOpened);
    await assert.rejects(openRecord(mine, "letter", note.note_id, note.text), TypeError);
  });

  test("a risk assessment's answers travel as one sealed JSON object", async () => {
    const mine = opened();
    const fields = await sealAssessment(mine, {
      harmed: CANARY,
      responsible: "",
      safeguarding: "Meet at the office",
      extra: "never sent",
    });
    assert.match(fields.assessment_id, UUID4);
    const purpose = `risk-assessment:${fields.assessment_id}`;
    const inside = JSON.parse(p.openCaseText(mine.caseKey.caseSk, CASE, purpose, p.b64decode(fields.answers)));
    assert.deepEqual(inside, { harmed: CANARY, responsible: "", safeguarding: "Meet at the office" });
    assert.deepEqual(await openAssessment(mine, fields.assessment_id, fields.answers), inside);
  });

  test("answers that are not an object of strings do not show", async () => {
    const mine = opened();
    const id = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e";
    const seal = (text) =>
      p.b64encode(p.sealCaseText(mine.caseKey.caseSk, CASE, `risk-assessment:${id}`, text));
    assert.ok((await openAssessment(mine, id, seal("not json")).catch((e) => e)) instanceof RecordNotOpened);
    assert.ok((await openAssessment(mine, id, seal("[1]")).catch((e) => e)) instanceof RecordNotOpened);
    assert.deepEqual(await openAssessment(mine, id, seal('{"harmed": 5}')), {
      harmed: "",
      responsible: "",
      safeguarding: "",
    });
  });

  test("what was sealed under an earlier epoch opens with the key that reaches it", async () => {
    const [earlierSk] = p.generateIdentity();
    const before = await sealNote(opened(earlierSk), "Before the change");
    const [currentSk] = p.generateIdentity();
    const now = opened(currentSk, [{ epoch: 1, caseSk: earlierSk }]);
    assert.equal(await openRecord(now, "note", before.note_id, before.text), "Before the change");
    const without = opened(currentSk);
    assert.ok((await openRecord(without, "note", before.note_id, before.text).catch((e) => e)) instanceof RecordNotOpened);
  });

  test("nothing is sealed or opened without the case key", async () => {
    for (const attempt of [sealNote(null, "x"), sealItem({ caseId: CASE, caseKey: null }, "x"), sealAssessment(null, {})]) {
      const refusal = await attempt.catch((e) => e);
      assert.ok(refusal instanceof CaseKeyUnavailable);
      assert.match(refusal.message, /nothing can be saved/);
    }
    assert.ok((await openRecord(null, "note", "x", "AAAA").catch((e) => e)) instanceof CaseKeyUnavailable);
  });
});
