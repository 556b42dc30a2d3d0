// Referrals (docs/api-referrals.md, docs/protocol-v1.md "Referrals"): every fetch and protocol
// call for the public pages and for the service manager's Referrals page.
//
// Public pages (no account, nothing pinned):
//   loadReferralKey()            the service's referral key, once its `referral-key` statement
//                                checks out against the trust log served with it (signed by the
//                                root or a certified, unrevoked service manager with the key the
//                                log holds), and the root's security number to compare with the
//                                one the service gave the agency. NotTakingReferrals when there
//                                is no key; ReferralKeyNotGenuine when it does not check out.
//   sealReferralForm(key, form)  {key_id, ciphertext}: the form sealed to that key
// Staff (signed in, `keys` from client/session.js):
//   makeReferralKey(keys)        a new key pair, its signed statement and my own grant
//   openMyReferralKey(keys)      {keyId, publicKey, secretKey} from my grant, once the grant's
//                                sender and the statement check out in my trust view
//   grantReferralKey(keys, id)   {account_id, grant}: the key boxed to a colleague's box key
//                                taken from the trust log, never from the server's record
//   openReferral(keys, keyId, ciphertextB64)   the form a referral holds, opened with my key
// Triage (the referral's page): client/referral-triage.js.
import { protocol } from "../crypto/keys.js";
import { checkRoots, entriesFrom, statementTime, walkTrustLog } from "../crypto/trust-chain.js";
import { ShowableError } from "../lib/errors.js";
import { getJSON } from "../lib/http.js";
import { loadTrust } from "./trust.js";

export class NotTakingReferrals extends ShowableError {
  constructor() {
    super("The service is not taking referrals online at the moment.");
    this.name = "NotTakingReferrals";
  }
}

export class ReferralKeyNotGenuine extends ShowableError {
  constructor() {
    super(
      "This page could not check that it would lock your words for the service's staff only, " +
        "so nothing can be sent from here. Please contact the service in another way.",
    );
    this.name = "ReferralKeyNotGenuine";
  }
}

export class ReferralTooLong extends ShowableError {
  constructor() {
    super("What you wrote is too long to send in one go. Please shorten it and try again.");
    this.name = "ReferralTooLong";
  }
}

export class ReferralGrantNotGenuine extends ShowableError {
  constructor() {
    super(
      "Your browser could not confirm the referral key as coming from a certified service " +
        "manager, so it did not use it. Please tell your service manager.",
    );
    this.name = "ReferralGrantNotGenuine";
  }
}

export class NotAReader extends ShowableError {
  constructor() {
    super(
      "Your browser could not find this colleague's certificate in the service's trust log, so " +
        "it did not give them the referral key. Certify them first.",
    );
    this.name = "NotAReader";
  }
}

/**
 * The fields of `signed` ({key_id, referral_public_key, statement, signature,
 * signer_account_id}), if the signer is the root or a certified service manager in `staff`
 * (a Map or list of chain records) and signed it with the key the log holds for them.
 */
export function checkReferralKey(p, staff, signed) {
  const records = staff instanceof Map ? [...staff.values()] : staff;
  const signer = records.find(
    (person) =>
      person.account_id === signed?.signer_account_id && person.role === "service_manager",
  );
  if (!signer) throw new p.WrongContext("the referral key is not signed by a service manager");
  const fields = p.openReferralKey(
    p.b64decode(signer.signing_public_key),
    p.b64decode(signed.statement),
    p.b64decode(signed.signature),
  );
  const same =
    fields.issuer_account_id === signer.account_id &&
    fields.key_id === signed.key_id &&
    fields.referral_public_key === signed.referral_public_key;
  if (!same) throw new p.WrongContext("the signed referral key is not this key");
  return fields;
}

export async function loadReferralKey() {
  const p = await protocol();
  const served = await getJSON("/api/referrals/key");
  if (!served || !served.key) throw new NotTakingReferrals();
  try {
    const chain = walkTrustLog(p, entriesFrom(p, served.log));
    // Nothing is pinned here: the chain must at least be whole and lead to the served root.
    checkRoots(p, chain, chain.initialRoot, served.root);
    const fields = checkReferralKey(p, chain.staff, served.key);
    const root = chain.staff.get(chain.root.account_id);
    if (!root) throw new p.WrongContext("the root is not certified");
    const digits = p.identityFingerprintDigits(
      p.b64decode(root.box_public_key),
      p.b64decode(root.signing_public_key),
    );
    return Object.freeze({
      keyId: fields.key_id,
      publicKey: p.b64decode(fields.referral_public_key),
      rootNumber: p.formatFingerprint(digits),
    });
  } catch (error) {
    if (error instanceof p.ProtocolError) throw new ReferralKeyNotGenuine();
    throw error;
  }
}

export async function sealReferralForm(key, form) {
  const p = await protocol();
  try {
    return {
      key_id: key.keyId,
      ciphertext: p.b64encode(p.sealReferral(key.publicKey, key.keyId, form)),
    };
  } catch (error) {
    if (error instanceof p.MalformedInput) throw new ReferralTooLong();
    throw error;
  }
}

export async function makeReferralKey(keys, { now } = {}) {
  const p = await protocol();
  const [secretKey, publicKey] = p.generateIdentity();
  const [signingSecret] = p.signingKeysFromSecret(keys.secretKey);
  const keyId = globalThis.crypto.randomUUID();
  try {
    const [statement, signature] = p.signReferralKey(signingSecret, {
      key_id: keyId,
      referral_public_key: p.b64encode(publicKey),
      issued_at: statementTime(now),
      issuer_account_id: keys.accountId,
    });
    const mine = p.publicKeyFromSecret(keys.secretKey);
    const grant = p.makeReferralKeyGrant(keys.secretKey, mine, keyId, secretKey);
    return {
      key_id: keyId,
      referral_public_key: p.b64encode(publicKey),
      statement: p.b64encode(statement),
      signature: p.b64encode(signature),
      grant: p.b64encode(grant),
    };
  } finally {
    signingSecret.fill(0);
    secretKey.fill(0);
  }
}

export async function openMyReferralKey(keys) {
  const p = await protocol();
  const served = await getJSON("/api/referrals/my-grant");
  const view = await loadTrust(keys, { audience: "staff" });
  try {
    if (!view.isTrustedBoxKey(served.sender_account_id, served.sender_public_key)) {
      throw new p.WrongContext("the grant's sender is not trusted staff");
    }
    const fields = checkReferralKey(p, view.staff, served.key);
    const secretKey = p.openReferralKeyGrant(
      keys.secretKey,
      p.b64decode(served.sender_public_key),
      fields.key_id,
      p.b64decode(served.grant),
    );
    const publicKey = p.publicKeyFromSecret(secretKey);
    if (p.b64encode(publicKey) !== fields.referral_public_key) {
      throw new p.WrongContext("the granted key is not the published key");
    }
    return { keyId: fields.key_id, publicKey, secretKey };
  } catch (error) {
    if (error instanceof p.ProtocolError) throw new ReferralGrantNotGenuine();
    throw error;
  }
}

export async function grantReferralKey(keys, accountId) {
  const p = await protocol();
  const view = await loadTrust(keys, { audience: "staff" });
  const colleague = view.staff.find(
    (person) =>
      person.account_id === accountId &&
      (person.role === "service_manager" || person.role === "facilitator"),
  );
  if (!colleague || typeof colleague.box_public_key !== "string") throw new NotAReader();
  const opened = await openMyReferralKey(keys);
  try {
    const grant = p.makeReferralKeyGrant(
      keys.secretKey,
      p.b64decode(colleague.box_public_key),
      opened.keyId,
      opened.secretKey,
    );
    return { account_id: accountId, grant: p.b64encode(grant) };
  } finally {
    opened.secretKey.fill(0);
  }
}

export async function openReferral(keys, keyId, ciphertextB64) {
  const p = await protocol();
  const opened = await openMyReferralKey(keys);
  try {
    if (opened.keyId !== keyId) throw new p.WrongContext("sealed to another referral key");
    return p.openReferral(opened.secretKey, keyId, p.b64decode(ciphertextB64));
  } catch (error) {
    if (error instanceof p.ProtocolError) throw new ReferralGrantNotGenuine();
    throw error;
  } finally {
    opened.secretKey.fill(0);
  }
}
