// Accounts: signing in, joining, getting back in with the recovery code, changing the password.
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

import { deriveInWorker, KdfError } from "../crypto/kdf.js";
import { forget, holdSecret, protocol, storeSecretKey, wipeKeys } from "../crypto/keys.js";
import { ApiError, ShowableError } from "../lib/errors.js";
import { getJSON, postJSON, safeNext } from "../lib/http.js";
import { rememberWeakProtection } from "../lib/protection-notice.js";

export { KdfError };

export const KEYS_NOT_OPENED_HERE =
  "Your account's keys could not be opened on this device. Please try again, and if it " +
  "keeps happening, tell your facilitator.";

export const KEYS_NOT_OPENED_WITH_CODE =
  "Your account's keys could not be opened with this code. Check the code and try again.";

const MALFORMED_CODE =
  "That is not a complete recovery code. It has 13 groups of 4 letters and numbers. " +
  "Check it and try again.";

const WRONG_CURRENT_PASSWORD = "Your current password is not right. Please try again.";

/** A key bundle the server sent did not open with the key made here. */
export class KeysNotOpened extends ShowableError {
  constructor(message = KEYS_NOT_OPENED_HERE) {
    super(message);
    this.name = "KeysNotOpened";
  }
}

/** The text typed is not a recovery code (caught before any request). */
export class MalformedRecoveryCode extends ShowableError {
  constructor() {
    super(MALFORMED_CODE);
    this.name = "MalformedRecoveryCode";
  }
}

/** Load libsodium now, while the person types; a failure shows later, when it is needed. */
export function prepare() {
  protocol().catch(() => {});
}

/** Forget every key this tab holds: anyone on the sign-in page is signed out. */
export function forgetThisTab() {
  wipeKeys();
}

/** Zero the secret key of something these functions returned ({secretKey}); null is fine. */
export function forgetKeys(holder) {
  if (holder) forget(holder.secretKey);
}

// --- the cost of protecting a password ----------------------------------------------------------
//
// The server says how much work (Argon2id passes and memory) turns a password into keys. A
// breached or careless server could ask for very little, which would make the auth key it
// receives cheap to guess back to the password. So keys made here (joining, a new password,
// recovering) are never made under less than the portal's standard cost; an account made earlier
// under less still signs in, and the person is told to change their password (one notice,
// until they do: lib/protection-notice.js).

export class WeakProtection extends ShowableError {
  constructor() {
    super(
      "This portal asked your browser to protect your password less strongly than it should, " +
        "so nothing was created or changed. Please tell your service manager.",
    );
    this.name = "WeakProtection";
  }
}

/** Whether keys may be made under this cost: the standard (crypto/protocol.js) or more. */
export function meetsStandardCost(p, { ops, mem }) {
  return ops >= p.DEFAULT_KDF_OPS && mem >= p.DEFAULT_KDF_MEM;
}

function requireStandardCost(p, cost) {
  if (!meetsStandardCost(p, cost)) throw new WeakProtection();
}

function rememberProtection(p, cost) {
  rememberWeakProtection(!meetsStandardCost(p, cost));
}

// --- signing in --------------------------------------------------------------------------------

/**
 * Sign in: the account's KDF parameters (made up for a name that does not exist, so the answer
 * never says whether it does), the keys from the password, then the key bundle, opened here
 * and kept for this tab (crypto/keys.js). Returns {next}.
 */
export async function signIn(name, password, { derive = deriveInWorker } = {}) {
  const params = await postJSON("/api/sign-in/params", { sign_in_name: name });
  const keys = await derive(password, params.salt, params.ops, params.mem);
  const answer = await postJSON("/api/sign-in", { sign_in_name: name, auth_key: keys.authKey });
  const p = await protocol();
  rememberProtection(p, params);
  let secretKey = null;
  try {
    const refusal = () => new KeysNotOpened();
    secretKey = openBundle(p, keys.wrapKey, answer.account_id, answer.bundle, refusal);
    await storeSecretKey(answer.account_id, secretKey, answer.session_key);
  } finally {
    forget(secretKey);
  }
  return { next: safeNext(answer.next) };
}

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
 * {next}; the secret key is kept for this tab (if storage allows) and then forgotten here.
 */
export async function completeRecovery(recovery, wire) {
  const answer = await postJSON("/api/recovery/complete", {
    sign_in_name: recovery.name,
    recovery_auth: recovery.recoveryAuth,
    ...wire,
  });
  rememberProtection(await protocol(), wire);
  try {
    await storeSecretKey(answer.account_id, recovery.secretKey, answer.session_key);
  } catch {
    // Signed in all the same; a page that needs the key will ask to sign in again.
  }
  forgetKeys(recovery);
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

// --- shared steps --------------------------------------------------------------------------------

/** The secret key (held) from a bundle; a wrap key that does not open it throws refusal(). */
function openBundle(p, wrapKeyB64, accountId, bundleB64, refusal) {
  const wrapKey = p.b64decode(wrapKeyB64);
  try {
    return holdSecret(p.unwrapSecretKey(wrapKey, accountId, p.b64decode(bundleB64)));
  } catch (error) {
    if (error instanceof p.ProtocolError) throw refusal();
    throw error;
  } finally {
    wrapKey.fill(0);
  }
}

/** The secret key wrapped under a wrap key (base64url), as base64url. */
function wrapBundle(p, wrapKeyB64, accountId, secretKey) {
  const wrapKey = p.b64decode(wrapKeyB64);
  try {
    return p.b64encode(p.wrapSecretKey(wrapKey, accountId, secretKey));
  } finally {
    wrapKey.fill(0);
  }
}

/** {salt, ops, mem, auth_key, bundle} for a new password, under a new random salt. */
async function newPasswordKeys(p, password, { accountId, secretKey }, { ops, mem }, derive) {
  requireStandardCost(p, { ops, mem });
  const salt = p.b64encode(p.randomBytes(16));
  const derived = await derive(password, salt, ops, mem);
  const bundle = wrapBundle(p, derived.wrapKey, accountId, secretKey);
  return { salt, ops, mem, auth_key: derived.authKey, bundle };
}

/** A new recovery key, used at once and zeroed: {auth, bundle, code}. */
function newRecoveryKey(p, accountId, secretKey) {
  const recoveryKey = holdSecret(p.generateRecoveryKey());
  try {
    return {
      auth: p.b64encode(p.recoveryAuthKey(recoveryKey)),
      bundle: p.b64encode(p.wrapWithRecovery(recoveryKey, accountId, secretKey)),
      code: p.encodeRecoveryCode(recoveryKey),
    };
  } finally {
    forget(recoveryKey);
  }
}

/** The recovery key, or null when the text is not a well-formed recovery code. */
function decodeOrNull(p, text) {
  try {
    return p.decodeRecoveryCode(text);
  } catch (error) {
    if (error instanceof p.MalformedInput) return null;
    throw error;
  }
}
