// client/accounts.js with the real protocol (libsodium in node) and the real Argon2id (the KDF
// Worker's own handler, called directly), against a stand-in for the JSON API that keeps an
// account as the server does: the auth key to check, the bundles it cannot open.
import "./support/dom.mjs";

import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import {
  KdfError,
  KEYS_NOT_OPENED_WITH_CODE,
  KeysNotOpened,
  MalformedRecoveryCode,
  meetsStandardCost,
  WeakProtection,
} from "../../static/js/client/account-keys.js";
import { changePassword, signIn } from "../../static/js/client/accounts.js";
import { completeJoin, makeJoinKeys, startJoin } from "../../static/js/client/joining.js";
import {
  completeRecovery,
  makeRecoveryKeys,
  startRecovery,
} from "../../static/js/client/recovery.js";
import { loadSecretKey } from "../../static/js/client/session.js";
import { handleKdfRequest } from "../../static/js/crypto/kdf-worker.js";
import { KeysUnavailable, protocol, storedKeyBlob, wipeKeys } from "../../static/js/crypto/keys.js";
import { ApiError } from "../../static/js/lib/errors.js";
import { rememberWeakProtection } from "../../static/js/lib/protection-notice.js";
import { fakeServer, json } from "./support/fake-server.mjs";
import { ROOT_ID, TrustLog, rootOf, staffMember, trustRoutes, vaultRoutes } from "./support/trust.mjs";

const p = await protocol();
const OPS = 1;
const MEM = p.MIN_KDF_MEM; // the cheapest Argon2id the protocol accepts: these tests run it often
// New keys are never made under less than the standard cost (64 MiB, 3 passes).
const STANDARD = { ops: p.DEFAULT_KDF_OPS, mem: p.DEFAULT_KDF_MEM };
const ACCOUNT = "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const OTHER_ACCOUNT = "0b7e3f7a-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
const PASSWORD = "quiet-lantern-orchard-velvet";
const WRONG = "That name and password do not match. Check them and try again.";

/** The Worker's work, without the Worker. */
async function derive(password, salt, ops, mem) {
  const reply = await handleKdfRequest({ password, salt, ops, mem });
  if (reply.error) throw new KdfError();
  return { authKey: reply.authKey, wrapKey: reply.wrapKey };
}

/** An account as the server stores it: KDF parameters, auth key, bundles, keys. */
async function makeAccount(password = PASSWORD) {
  const salt = p.b64encode(p.randomBytes(16));
  const keys = await derive(password, salt, OPS, MEM);
  const [secretKey, publicKey] = p.generateIdentity();
  const recoveryKey = p.generateRecoveryKey();
  return {
    id: ACCOUNT,
    salt,
    authKey: keys.authKey,
    secretKey,
    publicKey,
    bundle: p.b64encode(p.wrapSecretKey(p.b64decode(keys.wrapKey), ACCOUNT, secretKey)),
    recoveryCode: p.encodeRecoveryCode(recoveryKey),
    recoveryAuth: p.b64encode(p.recoveryAuthKey(recoveryKey)),
    recoveryBundle: p.b64encode(p.wrapWithRecovery(recoveryKey, ACCOUNT, secretKey)),
    sessionKey: p.b64encode(p.randomBytes(32)),
  };
}

function signedIn(account, extra = {}) {
  return json({
    account_id: account.id,
    public_key: p.b64encode(account.publicKey),
    session_key: account.sessionKey,
    next: "/home",
    ...extra,
  });
}

function sessionRoute(account) {
  return () =>
    json({
      account_id: account.id,
      public_key: p.b64encode(account.publicKey),
      session_key: account.sessionKey,
    });
}

/** Everything the browser sent, as one string: addresses, headers and bodies. */
function sent(server) {
  return JSON.stringify(server.requests);
}

function isZero(bytes) {
  return bytes.every((byte) => byte === 0);
}

beforeEach(() => wipeKeys());

describe("client/accounts.js: signing in", () => {
  function signInServer(account, { bundle = account.bundle } = {}) {
    return fakeServer({
      "POST /api/sign-in/params": () => json({ salt: account.salt, ops: OPS, mem: MEM }),
      "POST /api/sign-in": ({ body }) =>
        body.auth_key === account.authKey
          ? signedIn(account, { bundle })
          : json({ error: WRONG }, { status: 401 }),
      "GET /api/session": sessionRoute(account),
    });
  }

  test("the right password opens the bundle and keeps the key for this tab", async () => {
    const account = await makeAccount();
    const server = signInServer(account);
    assert.deepEqual(await signIn("river", PASSWORD, { derive }), { next: "/home" });
    assert.deepEqual(server.requests[1].body, { sign_in_name: "river", auth_key: account.authKey });
    const keys = await loadSecretKey();
    assert.deepEqual([...keys.secretKey], [...account.secretKey]);
    assert.doesNotMatch(sent(server), new RegExp(PASSWORD));
  });

  test("a wrong password is the server's 401 sentence, and nothing is kept", async () => {
    const account = await makeAccount();
    signInServer(account);
    const refusal = await signIn("river", "not the password at all", { derive }).catch((e) => e);
    assert.ok(refusal instanceof ApiError);
    assert.equal(refusal.status, 401);
    assert.equal(refusal.message, WRONG);
    assert.throws(() => storedKeyBlob(), KeysUnavailable);
  });

  test("after too many attempts: 429 with the wait, and no key is derived", async () => {
    let derived = 0;
    const counting = (...args) => {
      derived += 1;
      return derive(...args);
    };
    fakeServer({
      "POST /api/sign-in/params": () =>
        json({ error: "Too many attempts.", retry_after: 900 }, { status: 429 }),
    });
    const refusal = await signIn("river", PASSWORD, { derive: counting }).catch((e) => e);
    assert.ok(refusal instanceof ApiError);
    assert.equal(refusal.status, 429);
    assert.equal(refusal.retryAfter, 900);
    assert.equal(derived, 0);
  });

  test("a bundle that does not open is KeysNotOpened, and nothing is kept", async () => {
    const account = await makeAccount();
    const someoneElse = await makeAccount("another-password-entirely");
    signInServer(account, { bundle: someoneElse.bundle });
    await assert.rejects(signIn("river", PASSWORD, { derive }), KeysNotOpened);
    assert.throws(() => storedKeyBlob(), KeysUnavailable);
  });

  test("a device that cannot run the KDF is KdfError; the auth key is never asked for", async () => {
    const account = await makeAccount();
    const server = signInServer(account);
    const failing = async () => {
      throw new KdfError();
    };
    await assert.rejects(signIn("river", PASSWORD, { derive: failing }), KdfError);
    assert.deepEqual(
      server.requests.map((r) => r.url),
      ["/api/sign-in/params"],
    );
  });
});

describe("client/accounts.js: signing in, for trust anchors", () => {
  /** The sign-in answer says `signingKey` (null: none registered); the server keeps a vault. */
  function trustServer(account, signingKey) {
    const vault = vaultRoutes({ accountId: account.id, secretKey: account.secretKey }, null);
    const root = staffMember(ROOT_ID, "service_manager");
    const server = fakeServer({
      "POST /api/sign-in/params": () => json({ salt: account.salt, ops: OPS, mem: MEM }),
      "POST /api/sign-in": () =>
        signedIn(account, { bundle: account.bundle, signing_public_key: signingKey }),
      "GET /api/session": sessionRoute(account),
      "POST /api/account/signing-key": ({ body }) => json(body),
      ...trustRoutes(new TrustLog(root)),
      ...vault.routes,
    });
    return { server, root, vault };
  }
  const registered = (server) =>
    server.requests.filter((r) => r.url === "/api/account/signing-key").map((r) => r.body);

  test("an account with no signing key registers the one derived from its identity key", async () => {
    const account = await makeAccount();
    const { server } = trustServer(account, null);
    await signIn("river", PASSWORD, { derive });
    const expected = p.b64encode(p.signingPublicKeyFromSecret(account.secretKey));
    assert.deepEqual(registered(server), [{ signing_public_key: expected }]);
  });

  test("an account with a signing key, or a server that knows none, registers nothing", async () => {
    const account = await makeAccount();
    const key = p.b64encode(p.signingPublicKeyFromSecret(account.secretKey));
    for (const signingKey of [key, undefined]) {
      const { server } = trustServer(account, signingKey);
      await signIn("river", PASSWORD, { derive });
      assert.deepEqual(registered(server), []);
    }
  });

  test("the root is pinned on first use at sign-in", async () => {
    const account = await makeAccount();
    const key = p.b64encode(p.signingPublicKeyFromSecret(account.secretKey));
    const { root, vault } = trustServer(account, key);
    assert.deepEqual(await signIn("river", PASSWORD, { derive }), { next: "/home" });
    assert.deepEqual(vault.data().pins.root, rootOf(root));
  });

  test("signing in goes on when the trust endpoints fail", async () => {
    const account = await makeAccount();
    fakeServer({
      "POST /api/sign-in/params": () => json({ salt: account.salt, ops: OPS, mem: MEM }),
      "POST /api/sign-in": () =>
        signedIn(account, { bundle: account.bundle, signing_public_key: null }),
      "GET /api/session": sessionRoute(account),
    });
    assert.deepEqual(await signIn("river", PASSWORD, { derive }), { next: "/home" });
    const keys = await loadSecretKey();
    assert.deepEqual([...keys.secretKey], [...account.secretKey]);
  });
});

describe("client/accounts.js: joining", () => {
  const kdf = { salt: p.b64encode(p.randomBytes(16)), ...STANDARD };

  function joinServer({ takenNames = [] } = {}) {
    const created = {};
    const server = fakeServer({
      "POST /api/join/start": () =>
        json({ account_id: ACCOUNT, role: "facilitator", role_label: "Facilitator", kdf }),
      "POST /api/join/complete": ({ body }) => {
        if (takenNames.includes(body.sign_in_name)) {
          return json(
            { error: "That sign-in name is already taken.", field: "sign_in_name" },
            { status: 409 },
          );
        }
        Object.assign(created, body, { sessionKey: p.b64encode(p.randomBytes(32)) });
        return signedIn({
          id: ACCOUNT,
          publicKey: p.b64decode(body.public_key),
          sessionKey: created.sessionKey,
        });
      },
    });
    return { server, created };
  }

  test("the keys are bound to the invitation's account id", async () => {
    joinServer();
    const invitation = await startJoin("ABCD-EFGH", { setup: true });
    assert.equal(invitation.accountId, ACCOUNT);
    assert.equal(invitation.roleLabel, "Facilitator");
    const { keys, recoveryCode } = await makeJoinKeys(invitation, PASSWORD, { derive });
    const { wrapKey, authKey } = await derive(PASSWORD, kdf.salt, kdf.ops, kdf.mem);
    assert.equal(keys.wire.auth_key, authKey);
    const bundle = p.b64decode(keys.wire.bundle);
    const opened = p.unwrapSecretKey(p.b64decode(wrapKey), ACCOUNT, bundle);
    assert.deepEqual([...opened], [...keys.secretKey]);
    assert.deepEqual([...p.publicKeyFromSecret(opened)], [...p.b64decode(keys.wire.public_key)]);
    assert.throws(() => p.unwrapSecretKey(p.b64decode(wrapKey), OTHER_ACCOUNT, bundle), p.ProtocolError);
    // The recovery code opens the same key, for the same account only.
    const recoveryKey = p.decodeRecoveryCode(recoveryCode);
    assert.equal(keys.wire.recovery_auth, p.b64encode(p.recoveryAuthKey(recoveryKey)));
    const recoveryBundle = p.b64decode(keys.wire.recovery_bundle);
    const recovered = p.unwrapWithRecovery(recoveryKey, ACCOUNT, recoveryBundle);
    assert.deepEqual([...recovered], [...keys.secretKey]);
    assert.throws(() => p.unwrapWithRecovery(recoveryKey, OTHER_ACCOUNT, recoveryBundle), p.ProtocolError);
  });

  test("a taken name keeps the keys for another try; then the key is kept for this tab", async () => {
    const { server, created } = joinServer({ takenNames: ["River"] });
    const invitation = await startJoin("ABCD-EFGH", { setup: true });
    const { keys, recoveryCode } = await makeJoinKeys(invitation, PASSWORD, { derive });
    const refusal = await completeJoin(invitation, "River", keys).catch((e) => e);
    assert.equal(refusal.field, "sign_in_name");
    assert.equal(isZero(keys.secretKey), false);

    const secretCopy = [...keys.secretKey];
    const done = await completeJoin(invitation, "River Stone", keys);
    assert.equal(done.next, "/home");
    const both = p.identityFingerprintDigits(keys.publicKey, keys.signingPublicKey);
    assert.equal(done.fingerprint, p.formatFingerprint(both));
    assert.ok(isZero(keys.secretKey)); // done with: forgotten here
    fakeServer({
      "GET /api/session": sessionRoute({
        id: ACCOUNT,
        publicKey: keys.publicKey,
        sessionKey: created.sessionKey,
      }),
    });
    assert.deepEqual([...(await loadSecretKey()).secretKey], secretCopy);
    assert.equal(created.code, "ABCD-EFGH");
    for (const secret of [PASSWORD, recoveryCode, recoveryCode.replaceAll("-", "")]) {
      assert.equal(sent(server).includes(secret), false);
    }
  });
});

describe("client/accounts.js: the recovery code", () => {
  function recoveryServer(account) {
    const saved = {};
    const server = fakeServer({
      "POST /api/recovery/start": ({ body }) =>
        body.recovery_auth === account.recoveryAuth
          ? json({
              account_id: account.id,
              recovery_bundle: account.recoveryBundle,
              kdf: STANDARD,
            })
          : json({ error: "That name and recovery code do not match." }, { status: 401 }),
      "POST /api/recovery/complete": ({ body }) => {
        Object.assign(saved, body);
        return signedIn(account);
      },
      "GET /api/session": sessionRoute(account),
    });
    return { server, saved };
  }

  test("a malformed code is refused before any request", async () => {
    const { server } = recoveryServer(await makeAccount());
    for (const typed of ["ABCD-EFGH", "not a code", "ÅBCD ".repeat(13)]) {
      await assert.rejects(startRecovery("river", typed), MalformedRecoveryCode);
    }
    assert.equal(server.requests.length, 0);
  });

  test("the code opens the key; new password and new code keep the same key", async () => {
    const account = await makeAccount();
    const { server, saved } = recoveryServer(account);
    const typed = account.recoveryCode.toLowerCase().replaceAll("-", " ");
    const recovery = await startRecovery("river", typed);
    assert.deepEqual([...recovery.secretKey], [...account.secretKey]);
    assert.equal(recovery.recoveryAuth, account.recoveryAuth);

    const newPassword = "amber-meadow-signal-harbour";
    const { wire, recoveryCode } = await makeRecoveryKeys(recovery, newPassword, { derive });
    assert.notEqual(wire.salt, account.salt);
    const { wrapKey } = await derive(newPassword, wire.salt, wire.ops, wire.mem);
    const reopened = p.unwrapSecretKey(p.b64decode(wrapKey), ACCOUNT, p.b64decode(wire.bundle));
    assert.deepEqual([...reopened], [...account.secretKey]);
    const newRecoveryKey = p.decodeRecoveryCode(recoveryCode);
    const bundle = p.b64decode(wire.new_recovery_bundle);
    assert.deepEqual([...p.unwrapWithRecovery(newRecoveryKey, ACCOUNT, bundle)], [...account.secretKey]);

    assert.deepEqual(await completeRecovery(recovery, wire), { next: "/home" });
    assert.equal(saved.recovery_auth, account.recoveryAuth);
    assert.ok(isZero(recovery.secretKey));
    assert.deepEqual([...(await loadSecretKey()).secretKey], [...account.secretKey]);
    for (const secret of [newPassword, account.recoveryCode, recoveryCode, typed]) {
      assert.equal(sent(server).includes(secret), false);
    }
  });

  test("a recovery bundle that does not open with the code says so", async () => {
    const account = await makeAccount();
    const someoneElse = await makeAccount();
    recoveryServer({ ...account, recoveryBundle: someoneElse.recoveryBundle });
    const refusal = await startRecovery("river", account.recoveryCode).catch((e) => e);
    assert.ok(refusal instanceof KeysNotOpened);
    assert.equal(refusal.message, KEYS_NOT_OPENED_WITH_CODE);
  });
});

describe("client/accounts.js: changing the password", () => {
  const NEW_PASSWORD = "copper-kettle-winter-garden";
  const NEW_MEM = STANDARD.mem + 1024 * 1024;

  function passwordServer(account) {
    const server = fakeServer({
      "GET /api/account/kdf": () =>
        json({
          account_id: account.id,
          bundle: account.bundle,
          salt: account.salt,
          ops: OPS,
          mem: MEM,
          new_ops: STANDARD.ops,
          new_mem: NEW_MEM,
        }),
      "POST /api/account/password": ({ body }) =>
        body.current_auth_key === account.authKey
          ? json({ next: "/account?changed=password" })
          : json({ error: "Your current password is not right." }, { status: 401 }),
      "GET /api/session": sessionRoute(account),
    });
    return server;
  }

  test("only derived keys are sent, and the same key is wrapped under the new password", async () => {
    const account = await makeAccount();
    const server = passwordServer(account);
    const done = await changePassword(PASSWORD, NEW_PASSWORD, { derive });
    assert.deepEqual(done, { next: "/account?changed=password" });
    for (const request of server.requests) {
      const body = JSON.stringify(request.body ?? "");
      assert.equal(body.includes(PASSWORD), false);
      assert.equal(body.includes(NEW_PASSWORD), false);
    }
    const [change] = server.requests.filter((r) => r.url === "/api/account/password");
    assert.deepEqual(Object.keys(change.body).sort(), [
      "auth_key",
      "bundle",
      "current_auth_key",
      "mem",
      "ops",
      "salt",
    ]);
    assert.equal(change.body.current_auth_key, account.authKey);
    assert.notEqual(change.body.salt, account.salt);
    assert.equal(change.body.mem, NEW_MEM); // the service's cost for new passwords
    const fresh = await derive(NEW_PASSWORD, change.body.salt, STANDARD.ops, NEW_MEM);
    assert.equal(change.body.auth_key, fresh.authKey);
    const bundle = p.b64decode(change.body.bundle);
    const opened = p.unwrapSecretKey(p.b64decode(fresh.wrapKey), ACCOUNT, bundle);
    assert.deepEqual([...opened], [...account.secretKey]);
    // This tab keeps the key (a tab that had none now has it).
    assert.deepEqual([...(await loadSecretKey()).secretKey], [...account.secretKey]);
  });

  test("a wrong current password is named at its field and nothing is changed", async () => {
    const account = await makeAccount();
    const server = passwordServer(account);
    const refusal = await changePassword("not my password", NEW_PASSWORD, { derive }).catch((e) => e);
    assert.ok(refusal instanceof ApiError);
    assert.equal(refusal.field, "current_password");
    assert.deepEqual(
      server.requests.map((r) => r.url),
      ["/api/account/kdf"],
    );
  });
});

describe("client/accounts.js: the cost of protecting a password", () => {
  test("no keys are made under less than the standard cost, and nothing is sent", async () => {
    const cheap = { salt: p.b64encode(p.randomBytes(16)), ops: OPS, mem: MEM };
    const server = fakeServer({
      "POST /api/join/start": () =>
        json({ account_id: ACCOUNT, role: "participant", role_label: "Participant", kdf: cheap }),
    });
    const invitation = await startJoin("ABCD-EFGH", { setup: true });
    await assert.rejects(makeJoinKeys(invitation, PASSWORD, { derive }), WeakProtection);
    const weakerPasses = { ...cheap, ops: STANDARD.ops - 1, mem: STANDARD.mem };
    await assert.rejects(
      makeJoinKeys({ ...invitation, kdf: weakerPasses }, PASSWORD, { derive }),
      WeakProtection,
    );
    assert.deepEqual(
      server.requests.map((r) => r.url),
      ["/api/join/start"],
    );
  });

  test("a new password is refused under a cheap cost before anything is sent", async () => {
    const account = await makeAccount();
    const server = fakeServer({
      "GET /api/account/kdf": () =>
        json({
          account_id: account.id,
          bundle: account.bundle,
          salt: account.salt,
          ops: OPS,
          mem: MEM,
          new_ops: OPS,
          new_mem: MEM,
        }),
    });
    await assert.rejects(changePassword(PASSWORD, "a-new-long-password", { derive }), WeakProtection);
    assert.deepEqual(
      server.requests.map((r) => r.url),
      ["/api/account/kdf"],
    );
  });

  test("an account made under a cheap cost signs in, and the tab remembers to say so", async () => {
    const account = await makeAccount();
    fakeServer({
      "POST /api/sign-in/params": () => json({ salt: account.salt, ops: OPS, mem: MEM }),
      "POST /api/sign-in": () => signedIn(account, { bundle: account.bundle }),
    });
    await signIn("river", PASSWORD, { derive });
    assert.equal(sessionStorage.getItem("portal.weak-protection"), "1");
    rememberWeakProtection(false);
    assert.equal(sessionStorage.getItem("portal.weak-protection"), null);
    assert.equal(meetsStandardCost(p, STANDARD), true);
    assert.equal(meetsStandardCost(p, { ops: STANDARD.ops, mem: STANDARD.mem - 1024 }), false);
  });
});
