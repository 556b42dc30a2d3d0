// client/second-factor.js against a stand-in for the JSON API and a stand-in for
// navigator.credentials (the real ceremony runs in Chromium: tests/browser/test_second_factor.py).
import "./support/dom.mjs";

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  PasskeyNotUsed,
  PasskeysUnsupported,
  addPasskey,
  creationOptions,
  credentialJSON,
  fromBase64url,
  passWithCode,
  passWithPasskey,
  requestOptions,
  toBase64url,
} from "../../static/js/client/second-factor.js";
import { ApiError } from "../../static/js/lib/errors.js";
import { fakeServer, json } from "./support/fake-server.mjs";

const bytes = (...values) => new Uint8Array(values);

function assertion() {
  return {
    id: "AQID",
    rawId: bytes(1, 2, 3).buffer,
    type: "public-key",
    response: {
      clientDataJSON: bytes(123, 125).buffer,
      authenticatorData: bytes(9, 9).buffer,
      signature: bytes(7).buffer,
      userHandle: null,
    },
    getClientExtensionResults: () => ({}),
  };
}

function platform(credential) {
  const calls = [];
  globalThis.PublicKeyCredential ??= class {};
  return {
    calls,
    credentials: {
      get: async (options) => (calls.push(["get", options]), credential),
      create: async (options) => (calls.push(["create", options]), credential),
    },
  };
}

describe("base64url", () => {
  test("round-trips bytes without padding", () => {
    const data = bytes(0, 250, 251, 252, 253, 254, 255);
    const text = toBase64url(data);
    assert.doesNotMatch(text, /[+/=]/);
    assert.deepEqual(fromBase64url(text), data);
  });
});

describe("options", () => {
  test("binary fields of the server's JSON become bytes", () => {
    const created = creationOptions({
      challenge: "AQID",
      user: { id: "BAUG", name: "sam" },
      excludeCredentials: [{ id: "BwgJ", type: "public-key" }],
    });
    assert.deepEqual(created.challenge, bytes(1, 2, 3));
    assert.deepEqual(created.user.id, bytes(4, 5, 6));
    assert.deepEqual(created.excludeCredentials[0].id, bytes(7, 8, 9));
    const requested = requestOptions({ challenge: "AQID", allowCredentials: [] });
    assert.deepEqual(requested.allowCredentials, []);
  });

  test("an assertion becomes the JSON the server reads", () => {
    const sent = credentialJSON(assertion());
    assert.equal(sent.rawId, "AQID");
    assert.equal(sent.response.signature, "Bw");
    assert.equal(sent.response.userHandle, undefined);
  });
});

describe("passing the step", () => {
  test("a code goes to the server, and next comes back", async () => {
    const server = fakeServer({
      "POST /api/sign-in/second-factor": () => json({ next: "/home" }),
    });
    assert.deepEqual(await passWithCode("123456"), { next: "/home" });
    assert.deepEqual(server.requests[0].body, { code: "123456" });
  });

  test("a wrong code is the server's sentence", async () => {
    fakeServer({
      "POST /api/sign-in/second-factor": () =>
        json({ error: "That code did not work. Check it and try again." }, { status: 401 }),
    });
    await assert.rejects(passWithCode("000000"), (error) => {
      assert.ok(error instanceof ApiError);
      assert.equal(error.status, 401);
      return true;
    });
  });

  test("a passkey answers the server's challenge", async () => {
    const server = fakeServer({
      "POST /api/sign-in/second-factor/passkey-options": () =>
        json({ options: { challenge: "AQID", allowCredentials: [{ id: "AQID", type: "public-key" }] } }),
      "POST /api/sign-in/second-factor/passkey": () => json({ next: "/home" }),
    });
    const device = platform(assertion());
    assert.deepEqual(await passWithPasskey({ platform: device }), { next: "/home" });
    assert.deepEqual(device.calls[0][1].publicKey.challenge, bytes(1, 2, 3));
    assert.equal(server.requests[1].body.credential.rawId, "AQID");
  });

  test("a passkey step the person stopped says so", async () => {
    fakeServer({
      "POST /api/sign-in/second-factor/passkey-options": () =>
        json({ options: { challenge: "AQID" } }),
    });
    const device = platform(null);
    device.credentials.get = async () => {
      throw new DOMException("stopped", "NotAllowedError");
    };
    await assert.rejects(passWithPasskey({ platform: device }), PasskeyNotUsed);
  });

  test("a browser without passkeys is told before anything is sent", async () => {
    const server = fakeServer({});
    await assert.rejects(addPasskey({ platform: {} }), PasskeysUnsupported);
    assert.equal(server.requests.length, 0);
  });
});
