/**
 * Share codes: `XXXX-XXXX-XXXX`, 12 Crockford base32 symbols carrying 60 random bits.
 * Mirrors client/cipherslip_crypto/sharecode.py: forgiving input (case-insensitive, O→0, I/L→1, hyphens
 * and spaces ignored), canonical upper-case grouped output.
 */

import { InvalidShareCodeError } from "./errors.js";

export const SHARE_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
export const SHARE_CODE_SYMBOLS = 12;
const SHARE_CODE_BITS = 5n * BigInt(SHARE_CODE_SYMBOLS);
const ALIASES = new Map([["O", "0"], ["I", "1"], ["L", "1"]]);

/** @param {string} compact 12 symbols @returns {string} */
function group(compact) {
  const groups = [];
  for (let i = 0; i < compact.length; i += 4) groups.push(compact.slice(i, i + 4));
  return groups.join("-");
}

/**
 * @param {bigint} bits 0 <= bits < 2^60
 * @returns {string} canonical `XXXX-XXXX-XXXX`
 */
export function shareCodeFromBits(bits) {
  if (typeof bits !== "bigint" || bits < 0n || bits >= 1n << SHARE_CODE_BITS) {
    throw new RangeError("a share code carries exactly 60 bits (a bigint)");
  }
  let compact = "";
  for (let i = SHARE_CODE_SYMBOLS - 1; i >= 0; i--) {
    compact += SHARE_CODE_ALPHABET[Number((bits >> (5n * BigInt(i))) & 31n)];
  }
  return group(compact);
}

/**
 * A fresh random share code (the server assigns the real ones; this serves tests and tools).
 * @returns {string}
 */
export function generateShareCode() {
  const random = globalThis.crypto.getRandomValues(new Uint8Array(8));
  let bits = 0n;
  for (const byte of random) bits = (bits << 8n) | BigInt(byte);
  return shareCodeFromBits(bits >> 4n);
}

/**
 * Canonical form of user input, or InvalidShareCodeError naming the problem.
 * @param {string} text
 * @returns {string}
 */
export function normalizeShareCode(text) {
  // Code points, not UTF-16 units, so lengths and messages match Python's.
  const symbols = [...String(text).toUpperCase()]
    .filter((symbol) => symbol !== "-" && symbol !== " ")
    .map((symbol) => ALIASES.get(symbol) ?? symbol);
  if (symbols.length !== SHARE_CODE_SYMBOLS) {
    throw new InvalidShareCodeError(
      `a share code has ${SHARE_CODE_SYMBOLS} symbols (XXXX-XXXX-XXXX), got ${symbols.length}`,
      { field: "share_code" },
    );
  }
  const notAllowed = [...new Set(symbols.filter((s) => !SHARE_CODE_ALPHABET.includes(s)))];
  if (notAllowed.length > 0) {
    notAllowed.sort();
    throw new InvalidShareCodeError(
      `a share code uses Crockford base32; not allowed: '${notAllowed.join("")}'`,
      { field: "share_code" },
    );
  }
  return group(symbols.join(""));
}

/**
 * @param {string} code any accepted spelling
 * @returns {bigint} the 60 bits it carries
 */
export function shareCodeBits(code) {
  let bits = 0n;
  for (const symbol of normalizeShareCode(code).split("-").join("")) {
    bits = (bits << 5n) | BigInt(SHARE_CODE_ALPHABET.indexOf(symbol));
  }
  return bits;
}
