// Getting back into an account with the recovery code: the code is checked here before anything
// is sent; the secret key stays the same, under a new password and a new recovery code.

import {
  KeysNotOpened,
  KEYS_NOT_OPENED_WITH_CODE,
  MalformedRecoveryCode,
  decodeOrNull,
  forgetKeys,
  newPasswordKeys,
  newRecoveryKey,
  registerSigningKeyIfMissing,
  rememberProtection,
} from "./account-keys.js";
import { pinRootOnFirstUse } from "./trust.js";
import { deriveInWorker } from "../crypto/kdf.js";
import { forget, holdSecret, protocol, storeSecretKey } from "../crypto/keys.js";
import { postJSON, safeNext, setCsrfToken } from "../lib/http.js";

// --- the recovery code -------------------------------------------------------------------------

/**
 * Prove the recovery code and open the recovery bundle with it:
 * {name, accountId, recoveryAuth, kdf {ops, mem}, secretKey (held)}. A mistyped code throws
 * MalformedRecoveryCode before anything is sent.
 */
export async function startRecovery(name, codeText) {
  const p = await protocol();
  const recoveryKey = holdSecret(decodeOrNull(p, codeText));
  if (recoveryKey === null) throw new MalformedRecoveryCode();
  try {
    const recoveryAuth = p.b64encode(p.recoveryAuthKey(recoveryKey));
    const answer = await postJSON("/api/recovery/start", {
      sign_in_name: name,
      recovery_auth: recoveryAuth,
    });
    let secretKey;
    try {
      const bundle = p.b64decode(answer.recovery_bundle);
      secretKey = holdSecret(p.unwrapWithRecovery(recoveryKey, answer.account_id, bundle));
    } catch (error) {
      if (error instanceof p.ProtocolError) throw new KeysNotOpened(KEYS_NOT_OPENED_WITH_CODE);
      throw error;
    }
    return { name, accountId: answer.account_id, recoveryAuth, kdf: answer.kdf, secretKey };
  } finally {
    forget(recoveryKey);
  }
}

/** The new password's keys (under a NEW salt) and a NEW recovery key: {wire, recoveryCode}. */
export async function makeRecoveryKeys(recovery, password, { derive = deriveInWorker } = {}) {
  const p = await protocol();
  const { accountId, secretKey } = recovery;
  const keys = await newPasswordKeys(p, password, recovery, recovery.kdf, derive);
  const fresh = newRecoveryKey(p, accountId, secretKey);
  const wire = { ...keys, new_recovery_auth: fresh.auth, new_recovery_bundle: fresh.bundle };
  return { wire, recoveryCode: fresh.code };
}

/**
 * Save the new keys; the server signs this browser in and ends every other session. Returns
 * {next}; the secret key is kept for this tab (if storage allows) and then forgotten here. As
 * at sign-in, an account made before trust anchors registers its signing key and pins the root
 * on first use (best effort).
 */
export async function completeRecovery(recovery, wire) {
  const answer = await postJSON("/api/recovery/complete", {
    sign_in_name: recovery.name,
    recovery_auth: recovery.recoveryAuth,
    ...wire,
  });
  setCsrfToken(answer.csrf_token);
  const p = await protocol();
  rememberProtection(p, wire);
  try {
    await storeSecretKey(answer.account_id, recovery.secretKey, answer.session_key);
  } catch {
    // Signed in all the same; a page that needs the key will ask to sign in again.
  }
  // As at sign-in: a session owing its second factor leaves these to the step's page.
  if (!answer.second_factor) {
    await registerSigningKeyIfMissing(p, recovery.secretKey, answer);
    await pinRootOnFirstUse({ accountId: answer.account_id, secretKey: recovery.secretKey });
  }
  forgetKeys(recovery);
  return { next: safeNext(answer.next) };
}
