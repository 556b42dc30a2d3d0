// This tab's keys for the signed-in account.

import { openStoredKey, storedKeyBlob } from "../crypto/keys.js";
import { getJSON } from "../lib/http.js";

/** {accountId, secretKey (held: wiped on quick exit), publicKey}, or throws KeysUnavailable. */
export async function loadSecretKey() {
  const blob = storedKeyBlob();
  // Reading the session key must not count as activity: this is not the person doing anything.
  const session = await getJSON("/api/session", { extendsSession: false });
  return openStoredKey(blob, session);
}
