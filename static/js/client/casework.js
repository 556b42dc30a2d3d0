// A case's records, for its facilitators (portal/casework): risk assessments, case notes and
// agreement items. What a facilitator writes in them is case data sealed to the case key
// (docs/protocol-v1.md, "Case data"), with a purpose naming the record's id, which is made here
// (so the server cannot show one record's words as another's, nor a note as an agreement):
//   "risk-assessment:<id>"  the answers, as JSON {harmed, responsible, safeguarding}
//   "facilitator-note:<id>" a note in the case's running log
//   "agreement-item:<id>"   what exactly was agreed
// The server stores the ciphertext with what it may know in clear (a risk level, a kind of
// agreement, days, who and when); the words never leave this browser unsealed.
//
//   sealAssessment(opened, answers) -> {assessment_id, answers}
//   openAssessment(opened, id, sealedB64) -> {harmed, responsible, safeguarding}
//   sealNote(opened, text) -> {note_id, text}
//   sealItem(opened, description) -> {item_id, description}
//   openRecord(opened, kind, id, sealedB64) -> text; kind "note" or "item"
// Each throws CaseKeyUnavailable without the case key (opened null), and opening throws
// RecordNotOpened when the words do not open with any of the case's keys (earlier epochs too).
//
// `opened` is client/cases.js openCase's {caseId, keys, caseKey}.

import { protocol } from "../crypto/keys.js";
import { ShowableError } from "../lib/errors.js";
import { newId } from "../lib/ids.js";
import { openWithCaseKeys } from "./case-epochs.js";
import { CaseKeyUnavailable } from "./cases.js";

export { CaseKeyUnavailable };

const PURPOSES = Object.freeze({
  assessment: "risk-assessment",
  note: "facilitator-note",
  item: "agreement-item",
});
export const ANSWERS = Object.freeze(["harmed", "responsible", "safeguarding"]);

const KEY_NOT_UNLOCKED =
  "The case's key is not unlocked, so nothing can be saved. Reload the page to try again.";

export class RecordNotOpened extends ShowableError {
  constructor() {
    super("This could not be unlocked with the case's key.");
    this.name = "RecordNotOpened";
  }
}

function purposeOf(kind, id) {
  const prefix = PURPOSES[kind];
  if (!prefix) throw new TypeError("unknown record kind");
  return `${prefix}:${id}`;
}

async function seal(opened, kind, text) {
  if (!opened?.caseKey) throw new CaseKeyUnavailable(KEY_NOT_UNLOCKED);
  const p = await protocol();
  const id = newId();
  const sealed = p.sealCaseText(opened.caseKey.caseSk, opened.caseId, purposeOf(kind, id), text);
  return { id, sealed: p.b64encode(sealed) };
}

export async function openRecord(opened, kind, id, sealedB64) {
  if (!opened?.caseKey) throw new CaseKeyUnavailable(KEY_NOT_UNLOCKED);
  const p = await protocol();
  const purpose = purposeOf(kind, id);
  try {
    const sealed = p.b64decode(sealedB64);
    return await openWithCaseKeys(p, opened.caseKey, (caseSk) =>
      p.openCaseText(caseSk, opened.caseId, purpose, sealed),
    );
  } catch (error) {
    if (error instanceof p.ProtocolError) throw new RecordNotOpened();
    throw error;
  }
}

/** `answers`: {harmed, responsible, safeguarding}, each a string (empty when not answered). */
export async function sealAssessment(opened, answers) {
  const only = Object.fromEntries(ANSWERS.map((name) => [name, String(answers[name] ?? "")]));
  const { id, sealed } = await seal(opened, "assessment", JSON.stringify(only));
  return { assessment_id: id, answers: sealed };
}

export async function openAssessment(opened, id, sealedB64) {
  const text = await openRecord(opened, "assessment", id, sealedB64);
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new RecordNotOpened();
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new RecordNotOpened();
  return Object.fromEntries(
    ANSWERS.map((name) => [name, typeof parsed[name] === "string" ? parsed[name] : ""]),
  );
}

export async function sealNote(opened, text) {
  const { id, sealed } = await seal(opened, "note", text);
  return { note_id: id, text: sealed };
}

export async function sealItem(opened, description) {
  const { id, sealed } = await seal(opened, "item", description);
  return { item_id: id, description: sealed };
}
