// Trust anchors in this browser (docs/api-trust.md): GET /api/trust checked against the pins in
// my vault, and the checks every client makes before it accepts a key or opens content made by
// staff. The server vouches for nothing here: a key counts only if the trust log, which begins
// at the root this browser pinned, certifies it.
//
//   loadTrust(keys, {audience})   the trusted staff as this browser sees them (a view of
//                                 crypto/trust-chain.js), checked once per page and account:
//                                 1. the log extends the pinned {count, head} (the pin follows);
//                                 2. it begins at the pinned root and leads to the served root;
//                                 3. walked, it gives the certified and the revoked staff.
//                                 audience "participant" adds my pinned inviter; "staff" adds
//                                 my own keys (what I made myself I trust)
//   trustedStaff(keys, options) / isTrustedStaffBoxKey(keys, accountId, boxKey, options)
//   requireTrustedSenders(keys, sealed, details)   every sealed object's sender must be trusted
//                                 staff (sender_account_id, sender_public_key), else refused
//   checkCaseKey(p, view, details) / pinCaseKey(keys, details)   a signed case key, then its pin
//   pinRootOnFirstUse(keys)       at sign-in, for an account made before trust anchors
//
// Refusals are NotGenuine (client/security-events.js), reported to the server. No trust data at
// all (a 404, no root) is refused too: nothing is ever accepted for want of a chain.

import { protocol } from "../crypto/keys.js";
import {
  checkCaseKeyStatement,
  checkRoots,
  entriesFrom,
  trustView,
  walkTrustLog,
} from "../crypto/trust-chain.js";
import { casePinDecision, withCasePin, withPins } from "../crypto/vault.js";
import { ApiError, ShowableError } from "../lib/errors.js";
import { getJSON } from "../lib/http.js";
import { NotGenuine, refuse, reportSecurityEvent } from "./security-events.js";
import { VaultUnreadable, loadVault, trustPins, updateVault } from "./vault.js";

export { NotGenuine } from "./security-events.js";

/** This browser has no root pinned yet: it is pinned at the next sign-in. */
export class TrustNotSetUp extends ShowableError {
  constructor() {
    super(
      "This browser has not yet recorded who vouches for the staff of this service, so nothing " +
        "was opened. Please sign out, then sign in again.",
    );
    this.name = "TrustNotSetUp";
  }
}

const loaded = new Map(); // "<account id> <audience>" -> Promise of the view

/** Forget the checked chains (a test, or a page that must see a newer log). */
export function forgetTrust() {
  loaded.clear();
}

/**
 * The trusted staff for me, checked against my pins. Throws NotGenuine (reported), TrustNotSetUp,
 * VaultUnreadable, or ApiError when the portal could not be asked; a failure other than a
 * refusal is tried again on the next call.
 */
export function loadTrust(keys, { audience = "participant" } = {}) {
  const key = `${keys.accountId} ${audience}`;
  if (!loaded.has(key)) {
    const checked = checkTrust(keys, audience);
    loaded.set(key, checked);
    checked.catch((error) => {
      if (!(error instanceof NotGenuine)) loaded.delete(key);
    });
  }
  return loaded.get(key);
}

/** GET /api/trust; an answer with no trust data at all is refused. */
async function servedTrust(audience) {
  let served;
  try {
    served = await getJSON("/api/trust");
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 410)) {
      throw refuse("trust-log-not-genuine", { audience });
    }
    throw error;
  }
  if (!served || !served.root || !Array.isArray(served.log)) {
    throw refuse("trust-log-not-genuine", { audience });
  }
  return served;
}

async function checkTrust(keys, audience) {
  const p = await protocol();
  const served = await servedTrust(audience);
  const { data, readable } = await loadVault(keys);
  if (!readable) throw new VaultUnreadable();
  const pins = trustPins(data);
  if (!pins.root) throw new TrustNotSetUp();
  try {
    const entries = entriesFrom(p, served.log);
    const seen = pins.trust_log || { count: 0, head: p.b64encode(new Uint8Array(32)) };
    const head = p.verifyTrustLogExtends(seen.count, p.b64decode(seen.head), entries);
    // Pinned before anything else is judged: from now on only this log, grown, is accepted.
    if (entries.length !== seen.count) {
      const trustLog = { count: entries.length, head: p.b64encode(head) };
      // Another tab may have pinned a longer log meanwhile: the pin never moves back.
      const newer = (current) => (trustPins(current).trust_log?.count ?? 0) >= trustLog.count;
      await updateVault(keys, (current) =>
        newer(current) ? null : withPins(current, { trust_log: trustLog }),
      );
    }
    const chain = walkTrustLog(p, entries);
    checkRoots(p, chain, pins.root, served.root);
    const self = audience === "staff" ? myKeys(p, keys) : null;
    const inviter = audience === "participant" ? pins.inviter : null;
    return trustView(chain, { inviter, self });
  } catch (error) {
    if (error instanceof p.ProtocolError) throw refuse("trust-log-not-genuine", { audience });
    throw error;
  }
}

/**
 * My own account as the chain would certify it: {account_id, box_public_key,
 * signing_public_key}, both keys worked out from my secret key (never the server's word).
 */
function myKeys(p, keys) {
  return {
    account_id: keys.accountId,
    box_public_key: p.b64encode(p.publicKeyFromSecret(keys.secretKey)),
    signing_public_key: p.b64encode(p.signingPublicKeyFromSecret(keys.secretKey)),
  };
}

/** The certified, unrevoked staff: [{account_id, role, box_public_key, signing_public_key}]. */
export async function trustedStaff(keys, options) {
  return (await loadTrust(keys, options)).staff;
}

/** Whether `boxPublicKeyB64` is trusted staff's key for `accountId`. */
export async function isTrustedStaffBoxKey(keys, accountId, boxPublicKeyB64, options) {
  return (await loadTrust(keys, options)).isTrustedBoxKey(accountId, boxPublicKeyB64);
}

/**
 * Refuse (`kind`, reported) unless every sealed object given ({sender_account_id,
 * sender_public_key}; null ones are skipped) was made by trusted staff. Checked before anything
 * of them is opened.
 */
export async function requireTrustedSenders(keys, sealed, details) {
  const { kind, audience = "participant", ...ids } = details;
  const view = await loadTrust(keys, { audience });
  for (const item of sealed) {
    if (item === null || item === undefined) continue;
    if (!view.isTrustedBoxKey(item.sender_account_id, item.sender_public_key)) {
      throw refuse(kind, { audience, ...ids });
    }
  }
}

/**
 * The fields of a signed case key {statement, signature, signer_account_id?} if trusted staff
 * signed it for `caseId`, naming `casePublicKey` (bytes); refused (case-key-not-genuine)
 * otherwise, a missing statement included.
 */
export function checkCaseKey(p, view, { caseId, signed, casePublicKey, audience }) {
  try {
    return checkCaseKeyStatement(p, view, signed, caseId, p.b64encode(casePublicKey));
  } catch (error) {
    if (error instanceof p.ProtocolError) {
      throw refuse("case-key-not-genuine", { audience, caseId });
    }
    throw error;
  }
}

/**
 * Pin a checked case key ({epoch, case_public_key}) for its case the first time, and follow a
 * later epoch; a different key with no later epoch is an unexplained change: refused.
 */
export async function pinCaseKey(keys, { caseId, fields, audience }) {
  let changed = false;
  await updateVault(keys, (data) => {
    const decision = casePinDecision(data, caseId, fields);
    changed = decision === "changed";
    if (changed || decision === "same") return null;
    return withCasePin(data, caseId, fields.epoch, fields.case_public_key);
  });
  if (changed) throw refuse("case-key-not-genuine", { audience, caseId });
}

/**
 * Trust on first use, at sign-in, for an account made before trust anchors: with no root
 * pinned, pin the served root and log, if the log walks from that root. Never throws: signing
 * in goes on, and without a pin every later check refuses (TrustNotSetUp).
 */
export async function pinRootOnFirstUse(keys) {
  try {
    const p = await protocol();
    const { data, readable } = await loadVault(keys);
    if (!readable || trustPins(data).root) return;
    const served = await getJSON("/api/trust");
    if (!served || !served.root || !Array.isArray(served.log)) return;
    let pins;
    try {
      const entries = entriesFrom(p, served.log);
      const chain = walkTrustLog(p, entries);
      checkRoots(p, chain, chain.initialRoot, served.root);
      const [count, head] = p.trustLogHead(entries);
      pins = { root: chain.initialRoot, trust_log: { count, head: p.b64encode(head) } };
    } catch (error) {
      if (!(error instanceof p.ProtocolError)) throw error;
      await reportSecurityEvent(new NotGenuine("trust-log-not-genuine"));
      return;
    }
    // Another tab may have pinned a root meanwhile: that one stays.
    await updateVault(keys, (current) =>
      trustPins(current).root ? null : withPins(current, pins),
    );
  } catch {
    // Offline, or the vault would not save: the next sign-in tries again.
  }
}
