// Counting what people write, the way they count it.

/** The longest letter, in characters (the server's limit is on ciphertext bytes). */
export const LETTER_LIMIT = 50000;

const numbers = new Intl.NumberFormat("en-GB");

/** 12,345 */
export function formatNumber(n) {
  return numbers.format(n);
}

/** Characters as people count them (code points), not UTF-16 units: an emoji counts once. */
export function countCharacters(text) {
  let count = 0;
  for (let i = 0; i < text.length; i += 1) {
    const unit = text.charCodeAt(i);
    // A high surrogate followed by a low one is one character.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i += 1;
    }
    count += 1;
  }
  return count;
}
