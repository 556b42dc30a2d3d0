// Joining with an invitation or setup code: the invitation, new keys bound to its account id,
// and creating the account. Keys do not depend on the sign-in name, so they survive a taken one.

import { forgetKeys, newRecoveryKey, requireStandardCost, wrapBundle } from "./account-keys.js";
import { deriveInWorker } from "../crypto/kdf.js";
import { forget, holdSecret, protocol, storeSecretKey } from "../crypto/keys.js";
import { postJSON, safeNext } from "../lib/http.js";

// --- joining -----------------------------------------------------------------------------------

/** Check an invitation or setup code: {code, accountId, role, roleLabel, kdf {salt, ops, mem}}. */
export async function startJoin(code) {
  const answer = await postJSON("/api/join/start", { code });
  return {
    code,
    accountId: answer.account_id,
    role: answer.role,
    roleLabel: answer.role_label,
    kdf: answer.kdf,
  };
}

/**
 * A new identity key pair and recovery key for the invitation's account, bound to its account
 * id: {keys: {accountId, secretKey (held), publicKey, wire}, recoveryCode}. `wire` is what
 * completeJoin sends. Keys do not depend on the sign-in name, so they survive a taken name.
 */
export async function makeJoinKeys(invitation, password, { derive = deriveInWorker } = {}) {
  const { accountId, kdf } = invitation;
  const p = await protocol();
  requireStandardCost(p, kdf);
  const [secret, publicKey] = p.generateIdentity();
  const secretKey = holdSecret(secret);
  try {
    const derived = await derive(password, kdf.salt, kdf.ops, kdf.mem);
    const recovery = newRecoveryKey(p, accountId, secretKey);
    const wire = {
      public_key: p.b64encode(publicKey),
      auth_key: derived.authKey,
      bundle: wrapBundle(p, derived.wrapKey, accountId, secretKey),
      recovery_auth: recovery.auth,
      recovery_bundle: recovery.bundle,
    };
    return { keys: { accountId, secretKey, publicKey, wire }, recoveryCode: recovery.code };
  } catch (error) {
    forget(secretKey);
    throw error;
  }
}

/**
 * Create the account with the chosen name: {next, fingerprint}. Once the server has answered,
 * the account exists and this browser is signed in, so nothing after that throws: fingerprint
 * is null if the key could not be kept for this tab (the next page then asks to sign in). The
 * keys are forgotten on success; on a refusal (a taken name) they are kept for another try.
 */
export async function completeJoin(invitation, name, keys) {
  const answer = await postJSON("/api/join/complete", {
    code: invitation.code,
    sign_in_name: name,
    ...keys.wire,
  });
  let fingerprint = null;
  try {
    await storeSecretKey(answer.account_id, keys.secretKey, answer.session_key);
    const p = await protocol();
    fingerprint = p.formatFingerprint(p.fingerprintDigits(keys.publicKey));
  } catch {
    fingerprint = null;
  }
  forgetKeys(keys);
  return { next: safeNext(answer.next), fingerprint };
}
