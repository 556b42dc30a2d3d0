// Accounts: signing in and changing the password (joining: client/joining.js; the recovery
// code: client/recovery.js; what they share: client/account-keys.js).
// Every request and every protocol call of the account pages is here; the pages read inputs,
// call one of these functions and show what it returns or throws.
//
// Only derived keys ever leave the browser: the auth key (from the password, in the KDF), the
// secret key wrapped under the wrap key (the bundle), the recovery auth key and the secret key
// wrapped under the recovery key. The password, the recovery code and the secret key never do
// (docs/protocol-v1.md, "Accounts").
//
// Failures: ApiError (the server's sentence, status, field, retryAfter), KdfError (this device
// could not run the KDF), KeysNotOpened (a bundle did not open), MalformedRecoveryCode (refused
// before anything is sent). Anything else is a bug; pages show their own calm sentence for it.
//
// The KDF runs in a Worker (crypto/kdf.js). Functions that derive keys take {derive} so that
// node tests can run the same Argon2id without a Worker (crypto/kdf-worker.js).

import {
  KeysNotOpened,
  openBundle,
  newPasswordKeys,
  registerSigningKeyIfMissing,
  rememberProtection,
} from "./account-keys.js";
import { pinRootOnFirstUse } from "./trust.js";
import { deriveInWorker } from "../crypto/kdf.js";
import { forget, protocol, storeSecretKey } from "../crypto/keys.js";
import { ApiError } from "../lib/errors.js";
import { getJSON, postJSON, safeNext, setCsrfToken } from "../lib/http.js";

const WRONG_CURRENT_PASSWORD = "Your current password is not right. Please try again.";

// --- signing in --------------------------------------------------------------------------------

/**
 * Sign in: the account's KDF parameters (made up for a name that does not exist, so the answer
 * never says whether it does), the keys from the password, then the key bundle, opened here
 * and kept for this tab (crypto/keys.js). An account made before trust anchors then registers
 * its signing key and pins the service root on first use (client/trust.js); neither can stop
 * signing in. Returns {next}.
 */
export async function signIn(name, password, { derive = deriveInWorker } = {}) {
  const params = await postJSON("/api/sign-in/params", { sign_in_name: name });
  const keys = await derive(password, params.salt, params.ops, params.mem);
  const answer = await postJSON("/api/sign-in", { sign_in_name: name, auth_key: keys.authKey });
  setCsrfToken(answer.csrf_token);
  const p = await protocol();
  rememberProtection(p, params);
  let secretKey = null;
  try {
    const refusal = () => new KeysNotOpened();
    secretKey = openBundle(p, keys.wrapKey, answer.account_id, answer.bundle, refusal);
    await storeSecretKey(answer.account_id, secretKey, answer.session_key);
    // A session that still owes its second factor may do nothing else yet: the step's page
    // finishes these (client/second-factor.js finishSignIn).
    if (!answer.second_factor) {
      await registerSigningKeyIfMissing(p, secretKey, answer);
      await pinRootOnFirstUse({ accountId: answer.account_id, secretKey });
    }
  } finally {
    forget(secretKey);
  }
  return { next: safeNext(answer.next) };
}

// --- changing the password ---------------------------------------------------------------------

/**
 * Prove the current password, open the account's bundle with it (so this works in a tab that
 * holds no key), wrap the same secret key under keys from the new password and a NEW salt, and
 * keep it for this tab. The two derivations run one after the other: two 64 MiB Workers at
 * once could fail on a phone. Returns {next}.
 */
export async function changePassword(current, replacement, { derive = deriveInWorker } = {}) {
  const kdf = await getJSON("/api/account/kdf");
  const proof = await derive(current, kdf.salt, kdf.ops, kdf.mem);
  const p = await protocol();
  const accountId = kdf.account_id;
  let secretKey = null;
  try {
    secretKey = openBundle(p, proof.wrapKey, accountId, kdf.bundle, wrongCurrentPassword);
    const cost = { ops: kdf.new_ops ?? kdf.ops, mem: kdf.new_mem ?? kdf.mem };
    const keys = await newPasswordKeys(p, replacement, { accountId, secretKey }, cost, derive);
    const answer = await postJSON("/api/account/password", {
      current_auth_key: proof.authKey,
      ...keys,
    });
    rememberProtection(p, keys);
    // Keep (or restore, in a new tab) this tab's copy of the key for the same session.
    const session = await getJSON("/api/session", { extendsSession: false });
    await storeSecretKey(accountId, secretKey, answer.session_key || session.session_key);
    return { next: safeNext(answer.next, "/account?changed=password") };
  } finally {
    forget(secretKey);
  }
}

function wrongCurrentPassword() {
  return new ApiError(WRONG_CURRENT_PASSWORD, { status: 401, field: "current_password" });
}
