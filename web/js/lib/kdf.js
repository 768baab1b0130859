/** HKDF-SHA256 key derivation shared by the content stream and the sealed metadata. */

import { concatBytes, requireBytes, utf8Encode, zeroize } from "./bytes.js";

export const KEY_SIZE = 32;
export const CONTENT_INFO = utf8Encode("cipherslip/v1/content");
export const META_INFO = utf8Encode("cipherslip/v1/meta");

/**
 * Derive a non-extractable AES-256-GCM key from both keys: neither the link (link key) nor the
 * vault (data key) suffices alone.
 * @param {Uint8Array} linkKey 32 bytes
 * @param {Uint8Array} dataKey 32 bytes
 * @param {Uint8Array} salt the CSL1 header salt
 * @param {Uint8Array} info CONTENT_INFO or META_INFO
 * @param {KeyUsage[]} usages
 * @returns {Promise<CryptoKey>}
 */
export async function deriveAesGcmKey(linkKey, dataKey, salt, info, usages) {
  requireBytes(linkKey, "link key", KEY_SIZE);
  requireBytes(dataKey, "data key", KEY_SIZE);
  const subtle = globalThis.crypto.subtle;
  const inputKeyMaterial = concatBytes(linkKey, dataKey);
  try {
    const hkdfKey = await subtle.importKey("raw", inputKeyMaterial, "HKDF", false, ["deriveKey"]);
    return await subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt, info },
      hkdfKey,
      { name: "AES-GCM", length: 256 },
      false,
      usages,
    );
  } finally {
    zeroize(inputKeyMaterial);
  }
}

export const KEY_CHECK_SIZE = 16;
const KEY_CHECK_INFO_PREFIX = "cipherslip/v1/key-check|";

/**
 * The link key's check (docs/FORMATS.md): HKDF-SHA256(L, 32 zero bytes, "cipherslip/v1/key-check|" +
 * secret id), 16 bytes. A damaged or cut-off link gives a different one, so the page can say
 * so before it spends a view. The link key has 256 bits: the check gives nothing usable away.
 * @param {Uint8Array} linkKey 32 bytes
 * @param {string} secretId
 * @returns {Promise<Uint8Array>} 16 bytes
 */
export async function deriveKeyCheck(linkKey, secretId) {
  requireBytes(linkKey, "link key", KEY_SIZE);
  const subtle = globalThis.crypto.subtle;
  const hkdfKey = await subtle.importKey("raw", linkKey, "HKDF", false, ["deriveBits"]);
  const bits = await subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32),
      info: utf8Encode(KEY_CHECK_INFO_PREFIX + secretId) },
    hkdfKey,
    KEY_CHECK_SIZE * 8,
  );
  return new Uint8Array(bits);
}

/**
 * @param {Uint8Array} computed what this browser derived from its link
 * @param {Uint8Array} stored the secret's key check, as the server holds it
 * @returns {boolean} whether they are the same (every byte compared)
 */
export function keyChecksMatch(computed, stored) {
  if (computed.length !== stored.length) return false;
  let difference = 0;
  for (let index = 0; index < computed.length; index += 1) difference |= computed[index] ^ stored[index];
  return difference === 0;
}
