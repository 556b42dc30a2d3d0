// The keys of a message's writer and recipient against the ones this facilitator pinned in
// their vault when they compared security numbers in person (crypto/vault.js keyStatus), for the
// review page (client/review.js re-exports keyStatuses and approves only after
// recipientKeyStatus allows it).
//
//   keyStatuses(review) -> {recipient, author}: "verified", "changed", "colleague",
//     "unverified", "entered" (a facilitator the trust log vouches for entered it for someone
//     without access), "earlier-verified" / "earlier" (sealed with the named writer's earlier
//     key, before they were given a new one: pinned here, or not), or "unknown" for an author
//     whose key belongs to nobody the server names
//   recipientKeyStatus(json, vault): the recipient's alone, from a loaded vault

import { getJSON } from "../lib/http.js";
import { enteredAuthorStatus } from "./entered.js";
import { keyStatus, loadVault, pinFor } from "./vault.js";

export async function keyStatuses(review) {
  const { json, keys } = review;
  if (json.content_deleted) return { recipient: null, author: null };
  const [participants, vault] = await Promise.all([
    getJSON(`/api/cases/${encodeURIComponent(review.caseId)}/participants`).catch(() => []),
    loadVault(keys).catch(() => ({ data: {}, readable: false })),
  ]);
  // Entered for someone without access: sealed by a facilitator the trust log vouches for.
  const author = json.entered
    ? await enteredAuthorStatus(keys, json)
    : authorKeyStatus(json, participants, vault);
  return { recipient: recipientKeyStatus(json, vault), author };
}

function authorKeyStatus(json, participants, vault) {
  // The author is whoever's key made the grant to the case key: a participant of the case, or
  // (written on their behalf) that supporter or representative. It must be the one the server
  // names as the writer.
  const w = json.written_by;
  const found = w
    ? w.public_key === json.author_public_key && w
    : participants.find((pt) => pt.account_public_key === json.author_public_key);
  const named =
    found &&
    (w
      ? found.account_id === json.author_account_id
      : found.participant_id === json.author_participant_id);
  if (!named) return earlierKeyStatus(json, participants, vault);
  const pin = `participant:${w ? w.supporter_id : found.participant_id}`;
  const pinned = pinFor(vault.data, found.account_id, pin);
  return keyStatus(pinned, json.author_public_key, found.verified_public_key);
}

/**
 * A key that is not the named writer's current one: sealed before they were given a new key
 * pair (a grant keeps the key of its day). Theirs for certain only if it is the very key I
 * pinned for them when I compared it in person; "earlier" says I cannot tell; "unknown" when
 * the server names no such writer.
 */
function earlierKeyStatus(json, participants, vault) {
  const w = json.written_by;
  const writer = w
    ? w.account_id === json.author_account_id && w
    : participants.find(
        (pt) =>
          pt.participant_id === json.author_participant_id && pt.account_id === json.author_account_id,
      );
  if (json.author_key_earlier !== true || !writer || !json.author_public_key) return "unknown";
  // Another participant's current key is never anyone's "earlier" one.
  if (participants.some((pt) => pt.account_public_key === json.author_public_key)) return "unknown";
  const current = w ? w.public_key : writer.account_public_key;
  if (current === json.author_public_key) return "unknown"; // not earlier: nobody's, as above
  const pin = `participant:${w ? w.supporter_id : writer.participant_id}`;
  const pinned = pinFor(vault.data, writer.account_id, pin);
  return vault.readable && pinned === json.author_public_key ? "earlier-verified" : "earlier";
}

export function recipientKeyStatus(json, vault) {
  const r = json.recipient;
  // The representative who holds the side of someone without an account is pinned as a
  // supporter is (client/readers.js).
  const label = `participant:${r.held_by ? r.held_by.supporter_id : r.participant_id}`;
  const pinned = pinFor(vault.data, r.account_id, label);
  const status = keyStatus(pinned, r.public_key, r.verified_public_key);
  // A vault that does not open cannot confirm anything, but a change it shows still counts.
  return vault.readable || status === "changed" ? status : "unverified";
}

/**
 * The writer's new key, to seal words about their letter to, if it was sealed before they were
 * given a new key pair (`author_key_earlier`) and I pinned the new one after comparing it in
 * person; otherwise null: the words wait for a browser that did (client/regrants.js).
 */
export function writerKeyFrom(p, json, vault) {
  const place = json.written_by ? json.written_by.supporter_id : json.author_participant_id;
  const pinned = pinFor(vault.data, json.author_account_id, `participant:${place}`);
  const mine = vault.readable && pinned && pinned === json.writer_public_key;
  return mine ? p.b64decode(json.writer_public_key) : null;
}
