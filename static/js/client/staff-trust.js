// What a service manager's browser signs for the trust log (docs/api-trust.md): a `staff-cert`
// for a member of staff whose security number they compared (the Certify page), and a
// `revocation` when they close a certified account (the staff page). The keys certified are the
// row's, shown as a security number worked out here from those same keys, never the server's
// digits. Signing keys are derived from my identity secret key and zeroed after use.

import { loadSecretKey } from "./session.js";
import { protocolTime } from "./joining.js";
import { protocol } from "../crypto/keys.js";

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
