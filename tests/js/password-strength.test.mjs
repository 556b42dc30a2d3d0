// The strength meter's estimate and the passphrase suggester (static/js/lib/password-strength.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  MIN_LENGTH,
  estimateStrength,
  newPasswordProblem,
  suggestPassphrase,
} from "../../static/js/lib/password-strength.js";
import { WORDLIST } from "../../static/js/lib/wordlist.js";

test("common passwords are weak however long", () => {
  for (const password of ["password123", "qwertyuiop1", "1234567890", "iloveyou2023"]) {
    const strength = estimateStrength(password);
    assert.equal(strength.acceptable, false, password);
  }
});

test("short passwords are too short", () => {
  const strength = estimateStrength("Xk#9q!");
  assert.equal(strength.label, "Too short");
  assert.equal(newPasswordProblem("Xk#9q!", "Xk#9q!").which, "password");
  assert.ok(MIN_LENGTH >= 10);
});

test("a suggested passphrase is accepted and strong", () => {
  const phrase = suggestPassphrase();
  const words = phrase.split("-");
  assert.equal(words.length, 5);
  for (const word of words) assert.ok(WORDLIST.includes(word), word);
  assert.equal(newPasswordProblem(phrase, phrase), null);
  assert.ok(estimateStrength(phrase).level >= 3);
});

test("the sign-in name inside the password makes it cheaper", () => {
  const plain = estimateStrength("riverstone-harbour");
  const withName = estimateStrength("riverstone-harbour", ["riverstone"]);
  assert.ok(withName.bits < plain.bits);
});

test("mismatched confirmation is named", () => {
  const phrase = suggestPassphrase();
  assert.equal(newPasswordProblem(phrase, `${phrase}x`).which, "confirm");
  assert.equal(newPasswordProblem(phrase, "").which, "confirm");
});

test("the word list is large, unique and plain", () => {
  assert.ok(WORDLIST.length >= 1024);
  assert.equal(new Set(WORDLIST).size, WORDLIST.length);
  for (const word of WORDLIST) assert.match(word, /^[a-z]{3,10}$/);
  assert.ok(Object.isFrozen(WORDLIST));
});

test("suggestions are spread over the list (no modulo bias in practice)", () => {
  const seen = new Set();
  for (let i = 0; i < 400; i += 1) for (const w of suggestPassphrase().split("-")) seen.add(w);
  assert.ok(seen.size > 700, `only ${seen.size} distinct words in 2000 draws`);
});
