// Joining with an invitation or setup code: the invitation, new keys bound to its account id,
// and creating the account. Keys do not depend on the sign-in name, so they survive a taken one.
//
// An invitation code was made in the inviter's browser (docs/api-trust.md, "Invitations made in
// the inviter's browser"): the code gives {lookupId, redeemProof, macKey}. Only the lookup id is
// sent first; the invitation the server answers is checked against its MAC (made with the code,
// which the server never saw) before anything else is sent. A mismatch is a server that changed
// who invited me or who the root is: refused, reported, and nothing is redeemed. The setup link
// is server-made and still joins with {code}; the first service manager's browser sends its own
// staff-cert and pins itself as the service root.

import { forgetKeys, newRecoveryKey, requireStandardCost, wrapBundle } from "./account-keys.js";
import { refuse } from "./security-events.js";
import { updateVault } from "./vault.js";
import { deriveInWorker } from "../crypto/kdf.js";
import { forget, holdSecret, protocol, storeSecretKey } from "../crypto/keys.js";
import { withPins } from "../crypto/vault.js";
import { ApiError } from "../lib/errors.js";
import { postJSON, safeNext, setCsrfToken } from "../lib/http.js";

export const CODE_REFUSED =
  "That code is not valid, has expired or has already been used. Please ask for a new one.";

/** The fields the inviter's browser MACs, in the order of docs/api-trust.md. */
export const MAC_FIELDS = Object.freeze([
  "invitation_id",
  "account_id",
  "role",
  "case_id",
  "participant_id",
  "inviter_account_id",
  "inviter_box_public_key",
  "inviter_signing_public_key",
  "root_account_id",
  "root_signing_public_key",
  "expires_at",
]);

/**
 * Exactly the MAC fields of an answer (missing ones as null, so the MAC check refuses them),
 * with purpose "rekey" when the server says the code is for a new key: the MAC covers it, so a
 * server that calls a join code a re-key (or the reverse) is refused.
 */
export function macFields(answer) {
  const fields = Object.fromEntries(MAC_FIELDS.map((name) => [name, answer?.[name] ?? null]));
  return answer?.purpose === "rekey" ? { ...fields, purpose: "rekey" } : fields;
}

/** ISO time without fractions: YYYY-MM-DDTHH:MM:SSZ, as statements and MACs carry it. */
export function protocolTime(date = new Date()) {
  return `${date.toISOString().slice(0, 19)}Z`;
}

// --- joining -----------------------------------------------------------------------------------

/**
 * Check a code: {accountId, role, roleLabel, kdf {salt, ops, mem}, setup, …}. With `setup` the
 * code is the server-made setup code (POST /api/join/start {code}); otherwise an invitation code
 * made in a browser: found by its lookup id, and its MAC checked before anything else is sent
 * (NotGenuine "invitation-not-genuine", reported, on a mismatch).
 */
export async function startJoin(code, { setup = false } = {}) {
  if (setup) {
    const answer = await postJSON("/api/join/start", { code });
    return {
      setup: true,
      code,
      accountId: answer.account_id,
      role: answer.role,
      roleLabel: answer.role_label,
      kdf: answer.kdf,
    };
  }
  const p = await protocol();
  const found = invitationSecretsOf(p, code);
  const answer = await postJSON("/api/join/start", { lookup_id: found.lookupId });
  const fields = macFields(answer);
  try {
    p.checkInvitationMac(found.macKey, fields, p.b64decode(answer.mac ?? ""));
  } catch (error) {
    if (error instanceof p.ProtocolError) {
      throw refuse("invitation-not-genuine", { lookupId: found.lookupId });
    }
    throw error;
  } finally {
    found.macKey.fill(0);
  }
  return {
    setup: false,
    lookupId: found.lookupId,
    redeemProof: found.redeemProof,
    accountId: fields.account_id,
    role: fields.role,
    roleLabel: answer.role_label,
    purpose: fields.purpose === "rekey" ? "rekey" : "invite", // as the MAC vouched
    kdf: answer.kdf,
    root: { account_id: fields.root_account_id, signing_public_key: fields.root_signing_public_key },
    inviter: {
      account_id: fields.inviter_account_id,
      box_public_key: fields.inviter_box_public_key,
      signing_public_key: fields.inviter_signing_public_key,
    },
  };
}

function invitationSecretsOf(p, code) {
  try {
    return p.invitationSecrets(p.decodeInvitationCode(code));
  } catch (error) {
    if (error instanceof p.ProtocolError) throw new ApiError(CODE_REFUSED, { field: "code" });
    throw error;
  }
}

/**
 * A new identity key pair and recovery key for the invitation's account, bound to its account
 * id: {keys: {accountId, secretKey (held), publicKey, signingPublicKey, wire}, recoveryCode}.
 * `wire` is what completeJoin sends (at setup with this account's own staff-cert). Keys do not
 * depend on the sign-in name, so they survive a taken name.
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
    const signingPublicKey = p.signingPublicKeyFromSecret(secretKey);
    const wire = {
      public_key: p.b64encode(publicKey),
      signing_public_key: p.b64encode(signingPublicKey),
      auth_key: derived.authKey,
      bundle: wrapBundle(p, derived.wrapKey, accountId, secretKey),
      recovery_auth: recovery.auth,
      recovery_bundle: recovery.bundle,
    };
    if (invitation.setup) wire.staff_cert = ownStaffCert(p, accountId, secretKey);
    return {
      keys: { accountId, secretKey, publicKey, signingPublicKey, wire },
      recoveryCode: recovery.code,
    };
  } catch (error) {
    forget(secretKey);
    throw error;
  }
}

/** The first service manager's own certificate: issuer = account = me, both keys mine. */
function ownStaffCert(p, accountId, secretKey) {
  const [signingSecret, signingPublicKey] = p.signingKeysFromSecret(secretKey);
  try {
    const [statement, signature] = p.signStaffCert(signingSecret, {
      account_id: accountId,
      role: "service_manager",
      box_public_key: p.b64encode(p.publicKeyFromSecret(secretKey)),
      signing_public_key: p.b64encode(signingPublicKey),
      issued_at: protocolTime(),
      issuer_account_id: accountId,
    });
    return { statement: p.b64encode(statement), signature: p.b64encode(signature) };
  } finally {
    signingSecret.fill(0);
  }
}

/** What the new vault pins: the MAC-checked root and inviter, or at setup the root (me). */
function pinsFor(p, invitation, keys, answer) {
  if (!invitation.setup) return { root: invitation.root, inviter: invitation.inviter };
  const mine = { account_id: keys.accountId, signing_public_key: p.b64encode(keys.signingPublicKey) };
  const root = answer.root;
  if (!root || root.account_id === mine.account_id) return { root: mine };
  // A later setup link, on a service that has a root: trust on first use, as at sign-in.
  return { root: { account_id: root.account_id, signing_public_key: root.signing_public_key } };
}

/**
 * Create the account with the chosen name: {next, fingerprint}. Once the server has answered,
 * the account exists and this browser is signed in, so nothing after that throws: fingerprint
 * is null if the key could not be kept for this tab (the next page then asks to sign in), and a
 * vault that could not be saved is pinned at the next sign-in. The keys are forgotten on
 * success; on a refusal (a taken name) they are kept for another try.
 */
export async function completeJoin(invitation, name, keys) {
  const p = await protocol();
  const redeem = invitation.setup
    ? { code: invitation.code }
    : { redeem_proof: p.b64encode(invitation.redeemProof), lookup_id: invitation.lookupId };
  const answer = await postJSON("/api/join/complete", {
    ...redeem,
    sign_in_name: name,
    ...keys.wire,
  });
  setCsrfToken(answer.csrf_token);
  let fingerprint = null;
  try {
    await storeSecretKey(answer.account_id, keys.secretKey, answer.session_key);
    const digits = p.identityFingerprintDigits(keys.publicKey, keys.signingPublicKey);
    fingerprint = p.formatFingerprint(digits);
    const pins = pinsFor(p, invitation, keys, answer);
    await updateVault(keys, (data) => withPins(data, pins));
  } catch {
    // The number is shown on the account page; the root is pinned at the next sign-in.
  }
  forgetKeys(keys);
  return { next: safeNext(answer.next), fingerprint };
}

/** Forget the invitation's redeem proof (the page is done with it, or left). */
export function forgetInvitation(invitation) {
  if (invitation?.redeemProof) invitation.redeemProof.fill(0);
}
