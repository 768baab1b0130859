/**
 * Cipherslip browser crypto: the public API page scripts import (bundled on its own as
 * /static/dist/cipherslip-crypto.js). Byte-compatible with core/crypto in Python.
 */

export { decodeBase64url, encodeBase64url } from "./base64url.js";
export {
  CryptoError,
  InvalidInputError,
  InvalidShareCodeError,
  KeyTransportError,
  StreamAuthenticationError,
  StreamFormatError,
  StreamTruncatedError,
} from "./errors.js";
export {
  Csl1Decryptor,
  Csl1Encryptor,
  Csl1Header,
  Csl1StreamDecryptor,
  Csl1StreamEncryptor,
  HEADER_SIZE,
  RECORD_SIZE,
  SEALED_RECORD_SIZE,
  TAG_SIZE,
  decryptContent,
  encryptContent,
  plaintextSize,
  streamSize,
} from "./csl1.js";
export { KEY_CHECK_SIZE, deriveKeyCheck, keyChecksMatch } from "./kdf.js";
export { PUBLIC_KEY_SIZE, SEALED_KEY_SIZE, newRecipientKeyPair, openDataKey, sealInfo } from "./hpke.js";
export { decodeLinkKey, encodeLinkKey, generateLinkKey } from "./linkkey.js";
export { FORMATS, encodeMeta, openMeta, sealMeta } from "./meta.js";
export {
  SHARE_CODE_ALPHABET,
  generateShareCode,
  normalizeShareCode,
  shareCodeBits,
  shareCodeFromBits,
} from "./sharecode.js";
