// Giving access again after a key change (docs/api-cases-and-letters.md, "Keys that change"):
// a grant is a content key boxed to one public key, so after someone was given a new key, or a
// supporter's key was compared only after letters were released to the participant, nothing
// they may read opens for them until a facilitator's browser grants it again. The server lists
// what is owed (GET /api/cases/{id}/regrants); this module opens each item's grant to the case
// key with the case key (as approving does) and grants its content key to the person's key,
// but only to a key I compared in person myself (pinned in my vault): the server's "verified"
// alone is not enough, since a key only the server vouches for could be its own.
//
// The same listing holds what a supporter or representative wrote on a participant's behalf
// (items "written_for" and "written_for_feedback"): the participant reads it before it goes out, and
// only a facilitator's browser can grant it to them, since the writer's never compared the
// participant's key. It is granted here alike, from the case page and the review page.
//
//   giveAccessAgain(opened, vault) -> {given: [{participantId, supporterId, count, forSide}],
//                                      notMine}   forSide: how many were written for them
//   giveAccessFromReview(review)  the same from the review page ({caseId, keys, caseKey})
//   ownKeyStatus(person, vault) -> "verified" | "changed" | "colleague" | "unverified"
//   regrantsFor(p, secretKey, caseKey, person) -> [{object_id, version, grant}]

import { protocol } from "../crypto/keys.js";
import { getJSON, postJSON } from "../lib/http.js";
import { keyStatus, loadVault, pinFor } from "./vault.js";

const FOR_SIDE = new Set(["written_for", "written_for_feedback"]);

/**
 * Grant again, from this browser, what the server says is owed in `opened`'s case ({caseId,
 * keys, caseKey}: client/cases.js openCase) to each person whose key I pinned after comparing
 * it in person. `notMine`: how many are owed but were compared by a colleague, not by me.
 */
export async function giveAccessAgain(opened, vault) {
  const p = await protocol();
  const { caseId, keys, caseKey } = opened;
  const url = `/api/cases/${encodeURIComponent(caseId)}/regrants`;
  const listing = await getJSON(url);
  const given = [];
  let notMine = 0;
  if (listing.case_id !== caseId) return { given, notMine };
  for (const person of listing.people || []) {
    if (ownKeyStatus(person, vault) !== "verified") {
      notMine += 1;
      continue;
    }
    const grants = regrantsFor(p, keys.secretKey, caseKey, person);
    if (!grants.length) continue;
    await postJSON(url, { account_id: person.account_id, public_key: person.public_key, grants });
    const sideObjects = new Set(
      (person.items || []).filter((item) => FOR_SIDE.has(item.what)).map((item) => item.object_id),
    );
    given.push({
      participantId: person.participant_id,
      supporterId: person.supporter_id,
      count: grants.length,
      forSide: grants.filter((grant) => sideObjects.has(grant.object_id)).length,
    });
  }
  return { given, notMine };
}

/**
 * From the review page: the vault read with the review's keys (a vault that does not open
 * counts nothing as compared by me, so nothing is granted).
 */
export async function giveAccessFromReview(review) {
  const vault = await loadVault(review.keys).catch(() => ({ data: {}, readable: false }));
  return giveAccessAgain(review, vault);
}

/** A person's current key against my pin ("verified" only if I pinned this very key). */
export function ownKeyStatus(person, vault) {
  if (!vault.readable) return "unverified";
  const place = person.supporter_id || person.participant_id;
  const pinned = pinFor(vault.data, person.account_id, `participant:${place}`);
  return keyStatus(pinned, person.public_key, person.verified_public_key);
}

/**
 * The case secret key of `epoch` as I hold it: the current one, or an earlier one reached from
 * it (client/case-epochs.js olderCaseKeys); null if I cannot reach it. No epoch named: the
 * current one.
 */
function caseKeyOf(caseKey, epoch) {
  if (!Number.isInteger(epoch) || !Number.isInteger(caseKey.epoch) || epoch === caseKey.epoch) {
    return caseKey.caseSk;
  }
  const older = (caseKey.older || []).find((entry) => entry.epoch === epoch);
  return older ? older.caseSk : null;
}

/**
 * The grants for one person: each item's content key (from its grant to the case key of its
 * epoch, the current one or an earlier one I reach from it) boxed from me to their key, for
 * exactly that object and version. An item whose grant does not open (an epoch I cannot reach,
 * or damaged) is left out, and stays owed.
 */
export function regrantsFor(p, secretKey, caseKey, person) {
  const personPk = p.b64decode(person.public_key);
  const grants = [];
  for (const item of person.items || []) {
    const caseSk = caseKeyOf(caseKey, item.case_epoch);
    if (caseSk === null) continue;
    let contentKey;
    let manifestHash;
    try {
      [contentKey, manifestHash] = p.openContentGrant(
        caseSk,
        p.b64decode(item.sender_public_key),
        item.object_id,
        item.version,
        p.b64decode(item.grant),
      );
    } catch (error) {
      if (error instanceof p.ProtocolError) continue;
      throw error;
    }
    try {
      const grant = p.makeContentGrant(
        secretKey,
        personPk,
        item.object_id,
        item.version,
        contentKey,
        manifestHash,
      );
      grants.push({ object_id: item.object_id, version: item.version, grant: p.b64encode(grant) });
    } finally {
      contentKey.fill(0);
    }
  }
  return grants;
}
