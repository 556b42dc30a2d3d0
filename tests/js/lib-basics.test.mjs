// lib/errors.js, lib/http.js, lib/dates.js, lib/text.js and lib/ids.js.
import "./support/dom.mjs";

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  formatDate,
  formatDateTime,
  formatDayTime,
  formatSeconds,
} from "../../static/js/lib/dates.js";
import {
  ApiError,
  GENERIC_MESSAGE,
  NETWORK_MESSAGE,
  ShowableError,
  sentenceFor,
} from "../../static/js/lib/errors.js";
import { getJSON, postJSON, putJSON, safeNext, setCsrfToken } from "../../static/js/lib/http.js";
import { newId } from "../../static/js/lib/ids.js";
import { countCharacters, formatNumber } from "../../static/js/lib/text.js";
import { fakeServer, json } from "./support/fake-server.mjs";

describe("lib/errors.js sentenceFor", () => {
  test("a showable error's own sentence", () => {
    assert.equal(sentenceFor(new ShowableError("Please try later.")), "Please try later.");
    assert.equal(sentenceFor(new ApiError("The code has expired.", { status: 410 })), "The code has expired.");
  });

  test("anything else gets the general sentence, never its own text", () => {
    assert.equal(sentenceFor(new TypeError("x is undefined")), GENERIC_MESSAGE);
    assert.equal(sentenceFor("a string"), GENERIC_MESSAGE);
    assert.equal(sentenceFor(null), GENERIC_MESSAGE);
  });

  test("a page may name a better general sentence for what it was doing", () => {
    assert.equal(sentenceFor(new TypeError("x"), "Your password was not changed."), "Your password was not changed.");
    assert.equal(sentenceFor(new ShowableError("Wait."), "Your password was not changed."), "Wait.");
  });
});

describe("lib/http.js", () => {
  test("sends JSON with the CSRF token and returns the answer", async () => {
    document.head.innerHTML = '<meta name="csrf-token" content="tok-123">';
    const server = fakeServer({ "POST /api/thing": ({ body }) => json({ got: body.a }) });
    assert.deepEqual(await postJSON("/api/thing", { a: 1 }), { got: 1 });
    const [sent] = server.requests;
    assert.equal(sent.headers["X-CSRF-Token"], "tok-123");
    assert.equal(sent.headers["Content-Type"], "application/json");
  });

  test("a new session's token is used from then on; an answer without one changes nothing", async () => {
    document.head.innerHTML = '<meta name="csrf-token" content="signed-out">';
    const server = fakeServer({ "PUT /api/vault": () => json({ ok: true }) });
    setCsrfToken(undefined);
    setCsrfToken("session-token");
    setCsrfToken("");
    await putJSON("/api/vault", { blob: "x" });
    assert.equal(server.requests[0].headers["X-CSRF-Token"], "session-token");
  });

  test("a refusal becomes an ApiError with the server's sentence, field and wait", async () => {
    fakeServer({
      "POST /api/sign-in": () =>
        json({ error: "Please wait.", field: "sign_in_name", retry_after: 30 }, { status: 429 }),
    });
    await assert.rejects(postJSON("/api/sign-in", {}), (error) => {
      assert.ok(error instanceof ApiError);
      assert.equal(error.message, "Please wait.");
      assert.equal(error.status, 429);
      assert.equal(error.field, "sign_in_name");
      assert.equal(error.retryAfter, 30);
      return true;
    });
  });

  test("a refusal without a sentence gets ours; 413 says it was too large", async () => {
    fakeServer({
      "GET /api/a": () => new Response("oops", { status: 500 }),
      "GET /api/b": () => new Response("", { status: 413 }),
    });
    await assert.rejects(getJSON("/api/a"), { message: GENERIC_MESSAGE, status: 500 });
    await assert.rejects(getJSON("/api/b"), { message: "That was too large to send. Nothing was saved." });
  });

  test("an unreachable portal is a network sentence, status 0", async () => {
    globalThis.fetch = async () => {
      throw new TypeError("Failed to fetch");
    };
    await assert.rejects(getJSON("/api/a"), { message: NETWORK_MESSAGE, status: 0 });
  });

  test("every answered request tells the idle warning, unless asked not to", async () => {
    fakeServer({ "GET /api/a": () => json({ idle_remaining: 99 }) });
    const seen = [];
    const listener = (event) => seen.push(event.detail.idleRemaining);
    document.addEventListener("portal:server-contact", listener);
    await getJSON("/api/a");
    await getJSON("/api/a", { extendsSession: false });
    document.removeEventListener("portal:server-contact", listener);
    assert.deepEqual(seen, [99]);
  });

  test("safeNext keeps only paths on this site", () => {
    assert.equal(safeNext("/queue?x=1"), "/queue?x=1");
    assert.equal(safeNext("//evil.example/"), "/home");
    assert.equal(safeNext("/\\evil.example"), "/home");
    assert.equal(safeNext("https://evil.example/"), "/home");
    assert.equal(safeNext(undefined, "/account"), "/account");
  });
});

describe("lib/dates.js", () => {
  test("dates in words, empty for nothing or nonsense", () => {
    assert.equal(formatDate("2025-03-03T14:05:00Z"), "3 March 2025");
    assert.match(formatDateTime("2025-03-03T14:05:00Z"), /^3 March 2025(,| at) 14:05$/);
    assert.match(formatDayTime(new Date("2025-03-03T14:05:00Z")), /^3 March(,| at) 14:05$/);
    assert.equal(formatDate(""), "");
    assert.equal(formatDate(null), "");
    assert.equal(formatDateTime("not a date"), "");
  });

  test("how long, in minutes and seconds", () => {
    assert.equal(formatSeconds(125), "2 minutes 5 seconds");
    assert.equal(formatSeconds(60), "1 minute");
    assert.equal(formatSeconds(1), "1 second");
    assert.equal(formatSeconds(0), "0 seconds");
  });
});

describe("lib/text.js and lib/ids.js", () => {
  test("characters are counted as people count them", () => {
    assert.equal(countCharacters("abc"), 3);
    assert.equal(countCharacters("a😀b"), 3);
    assert.equal(countCharacters(""), 0);
    assert.equal(formatNumber(12345), "12,345");
  });

  test("new ids are canonical version 4 UUIDs, all different", () => {
    const ids = new Set(Array.from({ length: 50 }, newId));
    assert.equal(ids.size, 50);
    for (const id of ids) {
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });
});
