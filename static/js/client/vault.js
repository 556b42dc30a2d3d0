// The client vault on the server (GET/PUT /api/vault): stored opaque, sealed to my own key.
//
// A vault that exists but does not open is never overwritten: that would silently lose every
// pin. Pinning then fails with VaultUnreadable and the person is told.

import { protocol } from "../crypto/keys.js";
import { openVaultData, sealVaultData, withPin } from "../crypto/vault.js";
import { ShowableError } from "../lib/errors.js";
import { getJSON, putJSON } from "../lib/http.js";

export { keyStatus, pinFor, trustPins } from "../crypto/vault.js";

export class VaultUnreadable extends ShowableError {
  constructor() {
    super(
      "Your list of compared security numbers could not be unlocked, so nothing was changed in it. Please tell your service manager.",
    );
    this.name = "VaultUnreadable";
  }
}

/**
 * {data, readable}: the opened vault ({} when there is none yet). `readable` is false when a
 * stored vault did not open; `data` is then {} and must not be saved.
 */
export async function loadVault(keys) {
  const p = await protocol();
  const answer = await getJSON("/api/vault");
  return openVaultData(p, keys, answer ? answer.blob : null);
}

export async function saveVault(keys, data) {
  const p = await protocol();
  await putJSON("/api/vault", { blob: sealVaultData(p, keys, data) });
}

// One change of the vault at a time in this tab: each is read, change, write, and two at once
// (a case key pinned while the trust log's head is) would lose one of them.
let queue = Promise.resolve();

/**
 * Read the vault, `change(data)` it and save the answer, unless it is null (nothing to save).
 * Returns the data as it now is. Throws VaultUnreadable rather than replace a vault it cannot
 * read.
 */
export function updateVault(keys, change) {
  const run = queue.then(async () => {
    const { data, readable } = await loadVault(keys);
    if (!readable) throw new VaultUnreadable();
    const next = change(data);
    if (next === null) return data;
    await saveVault(keys, next);
    return next;
  });
  queue = run.catch(() => {});
  return run;
}

/**
 * Pin `publicKeyB64` for `id` (the participant's account id): read, change, write. Returns the
 * saved data. Throws VaultUnreadable rather than replace a vault it cannot read.
 */
export function pinKey(keys, id, publicKeyB64) {
  return updateVault(keys, (data) => withPin(data, id, publicKeyB64));
}
