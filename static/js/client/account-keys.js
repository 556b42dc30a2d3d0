// What the account clients share: the sentences and errors of opening key bundles, the cost a
// password must be protected with, and the steps that make and open bundles. Only derived keys
// ever leave the browser (docs/protocol-v1.md, "Accounts").

import { KdfError } from "../crypto/kdf.js";
import { forget, holdSecret, protocol, wipeKeys } from "../crypto/keys.js";
import { ShowableError } from "../lib/errors.js";
import { postJSON } from "../lib/http.js";
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

export function requireStandardCost(p, cost) {
  if (!meetsStandardCost(p, cost)) throw new WeakProtection();
}

export function rememberProtection(p, cost) {
  rememberWeakProtection(!meetsStandardCost(p, cost));
}

// --- shared steps --------------------------------------------------------------------------------

/**
 * After signing in: an account made before trust anchors has no signing key on the server (the
 * answer's signing_public_key is null), so register the one derived from its secret key
 * (POST /api/account/signing-key; the server accepts it once). An answer without the field is
 * from a server that knows no signing keys: nothing is sent. Never throws: signing in goes on,
 * and the next sign-in tries again.
 */
export async function registerSigningKeyIfMissing(p, secretKey, answer) {
  if (answer.signing_public_key !== null) return;
  try {
    const signingPublicKey = p.b64encode(p.signingPublicKeyFromSecret(secretKey));
    await postJSON("/api/account/signing-key", { signing_public_key: signingPublicKey });
  } catch {
    // Offline, or already registered by another tab.
  }
}

/** The secret key (held) from a bundle; a wrap key that does not open it throws refusal(). */
export function openBundle(p, wrapKeyB64, accountId, bundleB64, refusal) {
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
export function wrapBundle(p, wrapKeyB64, accountId, secretKey) {
  const wrapKey = p.b64decode(wrapKeyB64);
  try {
    return p.b64encode(p.wrapSecretKey(wrapKey, accountId, secretKey));
  } finally {
    wrapKey.fill(0);
  }
}

/** {salt, ops, mem, auth_key, bundle} for a new password, under a new random salt. */
export async function newPasswordKeys(p, password, { accountId, secretKey }, { ops, mem }, derive) {
  requireStandardCost(p, { ops, mem });
  const salt = p.b64encode(p.randomBytes(16));
  const derived = await derive(password, salt, ops, mem);
  const bundle = wrapBundle(p, derived.wrapKey, accountId, secretKey);
  return { salt, ops, mem, auth_key: derived.authKey, bundle };
}

/** A new recovery key, used at once and zeroed: {auth, bundle, code}. */
export function newRecoveryKey(p, accountId, secretKey) {
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
export function decodeOrNull(p, text) {
  try {
    return p.decodeRecoveryCode(text);
  } catch (error) {
    if (error instanceof p.MalformedInput) return null;
    throw error;
  }
}
