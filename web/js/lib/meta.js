/**
 * Sealed metadata (docs/FORMATS.md): format, file name, media type and size, hidden from the server.
 * Byte-compatible with client/cipherslip_crypto/meta.py.
 *
 * MK = HKDF-SHA256(linkKey || dataKey, header salt, "cipherslip/v1/meta") is used exactly once,
 * which is why a constant all-zero nonce is safe here.
 */

import { requireBytes, utf8Decode, utf8Encode } from "./bytes.js";
import { StreamAuthenticationError, StreamFormatError } from "./errors.js";
import { META_INFO, deriveAesGcmKey } from "./kdf.js";

/** @typedef {"text" | "json" | "yaml" | "env" | "file"} ContentFormat */
/**
 * @typedef {object} ContentMeta
 * @property {ContentFormat} format
 * @property {string | null} name file name, null for text formats
 * @property {string} type media type
 * @property {number} size plaintext size in bytes
 */

export const FORMATS = Object.freeze(["text", "json", "yaml", "env", "file"]);
const META_KEYS = ["format", "name", "type", "size"];
const ZERO_NONCE = new Uint8Array(12);
// In a /u regex a surrogate only matches when unpaired; Python cannot UTF-8-encode those.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** @param {unknown} text */
function isWellFormedString(text) {
  return typeof text === "string" && !LONE_SURROGATE.test(text);
}

/**
 * Validate the shape Python's _check_meta accepts and return a copy with only the known keys.
 * @param {unknown} value
 * @returns {ContentMeta}
 */
export function checkMeta(value) {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new StreamFormatError("sealed metadata must hold format, name, type and size");
  }
  const keys = Object.keys(value);
  const hasKey = (/** @type {string} */ key) => Object.prototype.hasOwnProperty.call(value, key);
  if (keys.length !== META_KEYS.length || !META_KEYS.every(hasKey)) {
    throw new StreamFormatError("sealed metadata must hold format, name, type and size");
  }
  const { format, name, type, size } = /** @type {Record<string, unknown>} */ (value);
  if (typeof format !== "string" || !FORMATS.includes(format)) {
    throw new StreamFormatError(`unknown content format ${JSON.stringify(format)}`);
  }
  if (name !== null && !isWellFormedString(name)) {
    throw new StreamFormatError("metadata name must be a string or null");
  }
  if (!isWellFormedString(type)) throw new StreamFormatError("metadata type must be a string");
  // Safe integers only: beyond 2^53 JSON numbers stop round-tripping between JS and Python.
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    throw new StreamFormatError("metadata size must be a non-negative integer");
  }
  return {
    format: /** @type {ContentFormat} */ (format),
    name: /** @type {string | null} */ (name),
    type: /** @type {string} */ (type),
    size,
  };
}

/**
 * Canonical JSON: keys in the documented order (docs/FORMATS.md), compact, UTF-8 — byte-identical to Python's encode_meta
 * (json.dumps with separators=(",", ":") and ensure_ascii=False escapes exactly what
 * JSON.stringify escapes for well-formed strings).
 * @param {ContentMeta} meta
 * @returns {Uint8Array}
 */
export function encodeMeta(meta) {
  const checked = checkMeta(meta);
  return utf8Encode(JSON.stringify({
    format: checked.format, name: checked.name, type: checked.type, size: checked.size,
  }));
}

/**
 * @param {ContentMeta} meta
 * @param {Uint8Array} linkKey 32 bytes
 * @param {Uint8Array} dataKey 32 bytes
 * @param {string} secretId
 * @param {Uint8Array} salt the CSL1 header salt (16 bytes) of the same secret's stream
 * @returns {Promise<Uint8Array>} sealedMeta (JSON + 16-byte tag)
 */
export async function sealMeta(meta, linkKey, dataKey, secretId, salt) {
  requireBytes(salt, "salt", 16);
  const encodedMeta = encodeMeta(meta);
  const metaKey = await deriveAesGcmKey(linkKey, dataKey, salt, META_INFO, ["encrypt"]);
  const sealedMeta = await globalThis.crypto.subtle.encrypt(
    { name: "AES-GCM", iv: ZERO_NONCE, additionalData: utf8Encode(secretId), tagLength: 128 },
    metaKey,
    encodedMeta,
  );
  return new Uint8Array(sealedMeta);
}

/**
 * @param {Uint8Array} sealedMeta
 * @param {Uint8Array} linkKey 32 bytes
 * @param {Uint8Array} dataKey 32 bytes
 * @param {string} secretId
 * @param {Uint8Array} salt the CSL1 header salt (16 bytes)
 * @returns {Promise<ContentMeta>} StreamAuthenticationError if it does not open,
 *   StreamFormatError if it opens but is not valid metadata
 */
export async function openMeta(sealedMeta, linkKey, dataKey, secretId, salt) {
  requireBytes(sealedMeta, "sealed metadata");
  requireBytes(salt, "salt", 16);
  const metaKey = await deriveAesGcmKey(linkKey, dataKey, salt, META_INFO, ["decrypt"]);
  let encodedMeta;
  try {
    encodedMeta = new Uint8Array(await globalThis.crypto.subtle.decrypt(
      { name: "AES-GCM", iv: ZERO_NONCE, additionalData: utf8Encode(secretId), tagLength: 128 },
      metaKey,
      sealedMeta,
    ));
  } catch (error) {
    if (error instanceof Error && error.name === "OperationError") {
      throw new StreamAuthenticationError("the sealed metadata does not authenticate",
        { cause: error });
    }
    throw error;
  }
  let parsed;
  try {
    parsed = JSON.parse(utf8Decode(encodedMeta));
  } catch (error) {
    throw new StreamFormatError("the sealed metadata is not UTF-8 JSON", { cause: error });
  }
  return checkMeta(parsed);
}
