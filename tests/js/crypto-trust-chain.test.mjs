// crypto/trust-chain.js with the real protocol (libsodium in node): trust logs built from real
// signed statements, walked as docs/api-trust.md says. Who counts as trusted staff, and every
// way the chain must refuse or pass over an entry.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { protocol } from "../../static/js/crypto/keys.js";
import {
  checkCaseKeyStatement,
  checkRoots,
  entriesFrom,
  statementTime,
  trustView,
  walkTrustLog,
} from "../../static/js/crypto/trust-chain.js";
import {
  FACILITATOR_ID,
  LATER,
  MANAGER_ID,
  OTHER_FACILITATOR_ID,
  ROOT_ID,
  TrustLog,
  caseKeyStatement,
  inviterOf,
  rootOf,
  staffMember,
} from "./support/trust.mjs";

const p = await protocol();
const CASE = "7a0e1d2c-3b4a-4c5d-8e6f-7a8b9c0d1e2f";
const b64 = (bytes) => p.b64encode(bytes);

function people() {
  return {
    root: staffMember(ROOT_ID, "service_manager"),
    manager: staffMember(MANAGER_ID, "service_manager"),
    facilitator: staffMember(FACILITATOR_ID, "facilitator"),
    stranger: staffMember(OTHER_FACILITATOR_ID, "facilitator"),
  };
}

const walk = (log) => walkTrustLog(p, entriesFrom(p, log.served().log));
const certified = (chain) => [...chain.staff.keys()].sort();

describe("crypto/trust-chain.js: walking the log", () => {
  test("the root's own certificate, then staff it and a certified manager certify", () => {
    const { root, manager, facilitator } = people();
    const log = new TrustLog(root).certify(root, manager).certify(manager, facilitator);
    const chain = walk(log);
    assert.deepEqual(certified(chain), [ROOT_ID, MANAGER_ID, FACILITATOR_ID].sort());
    assert.deepEqual(chain.initialRoot, rootOf(root));
    assert.deepEqual(chain.root, rootOf(root));
    assert.deepEqual(chain.staff.get(FACILITATOR_ID), {
      account_id: FACILITATOR_ID,
      role: "facilitator",
      box_public_key: b64(facilitator.publicKey),
      signing_public_key: b64(facilitator.signingPublicKey),
      issued_at: "2026-11-01T09:00:00Z",
    });
    assert.equal(chain.revoked.size, 0);
  });

  test("an empty log vouches for nobody", () => {
    assert.throws(() => walkTrustLog(p, []), p.WrongContext);
  });

  test("a log that does not begin with a root's own certificate is refused", () => {
    const { root, manager, facilitator } = people();
    // The first entry certifies someone else.
    const first = new TrustLog(root);
    first.entries = [];
    first.certify(root, facilitator, { role: "facilitator" });
    assert.throws(() => walk(first), p.WrongContext);
    // A self-certificate as a facilitator is not a root.
    const notManager = new TrustLog(root);
    notManager.entries = [];
    notManager.certify(root, root, { role: "facilitator" });
    assert.throws(() => walk(notManager), p.WrongContext);
    // Signed by another key than the one it certifies.
    const otherKey = new TrustLog(root);
    otherKey.entries = [];
    otherKey.certify(manager, root, { issuer: root });
    assert.throws(() => walk(otherKey), p.WrongContext);
  });

  test("a certificate by an uncertified signer does not count", () => {
    const { root, facilitator, stranger } = people();
    const log = new TrustLog(root).certify(stranger, facilitator);
    assert.deepEqual(certified(walk(log)), [ROOT_ID]);
  });

  test("a facilitator's certificate of someone does not count: only managers vouch", () => {
    const { root, facilitator, stranger } = people();
    const log = new TrustLog(root).certify(root, facilitator).certify(facilitator, stranger);
    assert.deepEqual(certified(walk(log)), [ROOT_ID, FACILITATOR_ID].sort());
  });

  test("a certificate naming the root as issuer but signed by another key does not count", () => {
    const { root, facilitator, stranger } = people();
    const log = new TrustLog(root).certify(stranger, facilitator, { issuer: root });
    assert.deepEqual(certified(walk(log)), [ROOT_ID]);
  });

  test("a manager's certificate under a key other than their certified one does not count", () => {
    const { root, manager, facilitator, stranger } = people();
    const log = new TrustLog(root)
      .certify(root, manager)
      .certify(stranger, facilitator, { issuer: manager });
    assert.deepEqual(certified(walk(log)), [ROOT_ID, MANAGER_ID].sort());
  });

  test("a revoked account is no longer staff, and is listed with its time", () => {
    const { root, facilitator } = people();
    const log = new TrustLog(root).certify(root, facilitator).revoke(root, facilitator);
    const chain = walk(log);
    assert.deepEqual(certified(chain), [ROOT_ID]);
    const revoked = chain.revoked.get(FACILITATOR_ID);
    assert.equal(revoked.revoked_at, LATER);
    assert.equal(revoked.reason, "left");
    assert.equal(revoked.box_public_key, b64(facilitator.publicKey));
  });

  test("a revoked manager's later certificates and revocations do not count", () => {
    const { root, manager, facilitator, stranger } = people();
    const log = new TrustLog(root)
      .certify(root, manager)
      .certify(root, facilitator)
      .revoke(root, manager)
      .certify(manager, stranger, { issuedAt: "2026-10-01T09:00:00Z" }) // backdated
      .revoke(manager, facilitator);
    const chain = walk(log);
    assert.deepEqual(certified(chain), [ROOT_ID, FACILITATOR_ID].sort());
    assert.ok(!chain.revoked.has(FACILITATOR_ID));
  });

  test("a revoked root no longer vouches, as root or as manager", () => {
    const { root, manager, facilitator } = people();
    const log = new TrustLog(root).certify(root, manager).revoke(manager, root);
    log.certify(root, facilitator);
    const chain = walk(log);
    assert.deepEqual(certified(chain), [MANAGER_ID]);
    assert.ok(chain.revoked.has(ROOT_ID));
  });

  test("what a manager certified before their revocation stands", () => {
    const { root, manager, facilitator } = people();
    const log = new TrustLog(root)
      .certify(root, manager)
      .certify(manager, facilitator)
      .revoke(root, manager);
    assert.deepEqual(certified(walk(log)), [ROOT_ID, FACILITATOR_ID].sort());
  });

  test("a revocation by an uncertified signer does not count", () => {
    const { root, facilitator, stranger } = people();
    const log = new TrustLog(root).certify(root, facilitator).revoke(stranger, facilitator);
    assert.deepEqual(certified(walk(log)), [ROOT_ID, FACILITATOR_ID].sort());
  });

  test("a revoked account is not certified again", () => {
    const { root, facilitator } = people();
    const log = new TrustLog(root)
      .certify(root, facilitator)
      .revoke(root, facilitator)
      .certify(root, facilitator);
    assert.deepEqual(certified(walk(log)), [ROOT_ID]);
  });

  test("a hand-over by the root moves the root; one by anyone else does not", () => {
    const { root, manager, facilitator, stranger } = people();
    const log = new TrustLog(root).certify(root, manager).handOver(manager, stranger);
    assert.deepEqual(walk(log).root, rootOf(root)); // by a manager who is not the root

    const handed = new TrustLog(root).certify(root, manager).handOver(root, manager);
    handed.certify(root, facilitator); // the old root no longer vouches as root …
    const chain = walk(handed);
    assert.deepEqual(chain.root, rootOf(manager));
    assert.deepEqual(chain.initialRoot, rootOf(root));
    // … but it is still a certified service manager, so its certificate counts that way.
    assert.ok(chain.staff.has(FACILITATOR_ID));
    handed.certify(manager, stranger);
    assert.ok(walk(handed).staff.has(OTHER_FACILITATOR_ID));
  });

  test("a changed byte anywhere is refused (the signature no longer verifies)", () => {
    const { root, facilitator } = people();
    const served = new TrustLog(root).certify(root, facilitator).served();
    const statement = p.b64decode(served.log[1].statement);
    statement[10] ^= 1;
    served.log[1].statement = b64(statement);
    assert.throws(() => walkTrustLog(p, entriesFrom(p, served.log)), p.ProtocolError);
  });

  test("a served log that is not a list of entries is malformed", () => {
    assert.throws(() => entriesFrom(p, { 0: {} }), p.MalformedInput);
    assert.throws(() => entriesFrom(p, [null]), p.MalformedInput);
    assert.throws(() => entriesFrom(p, [{ statement: "!" }]), p.MalformedInput);
  });
});

describe("crypto/trust-chain.js: the roots", () => {
  test("the chain must begin at the pinned root and lead to the served one", () => {
    const { root, manager } = people();
    const chain = walk(new TrustLog(root).certify(root, manager));
    checkRoots(p, chain, rootOf(root), rootOf(root));
    assert.throws(() => checkRoots(p, chain, rootOf(manager), rootOf(root)), p.WrongContext);
    assert.throws(() => checkRoots(p, chain, rootOf(root), rootOf(manager)), p.WrongContext);
    const sameIdOtherKey = { ...rootOf(root), signing_public_key: b64(manager.signingPublicKey) };
    assert.throws(() => checkRoots(p, chain, sameIdOtherKey, rootOf(root)), p.WrongContext);
  });

  test("after a hand-over the served root is the new one; the pin stays the first", () => {
    const { root, manager } = people();
    const chain = walk(new TrustLog(root).certify(root, manager).handOver(root, manager));
    checkRoots(p, chain, rootOf(root), rootOf(manager));
    assert.throws(() => checkRoots(p, chain, rootOf(root), rootOf(root)), p.WrongContext);
  });
});

describe("crypto/trust-chain.js: trusted staff and signed case keys", () => {
  function setUp() {
    const who = people();
    const chain = walk(new TrustLog(who.root).certify(who.root, who.facilitator));
    const [, casePk] = p.generateIdentity();
    return { ...who, chain, casePk };
  }

  test("a certified box key is trusted staff; another key or account is not", () => {
    const { facilitator, stranger, chain } = setUp();
    const view = trustView(chain);
    assert.ok(view.isTrustedBoxKey(FACILITATOR_ID, b64(facilitator.publicKey)));
    assert.ok(!view.isTrustedBoxKey(FACILITATOR_ID, b64(stranger.publicKey)));
    assert.ok(!view.isTrustedBoxKey(OTHER_FACILITATOR_ID, b64(stranger.publicKey)));
    assert.ok(!view.isTrustedBoxKey(undefined, b64(facilitator.publicKey)));
    assert.ok(!view.isTrustedBoxKey(FACILITATOR_ID, null));
    assert.deepEqual(
      view.staff.map((s) => s.account_id),
      [ROOT_ID, FACILITATOR_ID],
    );
  });

  test("the pinned inviter counts, unless the chain revokes them", () => {
    const { root, stranger } = people();
    const inviter = inviterOf(stranger);
    const trusts = (log) =>
      trustView(walk(log), { inviter }).isTrustedBoxKey(OTHER_FACILITATOR_ID, inviter.box_public_key);
    assert.ok(trusts(new TrustLog(root)));
    assert.ok(!trusts(new TrustLog(root).revoke(root, stranger)));
  });

  test("a case key signed by trusted staff for this case and key is accepted", () => {
    const { facilitator, chain, casePk } = setUp();
    const signed = caseKeyStatement(facilitator, CASE, casePk, { epoch: 3 });
    const fields = checkCaseKeyStatement(p, trustView(chain), signed, CASE, b64(casePk));
    assert.equal(fields.epoch, 3);
    assert.equal(fields.issuer_account_id, FACILITATOR_ID);
    // Without signer_account_id the statement's issuer is looked up.
    const { signer_account_id: _, ...bare } = signed;
    assert.equal(checkCaseKeyStatement(p, trustView(chain), bare, CASE, b64(casePk)).epoch, 3);
  });

  test("a case key is refused when anything about it is off", () => {
    const { facilitator, stranger, chain, casePk } = setUp();
    const view = trustView(chain);
    const [, otherPk] = p.generateIdentity();
    const good = caseKeyStatement(facilitator, CASE, casePk);
    const refused = (signed, caseId = CASE, key = b64(casePk)) =>
      assert.throws(() => checkCaseKeyStatement(p, view, signed, caseId, key), p.ProtocolError);
    refused(null);
    refused(good, "0b7e3f7a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"); // another case
    refused(good, CASE, b64(otherPk)); // another key than the one opened
    refused(caseKeyStatement(stranger, CASE, casePk)); // an uncertified signer
    refused({ ...caseKeyStatement(stranger, CASE, casePk), signer_account_id: FACILITATOR_ID });
    refused(caseKeyStatement(stranger, CASE, casePk, { issuer: facilitator }));
    // Signed by the facilitator, but naming another issuer.
    const namingAnother = caseKeyStatement(facilitator, CASE, casePk, { issuer: stranger });
    refused({ ...namingAnother, signer_account_id: FACILITATOR_ID });
  });

  test("statement times are to the second, in UTC", () => {
    assert.equal(statementTime(new Date("2026-11-23T10:11:12.345Z")), "2026-11-23T10:11:12Z");
  });
});
