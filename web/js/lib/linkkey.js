/**
 * The link key L (docs/FORMATS.md): 32 random bytes made by the creator's browser, carried only in the
 * share URL's fragment `{BASE_URL}/s/{SHARE_CODE}#{base64url(L)}`, which browsers never send.
 */

import { decodeBase64url, encodeBase64url } from "./base64url.js";
import { InvalidInputError } from "./errors.js";
import { KEY_SIZE } from "./kdf.js";

/** @returns {Uint8Array} a fresh 32-byte link key */
export function generateLinkKey() {
  return globalThis.crypto.getRandomValues(new Uint8Array(KEY_SIZE));
}

/** @param {Uint8Array} linkKey 32 bytes @returns {string} base64url for the URL fragment */
export function encodeLinkKey(linkKey) {
  if (!(linkKey instanceof Uint8Array) || linkKey.length !== KEY_SIZE) {
    throw new RangeError("a link key is 32 bytes");
  }
  return encodeBase64url(linkKey);
}

/**
 * @param {string} fragment base64url text, with or without the leading "#"
 * @returns {Uint8Array} the 32-byte link key; InvalidInputError (field "link_key") otherwise
 */
export function decodeLinkKey(fragment) {
  const text = String(fragment).startsWith("#") ? String(fragment).slice(1) : String(fragment);
  const linkKey = decodeBase64url(text, { field: "link_key" });
  if (linkKey.length !== KEY_SIZE) {
    linkKey.fill(0);
    throw new InvalidInputError("the link is incomplete: its key must be 32 bytes",
      { field: "link_key" });
  }
  return linkKey;
}
