// Letters a facilitator enters for a participant who cannot use the portal (templates/cases/
// enter.html; docs/api-cases-and-letters.md, "Entered for a participant without access").
//
//   enteredIdentity(caseId, participantId) -> a function resolving to the object id, asked for
//     once (POST .../entered/objects) and kept for every further try, so that pressing send
//     twice is refused rather than entered twice
//   revisionIdentity(messageId) -> the same for a returned one revised for them: resolving to
//     {objectId, version} (POST /api/messages/{id}/revise-for-them/object: the next version,
//     which this facilitator then seals and uploads); identityOf(identity) reads either
//   sealEntered(opened, identity, {text, note}) -> the body of POST .../entered: the letter sealed
//     exactly as a participant's (sealLetter to the case key, and to me as its author), and the
//     note on the confirmation sealed to the case key (purpose "entered-note:<object id>")
//   sealEnteredNote(opened, objectId, note) -> {entered_note} (or {} without a note): the same
//     note, for a recording or scanned pages, whose letter fields media/message.js sealed
//   openEnteredNote(caseSk, caseId, json) -> that note, for the review page, or null
//   enteredAuthorStatus(keys, json) -> "entered" when the key that sealed it is the trust log's
//     key for the facilitator the server names as having entered it, else "unknown"

import { forget, protocol } from "../crypto/keys.js";
import { postJSON } from "../lib/http.js";
import { letterFields } from "./content.js";
import { loadTrust } from "./trust.js";

const notePurpose = (objectId) => `entered-note:${objectId}`;

export function enteredIdentity(caseId, participantId) {
  const url = `/api/cases/${encodeURIComponent(caseId)}/participants/${encodeURIComponent(participantId)}/entered/objects`;
  let known = null;
  return () => {
    if (known === null) {
      known = postJSON(url, {}).then((answer) => answer.object_id);
      known.catch(() => {
        known = null; // asked again on the next try
      });
    }
    return known;
  };
}

export function revisionIdentity(messageId) {
  const url = `/api/messages/${encodeURIComponent(messageId)}/revise-for-them/object`;
  let known = null;
  return () => {
    if (known === null) {
      known = postJSON(url, {}).then((answer) => ({
        objectId: answer.object_id,
        version: answer.version,
      }));
      known.catch(() => {
        known = null; // asked again on the next try
      });
    }
    return known;
  };
}

/** {objectId, version} from either identity: a new object is version 1. */
export async function identityOf(identity) {
  const known = await identity();
  return typeof known === "string" ? { objectId: known, version: 1 } : known;
}

export async function sealEntered(opened, identity, { text, note }) {
  const p = await protocol();
  const { objectId, version } = await identityOf(identity);
  const { keys, caseKey } = opened;
  const myPk = p.publicKeyFromSecret(keys.secretKey);
  const createdAt = new Date().toISOString();
  const sealed = p.sealLetter(keys.secretKey, myPk, caseKey.casePk, objectId, version, text,
    createdAt, keys.accountId);
  try {
    return {
      ...letterFields(p, sealed, objectId, version),
      ...noteFields(p, opened, objectId, note),
    };
  } finally {
    forget(sealed.contentKey);
  }
}

function noteFields(p, { caseKey, caseId }, objectId, note) {
  if (!note) return {};
  const sealedNote = p.sealCaseText(caseKey.caseSk, caseId, notePurpose(objectId), note);
  return { entered_note: p.b64encode(sealedNote) };
}

export async function sealEnteredNote(opened, objectId, note) {
  return noteFields(await protocol(), opened, objectId, note);
}

export async function openEnteredNote(caseSk, caseId, json) {
  if (!json.entered?.note) return null;
  const p = await protocol();
  return p.openCaseText(caseSk, caseId, notePurpose(json.object_id), p.b64decode(json.entered.note));
}

export async function enteredAuthorStatus(keys, json) {
  const view = await loadTrust(keys, { audience: "staff" });
  const named = json.entered.by_account_id === json.author_account_id;
  return named && view.isTrustedBoxKey(json.author_account_id, json.author_public_key)
    ? "entered"
    : "unknown";
}
