// lib/protection-notice.js: the notice that a password is protected less than the standard.
import { page } from "./support/dom.mjs";

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  rememberWeakProtection,
  showProtectionNotice,
} from "../../static/js/lib/protection-notice.js";

test("the notice shows once, at the top of the main content, while remembered", () => {
  page('<main id="main"><h1>Home</h1></main>');
  showProtectionNotice();
  assert.equal(document.querySelector("[data-protection-notice]"), null);
  rememberWeakProtection(true);
  showProtectionNotice();
  showProtectionNotice();
  const notices = document.querySelectorAll("[data-protection-notice]");
  assert.equal(notices.length, 1);
  assert.equal(document.getElementById("main").firstElementChild, notices[0]);
  assert.equal(notices[0].getAttribute("role"), "status");
  assert.equal(notices[0].querySelector("a").getAttribute("href"), "/account/password");
  rememberWeakProtection(false);
  page('<main id="main"></main>');
  showProtectionNotice();
  assert.equal(document.querySelector("[data-protection-notice]"), null);
});
