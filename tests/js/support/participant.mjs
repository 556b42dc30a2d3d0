// A participant's case as the server would answer about it, with real keys (libsodium in
// node): a facilitator, certified by the service root in a real trust log, who made the case
// key pair, signed it (case-key statement) and granted its public key to the author; the
// author's vault with the root pinned (as at sign-in); and what GET /api/me/case,
// GET /api/letters/{id} and the drafts endpoints answer. Used by the tests of
// client/letters.js, client/drafts.js and client/participant-case.js.

import { protocol } from "../../../static/js/crypto/keys.js";
import {
  FACILITATOR_ID,
  ROOT_ID,
  TrustLog,
  caseKeyStatement,
  rootOf,
  securityEventRoutes,
  staffMember,
  trustRoutes,
  vaultRoutes,
} from "./trust.mjs";

const p = await protocol();

export const CASE_ID = "8f0e4c1a-2b3d-4e5f-9a6b-7c8d9e0f1a2b";
export const AUTHOR_ID = "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
export const OBJECT_ID = "0b7f6a52-8f5c-4d33-9a51-6a1e2f3c4d5e";
export const MESSAGE_ID = "3c2b1a0f-9e8d-4c7b-a6f5-e4d3c2b1a0f9";

function identity() {
  const [secretKey, publicKey] = p.generateIdentity();
  return { secretKey, publicKey };
}

/**
 * {p, root, facilitator, log, vault, caseKeys, author: {accountId, secretKey, publicKey},
 *  meCase(extra), routes}. `routes` serve the trust log, the author's vault (root pinned) and
 * security reports: spread them into a fakeServer's routes.
 */
export function participantWorld() {
  const root = staffMember(ROOT_ID, "service_manager");
  const facilitator = staffMember(FACILITATOR_ID, "facilitator");
  const log = new TrustLog(root).certify(root, facilitator);
  const caseKeys = identity();
  const author = { accountId: AUTHOR_ID, ...identity() };
  const vault = vaultRoutes(author, { pins: { root: rootOf(root) } });
  const statement = caseKeyStatement(facilitator, CASE_ID, caseKeys.publicKey);
  const grant = p.makeCasePublicGrant(
    facilitator.secretKey,
    author.publicKey,
    CASE_ID,
    caseKeys.publicKey,
  );
  /** GET /api/me/case, with `extra` fields changed. */
  function meCase(extra = {}) {
    return {
      case_id: CASE_ID,
      account_id: AUTHOR_ID,
      side: "person_responsible",
      case_status: "open",
      case_public_grant: p.b64encode(grant),
      grant_sender_account_id: FACILITATOR_ID,
      grant_sender_public_key: p.b64encode(facilitator.publicKey),
      case_key_statement: statement,
      recipients: [],
      can_write: true,
      why_not: null,
      ...extra,
    };
  }
  const routes = { ...trustRoutes(log), ...vault.routes, ...securityEventRoutes };
  return { p, root, facilitator, log, vault, caseKeys, author, meCase, routes };
}

/** A text letter `sender` sealed and granted to `reader`, as GET /api/letters/{id} sends it. */
export function sealedText(sender, readerPk, text, { objectId = OBJECT_ID, version = 1 } = {}) {
  const sealed = p.sealLetter(
    sender.secretKey,
    sender.publicKey,
    readerPk,
    objectId,
    version,
    text,
    "2026-11-23T10:00:00.000Z",
    AUTHOR_ID,
  );
  return {
    object_id: objectId,
    version,
    manifest: p.b64encode(sealed.manifest),
    manifest_hash: p.b64encode(sealed.manifestHash),
    chunks: sealed.chunks.map((chunk) => p.b64encode(chunk)),
    layout: sealed.chunks.map((_, index) => ({
      part: 0,
      index,
      final: index === sealed.chunks.length - 1,
      inline: true,
    })),
    chunk_url: `/api/content/${objectId}/${version}/`,
    // sealLetter's first grant is to `readerPk` (the "case" key in its words).
    grant: p.b64encode(sealed.grantToCase),
  };
}

/**
 * A message with a written part and a recording (part 1, stored apart), granted by `author`
 * to themselves: {answer (as GET /api/letters/{id}), chunks (the recording's sealed chunks)}.
 */
export function sealedMedia(author, text, recording, { objectId = OBJECT_ID, version = 1 } = {}) {
  const key = p.generateContentKey();
  const parts = [
    { kind: "letter", mime: "text/plain; charset=utf-8", name: "", data: new TextEncoder().encode(text) },
    { kind: "recording", mime: "audio/webm;codecs=opus", name: "", data: recording },
  ];
  const sealed = p.encryptContent(key, objectId, version, parts, "2026-11-23T10:00:00.000Z", AUTHOR_ID);
  const grant = p.makeContentGrant(
    author.secretKey,
    author.publicKey,
    objectId,
    version,
    key,
    sealed.manifestHash,
  );
  const layout = sealed.chunks.flatMap((chunks, part) =>
    chunks.map((_, index) => ({ part, index, final: index === chunks.length - 1, inline: part === 0 })),
  );
  return {
    answer: {
      object_id: objectId,
      version,
      manifest: p.b64encode(sealed.manifestBlob),
      manifest_hash: p.b64encode(sealed.manifestHash),
      chunks: sealed.chunks[0].map((chunk) => p.b64encode(chunk)),
      layout,
      chunk_url: `/api/content/${objectId}/${version}/`,
      grant: p.b64encode(grant),
    },
    chunks: sealed.chunks[1],
  };
}

/** A copy of a sealed answer with one byte of its first inline chunk changed. */
export function tampered(answer) {
  const chunk = p.b64decode(answer.chunks[0]);
  chunk[chunk.length - 1] ^= 0x01;
  return { ...answer, chunks: [p.b64encode(chunk), ...answer.chunks.slice(1)] };
}
