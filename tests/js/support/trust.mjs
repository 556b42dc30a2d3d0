// A trust chain as the server would serve it, built with the real protocol (libsodium in node):
// staff with real box and signing keys, a trust log of real signed statements, signed case
// keys, and a vault the fake server keeps sealed (it cannot open it). Used by the tests of
// crypto/trust-chain.js, client/trust.js and every client that checks what staff made.
//
//   const root = staffMember(ROOT_ID, "service_manager");
//   const log = new TrustLog(root);          // entry 0: the root's own certificate
//   log.certify(root, facilitator);          // signed by the root
//   trustRoutes(log)                         GET /api/trust
//   vaultRoutes(owner, data)                 GET/PUT /api/vault, sealed to the owner's key
//   caseKeyStatement(facilitator, caseId, casePk, {epoch})   as the server serves it

import { protocol } from "../../../static/js/crypto/keys.js";
import { json } from "./fake-server.mjs";

const p = await protocol();

export const ROOT_ID = "aa000000-0000-4000-8000-000000000001";
export const MANAGER_ID = "aa000000-0000-4000-8000-000000000002";
export const FACILITATOR_ID = "aa000000-0000-4000-8000-000000000003";
export const OTHER_FACILITATOR_ID = "aa000000-0000-4000-8000-000000000004";

export const ISSUED = "2026-11-01T09:00:00Z";
export const LATER = "2026-11-20T09:00:00Z";

/** An account with its keys: {accountId, role, secretKey, publicKey, signingSecret, signingPublicKey}. */
export function staffMember(accountId, role = "facilitator") {
  const [secretKey, publicKey] = p.generateIdentity();
  const [signingSecret, signingPublicKey] = p.signingKeysFromSecret(secretKey);
  return { accountId, role, secretKey, publicKey, signingSecret, signingPublicKey };
}

/** The root pin {account_id, signing_public_key} of `member`. */
export function rootOf(member) {
  return { account_id: member.accountId, signing_public_key: p.b64encode(member.signingPublicKey) };
}

/** The inviter pin {account_id, box_public_key, signing_public_key} of `member`. */
export function inviterOf(member) {
  return {
    account_id: member.accountId,
    box_public_key: p.b64encode(member.publicKey),
    signing_public_key: p.b64encode(member.signingPublicKey),
  };
}

/** The trust log, entry by entry, with real signatures. */
export class TrustLog {
  constructor(root, { issuedAt = ISSUED } = {}) {
    this.root = rootOf(root);
    this.entries = [];
    this.certify(root, root, { issuedAt });
  }

  /** `signer` certifies `subject` (the statement may name another issuer: `issuer`). */
  certify(signer, subject, { issuedAt = ISSUED, issuer = signer, role = subject.role } = {}) {
    return this.add(signer, "staff-cert", {
      account_id: subject.accountId,
      role,
      box_public_key: p.b64encode(subject.publicKey),
      signing_public_key: p.b64encode(subject.signingPublicKey),
      issued_at: issuedAt,
      issuer_account_id: issuer.accountId,
    });
  }

  revoke(signer, subject, { revokedAt = LATER, reason = "left" } = {}) {
    return this.add(signer, "revocation", {
      account_id: subject.accountId,
      revoked_at: revokedAt,
      issuer_account_id: signer.accountId,
      reason,
    });
  }

  handOver(signer, newRoot, { issuedAt = LATER } = {}) {
    const entry = this.add(signer, "root-handover", {
      new_root_account_id: newRoot.accountId,
      new_root_signing_public_key: p.b64encode(newRoot.signingPublicKey),
      issued_at: issuedAt,
      issuer_account_id: signer.accountId,
    });
    this.root = rootOf(newRoot);
    return entry;
  }

  add(signer, kind, fields) {
    const [statement, signature] = p.signStatement(signer.signingSecret, kind, fields);
    this.entries.push({
      signer_signing_public_key: p.b64encode(signer.signingPublicKey),
      statement: p.b64encode(statement),
      signature: p.b64encode(signature),
    });
    return this;
  }

  /** GET /api/trust's answer: {root, log}. */
  served() {
    return { root: { ...this.root }, log: this.entries.map((entry) => ({ ...entry })) };
  }

  /** protocol.js entries [signer, statement, signature]. */
  bytes() {
    return this.entries.map((e) => [
      p.b64decode(e.signer_signing_public_key),
      p.b64decode(e.statement),
      p.b64decode(e.signature),
    ]);
  }

  /** The pin {count, head} of the log as it is now. */
  pin() {
    const [count, head] = p.trustLogHead(this.bytes());
    return { count, head: p.b64encode(head) };
  }
}

/** The route GET /api/trust serving `answer()` (a function, so a test can change it). */
export function trustRoutes(log) {
  return { "GET /api/trust": () => json(typeof log === "function" ? log() : log.served()) };
}

/**
 * GET/PUT /api/vault for `owner` ({accountId, secretKey}), starting from `data` (null: no vault
 * yet). `vault.data()` opens what is stored now, as the test's eye.
 */
export function vaultRoutes(owner, data = null) {
  let blob = data === null ? null : p.b64encode(p.sealVault(owner.secretKey, owner.accountId, data));
  const vault = {
    routes: {
      "GET /api/vault": () => json({ blob }),
      "PUT /api/vault": ({ body }) => {
        blob = body.blob;
        return json({ ok: true });
      },
    },
    data: () => (blob === null ? null : p.openVault(owner.secretKey, owner.accountId, p.b64decode(blob))),
    set(next) {
      blob = p.b64encode(p.sealVault(owner.secretKey, owner.accountId, next));
    },
  };
  return vault;
}

/** A signed case key as the server serves it: {statement, signature, signer_account_id}. */
export function caseKeyStatement(signer, caseId, casePublicKey, { epoch = 1, issuer = signer } = {}) {
  const [statement, signature] = p.signCaseKeyEpoch(signer.signingSecret, {
    case_id: caseId,
    epoch,
    case_public_key: p.b64encode(casePublicKey),
    issued_at: ISSUED,
    issuer_account_id: issuer.accountId,
  });
  return {
    statement: p.b64encode(statement),
    signature: p.b64encode(signature),
    signer_account_id: signer.accountId,
  };
}

/** The security events reported, from a fakeServer's requests. */
export function reported(server) {
  return server.requests
    .filter((r) => r.method === "POST" && r.url === "/api/security-events")
    .map((r) => r.body);
}

/** POST /api/security-events, answered as the server would. */
export const securityEventRoutes = {
  "POST /api/security-events": () => json({ ok: true }),
};
