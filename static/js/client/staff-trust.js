// What a service manager's browser signs for the trust log (docs/api-trust.md): a `staff-cert`
// for a member of staff whose security number they compared (the Certify page), a
// `revocation` when they close a certified account (the staff page), and the root's
// `root-handover` to a certified service manager (the Certify page). The keys certified are the
// row's, shown as a security number worked out here from those same keys, never the server's
// digits. Signing keys are derived from my identity secret key and zeroed after use.

import { loadSecretKey } from "./session.js";
import { protocolTime } from "./joining.js";
import { forgetTrust, loadTrust } from "./trust.js";
import { protocol } from "../crypto/keys.js";
import { ShowableError } from "../lib/errors.js";

/** The hand-over cannot be made: this browser's walk of the trust log says why. */
export class HandOverRefused extends ShowableError {
  constructor(message) {
    super(message);
    this.name = "HandOverRefused";
  }
}

/** The security number over both keys (base64url), formatted; null for keys that are not keys. */
export async function identityNumber(boxPublicKeyB64, signingPublicKeyB64) {
  const p = await protocol();
  try {
    const digits = p.identityFingerprintDigits(
      p.b64decode(boxPublicKeyB64),
      p.b64decode(signingPublicKeyB64),
    );
    return p.formatFingerprint(digits);
  } catch (error) {
    if (error instanceof p.ProtocolError) return null;
    throw error;
  }
}

async function signWithMyKey(sign, makeFields, { loadKeys = loadSecretKey } = {}) {
  const keys = await loadKeys();
  const p = await protocol();
  const [signingSecret] = p.signingKeysFromSecret(keys.secretKey);
  try {
    const [statement, signature] = p[sign](signingSecret, makeFields(keys.accountId));
    return { statement: p.b64encode(statement), signature: p.b64encode(signature) };
  } finally {
    signingSecret.fill(0);
  }
}

/**
 * {statement, signature}: my `staff-cert` for `row` ({accountId, role, boxPublicKey,
 * signingPublicKey}, base64url keys), issued now, with me as issuer.
 */
export function certifyStaff(row, options = {}) {
  return signWithMyKey(
    "signStaffCert",
    (me) => ({
      account_id: row.accountId,
      role: row.role,
      box_public_key: row.boxPublicKey,
      signing_public_key: row.signingPublicKey,
      issued_at: protocolTime(options.now),
      issuer_account_id: me,
    }),
    options,
  );
}

/** {statement, signature}: my `revocation` of `accountId` now, for `reason`. */
export function revokeStaff(accountId, reason = "disabled", options = {}) {
  return signWithMyKey(
    "signRevocation",
    (me) => ({
      account_id: accountId,
      revoked_at: protocolTime(options.now),
      issuer_account_id: me,
      reason,
    }),
    options,
  );
}

/** The trust log walked now, not as this page first saw it (someone may have been certified). */
function freshTrust(keys, options) {
  forgetTrust();
  return loadTrust(keys, options);
}

/**
 * {statement, signature}: my `root-handover` to `newRootAccountId`, issued now. Checked first in
 * this browser's own walk of the trust log (client/trust.js, never the page's word): I must be
 * the root with my own signing key, and the new root a certified, unrevoked service manager.
 * Their signing key is taken from their certificate in the log. `options.trust` stands in for
 * loadTrust in tests.
 */
export async function handOverRoot(newRootAccountId, options = {}) {
  const loadKeys = options.loadKeys || loadSecretKey;
  const keys = await loadKeys();
  const p = await protocol();
  const view = await (options.trust || freshTrust)(keys, { audience: "staff" });
  const mine = p.b64encode(p.signingPublicKeyFromSecret(keys.secretKey));
  if (view.root.account_id !== keys.accountId || view.root.signing_public_key !== mine) {
    throw new HandOverRefused(
      "The trust log says you are not the service's root now, so you cannot hand it over.",
    );
  }
  const chosen = view.staff.find(
    (person) => person.account_id === newRootAccountId && person.role === "service_manager",
  );
  if (!chosen || newRootAccountId === keys.accountId) {
    throw new HandOverRefused(
      "The trust log does not show this person as a certified service manager, so the root " +
        "cannot go to them. Certify them first.",
    );
  }
  return signWithMyKey(
    "signRootHandover",
    (me) => ({
      new_root_account_id: chosen.account_id,
      new_root_signing_public_key: chosen.signing_public_key,
      issued_at: protocolTime(options.now),
      issuer_account_id: me,
    }),
    { loadKeys: async () => keys },
  );
}
