/**
 * base64url without padding (RFC 4648 §5): how bytes travel as text everywhere in Cipherslip,
 * e.g. the link key in the share URL fragment. Mirrors client/cipherslip_crypto/encoding.py.
 */

import { InvalidInputError } from "./errors.js";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const VALUE_OF = new Map([...ALPHABET].map((symbol, value) => [symbol, value]));
const WELL_FORMED = /^[A-Za-z0-9_-]*$/;

/**
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function encodeBase64url(bytes) {
  let text = "";
  let index = 0;
  for (; index + 3 <= bytes.length; index += 3) {
    const group = (bytes[index] << 16) | (bytes[index + 1] << 8) | bytes[index + 2];
    text += ALPHABET[group >> 18] + ALPHABET[(group >> 12) & 63]
      + ALPHABET[(group >> 6) & 63] + ALPHABET[group & 63];
  }
  const rest = bytes.length - index;
  if (rest === 1) {
    const group = bytes[index] << 16;
    text += ALPHABET[group >> 18] + ALPHABET[(group >> 12) & 63];
  } else if (rest === 2) {
    const group = (bytes[index] << 16) | (bytes[index + 1] << 8);
    text += ALPHABET[group >> 18] + ALPHABET[(group >> 12) & 63] + ALPHABET[(group >> 6) & 63];
  }
  return text;
}

/**
 * Strict decode: rejects padding, whitespace, characters outside the alphabet and impossible
 * lengths. Like Python's decoder (the other end of every link), unused low bits of the last
 * symbol are ignored rather than rejected, so both sides accept exactly the same strings.
 * @param {string} text
 * @param {{field?: string}} [options] names the offending field in the error
 * @returns {Uint8Array}
 */
export function decodeBase64url(text, { field = "value" } = {}) {
  if (typeof text !== "string" || !WELL_FORMED.test(text) || text.length % 4 === 1) {
    throw new InvalidInputError(`${field} must be base64url without padding`, { field });
  }
  const bytes = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let bitCount = 0;
  let written = 0;
  for (const symbol of text) {
    bits = ((bits << 6) | /** @type {number} */ (VALUE_OF.get(symbol))) & 0xffffff;
    bitCount += 6;
    if (bitCount >= 8) {
      bitCount -= 8;
      bytes[written++] = (bits >> bitCount) & 0xff;
    }
  }
  return bytes;
}
