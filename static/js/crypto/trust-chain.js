// The trust chain (docs/api-trust.md, "Trusted staff: the chain"): which staff keys the trust log
// vouches for, and whether a signed case key is theirs. Pure: the caller passes the protocol
// module `p` and what the server served; client/trust.js fetches, checks the pins and keeps them.
//
// Every failure is a protocol error (WrongContext, MalformedInput, DecryptionFailed), so the
// caller can turn any of them into one refusal without telling them apart.
//
//   entriesFrom(p, log)              the served log as protocol.js entries [signer, statement, sig]
//   walkTrustLog(p, entries)         {initialRoot, root, staff: Map, revoked: Map}
//   checkRoots(p, chain, pinned, served)   the chain begins at my pinned root
//   trustView(chain, options)        who counts as trusted staff for this browser:
//                                    isTrustedBoxKey(accountId, key), signingKeysOf(accountId)
//   checkCaseKeyStatement(p, view, signed, caseId, casePublicKeyB64)   the signed fields
//   statementTime(date)              "YYYY-MM-DDTHH:MM:SSZ", the only time a statement takes

const CONTEXT_PREFIX = "portal/v1/";

/** A statement's time: UTC to the second, the one spelling protocol.js accepts. */
export function statementTime(date = new Date()) {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** [signer, statement, signature] byte arrays from the served {signer_signing_public_key, …}. */
export function entriesFrom(p, log) {
  if (!Array.isArray(log)) throw new p.MalformedInput("the trust log must be a list");
  return log.map((entry) => {
    if (entry === null || typeof entry !== "object") {
      throw new p.MalformedInput("a trust log entry must be an object");
    }
    return [
      p.b64decode(entry.signer_signing_public_key),
      p.b64decode(entry.statement),
      p.b64decode(entry.signature),
    ];
  });
}

/**
 * The kind a statement says it is, read before it is opened only to pick the opener: the opener
 * then checks the signature and refuses any other kind (WrongContext).
 */
function claimedKind(p, statement) {
  let data;
  try {
    data = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(statement));
  } catch {
    throw new p.MalformedInput("statement is not JSON");
  }
  const context = data !== null && typeof data === "object" ? data.context : undefined;
  if (typeof context !== "string" || !context.startsWith(CONTEXT_PREFIX)) {
    throw new p.MalformedInput("statement has no context");
  }
  return { kind: context.slice(CONTEXT_PREFIX.length), data };
}

function staffRecord(cert) {
  return Object.freeze({
    account_id: cert.account_id,
    role: cert.role,
    box_public_key: cert.box_public_key,
    signing_public_key: cert.signing_public_key,
    issued_at: cert.issued_at,
  });
}

/**
 * Walk the whole log in order (docs/api-trust.md): entry 0 must be the first root's own
 * staff-cert; a staff-cert or revocation counts only if the current root or a certified, not
 * revoked service manager signed it with the key of their certificate; a root-handover only if
 * the current root did. Entries that do not count are passed over (they change nothing).
 *
 * Stricter than "not revoked at issued_at": once a revocation is in the log, nothing its account
 * signs later in the log counts, whatever time it bears, because a lost key can write any time.
 * A revoked account is not certified again.
 */
export function walkTrustLog(p, entries) {
  if (!Array.isArray(entries) || entries.length === 0) {
    throw new p.WrongContext("the trust log is empty: nothing vouches for anyone");
  }
  const staff = new Map();
  const revoked = new Map();
  const first = firstRoot(p, entries[0]);
  let root = first.root;
  staff.set(first.cert.account_id, staffRecord(first.cert));

  /** Whether `issuer` (an account id) signed with `signerB64` as the root or a service manager. */
  const mayVouch = (issuer, signerB64) => {
    if (revoked.has(issuer)) return false;
    if (issuer === root.account_id && signerB64 === root.signing_public_key) return true;
    const manager = staff.get(issuer);
    return manager?.role === "service_manager" && manager.signing_public_key === signerB64;
  };

  for (const [signer, statement, signature] of entries.slice(1)) {
    const signerB64 = p.b64encode(signer);
    const { kind } = claimedKind(p, statement);
    if (kind === "staff-cert") {
      const cert = p.openStaffCert(signer, statement, signature);
      if (mayVouch(cert.issuer_account_id, signerB64) && !revoked.has(cert.account_id)) {
        staff.set(cert.account_id, staffRecord(cert)); // a later certificate replaces an earlier
      }
    } else if (kind === "revocation") {
      const revocation = p.openRevocation(signer, statement, signature);
      if (mayVouch(revocation.issuer_account_id, signerB64)) {
        const was = staff.get(revocation.account_id) || { account_id: revocation.account_id };
        staff.delete(revocation.account_id);
        revoked.set(
          revocation.account_id,
          Object.freeze({ ...was, revoked_at: revocation.revoked_at, reason: revocation.reason }),
        );
      }
    } else if (kind === "root-handover") {
      const handover = p.openRootHandover(signer, statement, signature);
      const byRoot =
        handover.issuer_account_id === root.account_id &&
        signerB64 === root.signing_public_key &&
        !revoked.has(root.account_id);
      if (byRoot) {
        root = Object.freeze({
          account_id: handover.new_root_account_id,
          signing_public_key: handover.new_root_signing_public_key,
        });
      }
    } else {
      throw new p.WrongContext("trust log entry is not a certificate, revocation or hand-over");
    }
  }
  return { initialRoot: first.root, root, staff, revoked };
}

/** Entry 0: a service manager's certificate of itself, signed with the key it certifies. */
function firstRoot(p, [signer, statement, signature]) {
  const cert = p.openStaffCert(signer, statement, signature);
  const own =
    cert.role === "service_manager" &&
    cert.issuer_account_id === cert.account_id &&
    cert.signing_public_key === p.b64encode(signer);
  if (!own) {
    throw new p.WrongContext("the trust log does not begin with the root's own certificate");
  }
  const root = Object.freeze({
    account_id: cert.account_id,
    signing_public_key: cert.signing_public_key,
  });
  return { cert, root };
}

/** Whether two roots {account_id, signing_public_key} are the same. */
export function sameRoot(a, b) {
  return (
    Boolean(a && b) &&
    a.account_id === b.account_id &&
    a.signing_public_key === b.signing_public_key
  );
}

/**
 * The chain must begin at the root this browser pinned, and the root the server names must be
 * where the chain's hand-overs lead (both the same root while nothing was handed over).
 */
export function checkRoots(p, chain, pinnedRoot, servedRoot) {
  if (!sameRoot(chain.initialRoot, pinnedRoot)) {
    throw new p.WrongContext("the trust log does not begin at the pinned root");
  }
  if (!sameRoot(chain.root, servedRoot)) {
    throw new p.WrongContext("the served root is not the trust log's root");
  }
}

/**
 * Who counts as trusted staff: certified and not revoked; for a participant also the pinned
 * inviter (unless the chain revokes them); `self` ({account_id, box_public_key,
 * signing_public_key}) is my own account, which I trust for what I made myself.
 */
export function trustView(chain, { inviter = null, self = null } = {}) {
  const extra = [inviter, self].filter(
    (person) =>
      person && typeof person.account_id === "string" && !chain.revoked.has(person.account_id),
  );
  // Everyone this browser knows by that account id: the chain's record, and the pinned inviter
  // or myself. A key counts if any of them has it.
  const known = (accountId) => {
    if (typeof accountId !== "string") return [];
    const others = extra.filter((person) => person.account_id === accountId);
    return [chain.staff.get(accountId), ...others].filter(Boolean);
  };
  return Object.freeze({
    root: chain.root,
    staff: Object.freeze([...chain.staff.values()]),
    revoked: Object.freeze([...chain.revoked.values()]),
    /** Whether `boxPublicKeyB64` is a trusted box key of `accountId`. */
    isTrustedBoxKey(accountId, boxPublicKeyB64) {
      const people = known(accountId);
      return Boolean(boxPublicKeyB64) && people.some((p) => p.box_public_key === boxPublicKeyB64);
    },
    /** The trusted signing keys (base64url) of `accountId`: none, one, rarely two. */
    signingKeysOf(accountId) {
      return [...new Set(known(accountId).map((person) => person.signing_public_key))];
    },
  });
}

/**
 * The fields of a case-key statement {statement, signature, signer_account_id?} (base64url),
 * if trusted staff signed it for `caseId` and it names `casePublicKeyB64`. The signer is looked
 * up by account (the server's signer_account_id, else the issuer the statement names) and only
 * its key from the chain is used; the signed issuer must be that account.
 */
export function checkCaseKeyStatement(p, view, signed, caseId, casePublicKeyB64) {
  if (!signed || typeof signed !== "object") {
    throw new p.WrongContext("no signed case key");
  }
  const statement = p.b64decode(signed.statement);
  const signature = p.b64decode(signed.signature);
  const signer =
    typeof signed.signer_account_id === "string"
      ? signed.signer_account_id
      : claimedKind(p, statement).data.issuer_account_id;
  const fields = openedBy(p, view.signingKeysOf(signer), statement, signature);
  if (fields.issuer_account_id !== signer) {
    throw new p.WrongContext("the case key names another issuer");
  }
  if (fields.case_id !== caseId) throw new p.WrongContext("the case key is for another case");
  if (fields.case_public_key !== casePublicKeyB64) {
    throw new p.WrongContext("the signed case key is not this key");
  }
  return fields;
}

/** The case-key fields under the first of `keys` (base64url) they verify with. */
function openedBy(p, keys, statement, signature) {
  if (keys.length === 0) throw new p.WrongContext("the case key is not signed by trusted staff");
  let failure;
  for (const key of keys) {
    try {
      return p.openCaseKeyEpoch(p.b64decode(key), statement, signature);
    } catch (error) {
      failure = error;
    }
  }
  throw failure;
}
