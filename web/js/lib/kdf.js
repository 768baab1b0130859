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
