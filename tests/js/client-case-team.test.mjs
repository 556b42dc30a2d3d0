// client/case-team.js with the real protocol, against a stand-in for the JSON API that serves the
// trust log: the case key goes only to a colleague the log holds as a certified, unrevoked
// facilitator, and to the key the log vouches for (never one the server names).
import "./support/dom.mjs";

import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { NotCertifiedColleague, grantToColleague } from "../../static/js/client/case-team.js";
import { loadSecretKey } from "../../static/js/client/session.js";
import { forgetTrust } from "../../static/js/client/trust.js";
import { protocol, storeSecretKey, wipeKeys } from "../../static/js/crypto/keys.js";
import { fakeServer, json } from "./support/fake-server.mjs";
import {
  ROOT_ID,
  TrustLog,
  rootOf,
  securityEventRoutes,
  staffMember,
  trustRoutes,
  vaultRoutes,
} from "./support/trust.mjs";

const p = await protocol();
const ME = "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const COLLEAGUE = "6e2d3c4b-5a6f-4b7c-8d9e-0f1a2b3c4d5e";
const CASE = "7a0e1d2c-3b4a-4c5d-8e6f-7a8b9c0d1e2f";

/** Me signed in with a case key open, a colleague, and the trust log as `certify` says. */
async function team({ certifyColleague = true, revoke = false, role = "facilitator" } = {}) {
  const me = staffMember(ME);
  const colleague = staffMember(COLLEAGUE, role);
  const sessionKey = p.b64encode(p.randomBytes(32));
  await storeSecretKey(ME, me.secretKey, sessionKey);
  const session = { account_id: ME, public_key: p.b64encode(me.publicKey), session_key: sessionKey };
  const root = staffMember(ROOT_ID, "service_manager");
  const log = new TrustLog(root);
  log.certify(root, me);
  if (certifyColleague) log.certify(root, colleague);
  if (revoke) log.revoke(root, colleague);
  const vault = vaultRoutes(me, { pins: { root: rootOf(root) } });
  fakeServer({
    ...trustRoutes(log),
    ...vault.routes,
    ...securityEventRoutes,
    "GET /api/session": () => json(session),
  });
  const keys = await loadSecretKey();
  const [caseSk, casePk] = p.generateIdentity();
  return { me, colleague, opened: { caseId: CASE, keys, caseKey: { caseSk, casePk, epoch: 1 } } };
}

beforeEach(() => {
  wipeKeys();
  forgetTrust();
});

describe("client/case-team.js", () => {
  test("a certified colleague gets the case key, boxed to the key the trust log vouches for", async () => {
    const { me, colleague, opened } = await team();
    const { grant } = await grantToColleague(opened, COLLEAGUE);
    const caseSk = p.openCaseGrant(colleague.secretKey, me.publicKey, CASE, p.b64decode(grant));
    assert.deepEqual(caseSk, opened.caseKey.caseSk);
  });

  test("a colleague the log does not certify, or revoked, or not a facilitator, gets nothing", async () => {
    for (const setting of [{ certifyColleague: false }, { revoke: true }, { role: "service_manager" }]) {
      forgetTrust();
      wipeKeys();
      const { opened } = await team(setting);
      await assert.rejects(grantToColleague(opened, COLLEAGUE), NotCertifiedColleague);
    }
  });
});
