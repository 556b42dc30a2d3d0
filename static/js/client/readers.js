// Supporters and representatives who may read for a recipient (the review answer's `readers`):
// on approval the facilitator's browser grants the content key to each of them whose key this
// facilitator compared in person, exactly as it grants it to the recipient (client/review.js
// sealApproval). Nobody else is granted anything here.

import { openWithCaseKeys } from "./case-epochs.js";
import { keyStatus, pinFor } from "./vault.js";

/**
 * K and the manifest hash from the case grant openContent checked (wipe K after use), with
 * whichever epoch's case key it was sealed to (client/case-epochs.js).
 */
export function contentKeyFrom(p, review) {
  const { json, caseKey } = review;
  return openWithCaseKeys(p, caseKey, (caseSk) =>
    p.openContentGrant(
      caseSk,
      p.b64decode(json.author_public_key),
      json.object_id,
      json.version,
      p.b64decode(json.grant),
    ),
  );
}

/**
 * Grants for the supporters who may read for the recipient (json.readers), but only those
 * whose key I compared in person (pinned in my vault): a key the server alone vouches for could
 * be its own. The others get nothing now; they can be granted once compared.
 */
export function readerGrants(p, review, vault, [contentKey, manifestHash]) {
  const { json, keys } = review;
  try {
    return (json.readers || [])
      .filter((r) => r.public_key && readerKeyStatus(r, vault) === "verified")
      .map((r) => ({
        supporter_id: r.supporter_id,
        grant: p.b64encode(
          p.makeContentGrant(
            keys.secretKey,
            p.b64decode(r.public_key),
            json.object_id,
            json.version,
            contentKey,
            manifestHash,
          ),
        ),
      }));
  } finally {
    contentKey.fill(0);
  }
}

/** A reader's current key against my pin ("verified" only if I pinned this very key). */
export function readerKeyStatus(reader, vault) {
  if (!vault.readable) return "unverified";
  const pinned = pinFor(vault.data, reader.account_id, `participant:${reader.supporter_id}`);
  return keyStatus(pinned, reader.public_key, reader.verified_public_key);
}
