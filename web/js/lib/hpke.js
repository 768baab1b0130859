/**
 * Key transport, browser side (docs/FORMATS.md): HPKE (RFC 9180) base mode,
 * DHKEM(P-256, HKDF-SHA256) / HKDF-SHA256 / AES-256-GCM, via @hpke/core on WebCrypto.
 *
 * The browser makes a fresh non-extractable P-256 key pair per operation, sends the raw public
 * key, and the vault seals the 32-byte data key to it (client/cipherslip_crypto/hpke.py). `info` binds the
 * seal to one secret and one purpose, so a key sealed for "create" cannot be replayed as a
 * "reveal" or for another secret.
 */

import { Aes256Gcm, CipherSuite, DhkemP256HkdfSha256, HkdfSha256 } from "@hpke/core";

import { requireBytes, utf8Encode } from "./bytes.js";
import { KeyTransportError } from "./errors.js";
import { KEY_SIZE } from "./kdf.js";

export const PURPOSES = Object.freeze(["create", "reveal"]);
export const PUBLIC_KEY_SIZE = 65;
export const ENC_SIZE = 65;
export const SEALED_KEY_SIZE = ENC_SIZE + KEY_SIZE + 16;

/** @typedef {"create" | "reveal"} Purpose */

/** The one suite Cipherslip uses; exported so tests (and only tests) can seal with it. */
export const HPKE_SUITE = new CipherSuite({
  kem: new DhkemP256HkdfSha256(),
  kdf: new HkdfSha256(),
  aead: new Aes256Gcm(),
});

/**
 * @param {string} secretId
 * @param {Purpose} purpose
 * @returns {Uint8Array} "cipherslip/v1/seal|" + secretId + "|" + purpose, UTF-8
 */
export function sealInfo(secretId, purpose) {
  if (!PURPOSES.includes(purpose)) throw new RangeError(`unknown key transport purpose ${purpose}`);
  return utf8Encode(`cipherslip/v1/seal|${secretId}|${purpose}`);
}

/**
 * A fresh P-256 key pair whose private key can never be exported, plus the raw public key to
 * send to the API. Use one per operation and drop it afterwards.
 * @returns {Promise<{keyPair: CryptoKeyPair, publicKeyRaw: Uint8Array}>}
 */
export async function newRecipientKeyPair() {
  const subtle = globalThis.crypto.subtle;
  const keyPair = /** @type {CryptoKeyPair} */ (await subtle.generateKey(
    { name: "ECDH", namedCurve: "P-256" },
    false,
    ["deriveBits"],
  ));
  // Public keys stay exportable even when the pair is generated non-extractable.
  const publicKeyRaw = new Uint8Array(await subtle.exportKey("raw", keyPair.publicKey));
  return { keyPair, publicKeyRaw };
}

/**
 * Open a data key the vault sealed to `keyPair`. The whole pair is required: with only a
 * non-extractable private key, @hpke/core would have to export it to recompute the public key.
 * @param {CryptoKeyPair} keyPair from newRecipientKeyPair (or an imported pair)
 * @param {Uint8Array} sealed enc (65) | ct (48), as relayed by the API
 * @param {string} secretId
 * @param {Purpose} purpose "create" or "reveal"
 * @returns {Promise<Uint8Array>} the 32-byte data key
 */
export async function openDataKey(keyPair, sealed, secretId, purpose) {
  requireBytes(sealed, "sealed data key");
  if (sealed.length !== SEALED_KEY_SIZE) {
    throw new KeyTransportError(`a sealed data key is ${SEALED_KEY_SIZE} bytes, got ${sealed.length}`);
  }
  if (!keyPair || !keyPair.privateKey || !keyPair.publicKey) {
    throw new TypeError("openDataKey needs the CryptoKeyPair from newRecipientKeyPair()");
  }
  const info = sealInfo(secretId, purpose);
  let dataKey;
  try {
    dataKey = new Uint8Array(await HPKE_SUITE.open(
      { recipientKey: keyPair, enc: sealed.slice(0, ENC_SIZE), info },
      sealed.slice(ENC_SIZE),
    ));
  } catch (error) {
    throw new KeyTransportError(
      "the sealed data key does not open with this key pair, secret and purpose",
      { cause: error },
    );
  }
  if (dataKey.length !== KEY_SIZE) {
    dataKey.fill(0);
    throw new KeyTransportError(`the sealed data key holds ${dataKey.length} bytes, not 32`);
  }
  return dataKey;
}
