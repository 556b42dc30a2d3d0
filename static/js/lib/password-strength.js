// Password strength meter and passphrase suggester, with no external library.
//
// The estimate is a small cousin of zxcvbn: it finds the cheapest way an attacker could build
// the password from pieces (a common password or word, a keyboard or alphabet run, a repeated
// character, a year, a run of digits, a repeat of an earlier piece, or single characters guessed
// one by one) and adds up the guessing cost of the pieces in bits. It errs on the side of
// calling a password weaker than it is. Nothing is sent anywhere and nothing is logged.
//
// The minimum to continue: at least MIN_LENGTH characters and at least "Fair". Argon2id makes
// each guess slow, so a "Fair" password (about 2^35 guesses) is out of reach of an online
// attacker and expensive for someone who stole the server's database.

import { WORDLIST } from "./wordlist.js";

export const MIN_LENGTH = 10;
export const LEVELS = Object.freeze(["Too short", "Weak", "Fair", "Good", "Strong"]);
const FAIR = 2;
const THRESHOLDS = [35, 45, 60]; // bits for Fair, Good, Strong

// The most common passwords and password words, roughly most common first (the position is the
// rank: the earlier, the cheaper to guess). Also the portal's own words.
const COMMON = `123456 password 123456789 12345678 12345 qwerty 1234567 111111 1234567890 123123
abc123 1234 password1 iloveyou 1q2w3e4r 000000 qwerty123 zaq12wsx dragon sunshine princess
letmein 654321 monkey 27653 1qaz2wsx 123321 qwertyuiop superman asdfghjkl football baseball
welcome master shadow michael jordan 121212 666666 696969 123qwe qazwsx 987654321 112233
123654 159753 147258369 11111111 00000000 7777777 888888 555555 passw0rd p@ssw0rd p@ssword
password12 password123 welcome1 admin admin123 administrator root login guest test default
changeme secret access letmein1 trustno1 whatever nothing love lovely loveme iloveu iloveyou1
lover hello hello123 hi hey freedom money jesus christ god angel angels blessed faith hope
peace grace heaven forever family friend friends friendship mother mom mum mommy father dad
daddy baby babygirl babyboy princess1 prince queen king sweet sweety sweetie honey sugar
cookie cookies chocolate candy cupcake cheese pepper peanut butter banana apple orange cherry
strawberry summer winter spring autumn sunny sunshine1 rainbow flower flowers rose daisy lily
butterfly dolphin tiger lion bear wolf eagle dragon1 monkey1 puppy kitty kitten doggy dog cat
horse pony bunny tigger pokemon pikachu naruto batman spiderman superman1 starwars matrix
hunter ranger soccer hockey basketball golf tennis football1 baseball1 liverpool chelsea
arsenal manchester united barcelona yankees cowboys lakers dallas jordan23 michael1 jennifer
jessica ashley amanda daniel david james robert john joseph andrew ryan brandon jason justin
sarah william taylor thomas charlie george oliver harry jack emily emma olivia sophie chloe
lucy mary linda susan karen lisa nancy maria anna laura hannah rachel nicole michelle melissa
samantha elizabeth jasmine madison lauren matthew anthony joshua christopher nicholas tyler
austin alexander benjamin samuel jacob ethan ginger maggie buster bailey charlie1 shadow1
computer internet google facebook samsung iphone apple123 windows qwer1234 1234qwer q1w2e3r4
1q2w3e zxcvbnm zxcvbn asdfgh asdf qwert abcd1234 abcdef abcdefg aaaaaa aaa111 a1b2c3
iloveyou2 loveyou mylove myself secret1 please thankyou welcome123 hello1 whatever1 blink182
corvette mustang ferrari porsche mercedes harley jaguar midnight diamond silver golden
purple yellow green blue black white red pink star stars moon happy smile lucky magic
january february march april may june july august september october november december
monday tuesday wednesday thursday friday saturday sunday weekend holiday birthday
london paris england america canada australia scotland ireland wales india
portal restorative justice facilitator participant supporter message messages secure
security account signin sign password2 newpassword mypassword passport letmein2`
  .split(/\s+/)
  .filter(Boolean);

// Keyboard rows and counting, forwards; runs backwards are checked by reversing.
const RUNS = ["qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890", "abcdefghijklmnopqrstuvwxyz"];
const LEET = { 4: "a", "@": "a", 8: "b", 3: "e", 6: "g", 1: "i", "!": "i", 0: "o", 5: "s", $: "s", 7: "t", "+": "t", 2: "z" };

const dictionary = buildDictionary();
const MAX_WORD = 16;

function buildDictionary() {
  const costs = new Map();
  const wordlistBits = Math.log2(WORDLIST.length);
  for (const word of WORDLIST) costs.set(word, wordlistBits);
  COMMON.forEach((word, rank) => {
    const bits = Math.log2(rank + 2);
    if (!costs.has(word) || costs.get(word) > bits) costs.set(word, bits);
  });
  return costs;
}

function poolSize(chars) {
  let pool = 0;
  if (chars.some((c) => /[a-z]/.test(c))) pool += 26;
  if (chars.some((c) => /[A-Z]/.test(c))) pool += 26;
  if (chars.some((c) => /[0-9]/.test(c))) pool += 10;
  if (chars.some((c) => /[ -/:-@[-`{-~]/.test(c))) pool += 33;
  if (chars.some((c) => /[^\x20-\x7e]/.test(c))) pool += 100;
  return Math.max(pool, 10);
}

function unleet(text, one) {
  return Array.from(text, (c) => (c === "1" ? one : LEET[c] || c)).join("");
}

/** Bits to guess `piece` as a dictionary word, or null if it is not one. */
function wordCost(piece, extra) {
  const lower = piece.toLowerCase();
  let bits = null;
  for (const candidate of [lower, unleet(lower, "i"), unleet(lower, "l")]) {
    let cost = extra.has(candidate) ? 1 : dictionary.get(candidate);
    if (cost === undefined) continue;
    if (candidate !== lower) cost += 1; // which letters were swapped for look-alikes
    if (bits === null || cost < bits) bits = cost;
  }
  if (bits === null) return null;
  if (piece !== lower) {
    // First letter or all capitals: one more guess each; other mixtures cost more.
    const simple = piece === piece.toUpperCase() || piece.slice(1) === lower.slice(1);
    bits += simple ? 1 : 3;
  }
  return bits;
}

function isRunPiece(piece) {
  const lower = piece.toLowerCase();
  return RUNS.some((run) => run.includes(lower) || [...run].reverse().join("").includes(lower));
}

/** {bits, level (0-4), label, acceptable} for a password; `userWords` are cheap (the name). */
export function estimateStrength(password, userWords = []) {
  const chars = Array.from(password).slice(0, 100);
  const n = chars.length;
  const extra = new Set(
    userWords
      .flatMap((word) => String(word).toLowerCase().split(/[^\p{L}\p{N}]+/u))
      .filter((word) => word.length >= 3),
  );
  const charBits = Math.log2(poolSize(chars));
  const best = new Array(n + 1).fill(Infinity);
  best[0] = 0;
  const relax = (end, bits) => {
    if (bits < best[end]) best[end] = bits;
  };

  for (let i = 0; i < n; i += 1) {
    const base = best[i];
    relax(i + 1, base + charBits);
    const before = chars.slice(0, i).join("").toLowerCase();
    for (let len = 2; len <= Math.min(MAX_WORD, n - i); len += 1) {
      const pieceChars = chars.slice(i, i + len);
      const piece = pieceChars.join("");
      if (len >= 3) {
        const word = wordCost(piece, extra);
        if (word !== null) relax(i + len, base + word);
        if (isRunPiece(piece)) relax(i + len, base + 6 + Math.log2(len));
        if (before.includes(piece.toLowerCase())) relax(i + len, base + Math.log2(i + 1) + 1);
      }
      if (pieceChars.every((c) => c === pieceChars[0])) {
        relax(i + len, base + charBits + Math.log2(len));
      }
      if (/^[0-9]+$/.test(piece)) {
        relax(i + len, base + len * Math.log2(10) + 1);
        if (len === 4 && /^(19|20)/.test(piece)) relax(i + len, base + Math.log2(150));
      }
    }
  }

  const bits = best[n];
  let level = 0;
  if (n >= MIN_LENGTH) {
    level = 1 + THRESHOLDS.filter((threshold) => bits >= threshold).length;
  }
  return { bits, level, label: LEVELS[level], acceptable: level >= FAIR };
}

/** What is wrong with a new password and its repetition: null, or {which, message}. */
export function newPasswordProblem(password, confirm, userWords = []) {
  if (!password) {
    return { which: "password", message: "Choose a password." };
  }
  if (Array.from(password).length < MIN_LENGTH) {
    return { which: "password", message: `Your password needs at least ${MIN_LENGTH} characters.` };
  }
  if (!estimateStrength(password, userWords).acceptable) {
    return {
      which: "password",
      message:
        "This password would be easy to guess. Add more words or characters, or use a suggested passphrase.",
    };
  }
  if (!confirm) {
    return { which: "confirm", message: "Type your password again." };
  }
  if (password !== confirm) {
    return {
      which: "confirm",
      message: "The two passwords are not the same. Type the same password in both boxes.",
    };
  }
  return null;
}

const ADVICE = [
  `Use at least ${MIN_LENGTH} characters.`,
  "Easy to guess. Add more words or characters.",
  "Good enough to continue. A few more words make it stronger.",
  "Hard to guess.",
  "Very hard to guess.",
];

/**
 * Fill `holder` (an empty element whose id is in the input's aria-describedby) with a bar and a
 * text label. The bar is decoration (aria-hidden); the words say the same thing, so the meter
 * never relies on colour or length alone. Only a change of level is announced, not every key.
 */
export function attachStrengthMeter(input, holder, { userWords = () => [] } = {}) {
  const bar = document.createElement("div");
  bar.className = "strength-bar";
  bar.setAttribute("aria-hidden", "true");
  for (let i = 0; i < 4; i += 1) bar.append(document.createElement("span"));
  const text = document.createElement("p");
  text.className = "strength-text";
  text.setAttribute("aria-live", "polite");
  holder.replaceChildren(bar, text);

  let shown = null;
  const update = () => {
    const level = input.value ? estimateStrength(input.value, userWords()).level : 0;
    if (level === shown) return;
    shown = level;
    bar.dataset.level = String(level);
    const label = document.createElement("strong");
    label.textContent = LEVELS[level];
    text.replaceChildren("Password strength: ", label, `. ${ADVICE[level]}`);
  };
  input.addEventListener("input", update);
  update();
  return { update };
}

/** A uniformly random index below n: rejection sampling, so no index is more likely. */
function randomIndex(n) {
  const limit = Math.floor(2 ** 32 / n) * n;
  const value = new Uint32Array(1);
  do {
    crypto.getRandomValues(value);
  } while (value[0] >= limit);
  return value[0] % n;
}

export function suggestPassphrase(count = 5) {
  const words = [];
  for (let i = 0; i < count; i += 1) words.push(WORDLIST[randomIndex(WORDLIST.length)]);
  return words.join("-");
}

/**
 * Fill `holder` with a "Suggest a passphrase" button and a place to show the words. Pressing it
 * types the passphrase into every input in `inputs` and shows it as text so it can be written
 * down. Returns {clear()} to remove the shown words once they are no longer needed.
 */
export function attachPassphraseSuggester(holder, inputs) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "button secondary";
  button.textContent = "Suggest a passphrase";
  const shown = document.createElement("div");
  shown.className = "suggestion";
  shown.setAttribute("aria-live", "polite");
  holder.replaceChildren(button, shown);

  const clear = () => shown.replaceChildren();
  button.addEventListener("click", () => {
    const phrase = suggestPassphrase();
    for (const input of inputs) {
      input.value = phrase;
      input.removeAttribute("aria-invalid");
      const error = document.getElementById(`${input.id}-error`);
      if (error) error.textContent = "";
      // Let the meter (and anything else listening) see the new value.
      input.dispatchEvent(new Event("input", { bubbles: true }));
    }
    const intro = document.createElement("p");
    intro.textContent = "Your suggested passphrase is:";
    const words = document.createElement("p");
    words.className = "suggestion-words";
    words.textContent = phrase;
    const note = document.createElement("p");
    note.textContent =
      "It is now in both password boxes. Write it down and keep it somewhere private, or make " +
      "sure you will remember it. You can press the button again for different words.";
    shown.replaceChildren(intro, words, note);
  });
  return { clear };
}
