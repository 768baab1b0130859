/**
 * The second half of sharing, after the API has reserved a secret and sealed its data key to
 * this browser's one-time key pair: encrypt under the link key (a file in parts as it
 * uploads, a text at once), seal the metadata, derive the key check and complete. Used by the
 * create page (a fresh link key) and by a request's answer (the request link's key).
 */

import { mediaTypeFor } from "../formats/index.js";
import {
  decodeBase64url,
  deriveKeyCheck,
  encodeBase64url,
  encryptContent,
  openDataKey,
  sealMeta,
} from "../lib/index.js";
import { apiRequest } from "./api.js";

/**
 * @typedef {object} Content what to seal: a text's bytes, or a file
 * @property {import("../lib/meta.js").ContentFormat} format
 * @property {Uint8Array | null} text zeroed once encrypted
 * @property {File | null} file
 */

/**
 * @param {object} options
 * @param {any} options.created the API's answer: id, sealed_key, complete_url (upload for files)
 * @param {CryptoKeyPair} options.keyPair whose public key went with the reservation
 * @param {Uint8Array} options.linkKey
 * @param {Content} options.content
 * @param {(file: File, created: any, linkKey: Uint8Array, dataKey: Uint8Array) => Promise<Uint8Array>} options.uploadFile
 *   sends a file's parts and returns its stream's salt
 * @returns {Promise<any>} the completion's answer (share_url, share_code, …)
 */
export async function sealAndComplete({ created, keyPair, linkKey, content, uploadFile }) {
  const dataKey = await openDataKey(keyPair, decodeBase64url(created.sealed_key), created.id, "create");
  try {
    let salt;
    /** @type {import("../lib/meta.js").ContentMeta} */
    let meta;
    /** @type {Uint8Array | null} a text's stream travels with the completion */
    let stream = null;
    if (content.file) {
      const file = content.file;
      salt = await uploadFile(file, created, linkKey, dataKey);
      meta = { format: content.format, name: file.name, type: file.type || "application/octet-stream",
        size: file.size };
    } else {
      const text = /** @type {Uint8Array} */ (content.text);
      stream = await encryptContent(text, linkKey, dataKey, created.id);
      salt = stream.subarray(8, 24);
      meta = { format: content.format, name: null,
        type: mediaTypeFor(/** @type {import("../formats/files.js").TextFormat} */ (content.format)),
        size: text.length };
      text.fill(0);
    }
    const sealedMeta = await sealMeta(meta, linkKey, dataKey, created.id, salt);
    const keyCheck = await deriveKeyCheck(linkKey, created.id);
    return await apiRequest("POST", created.complete_url, {
      sealed_meta: encodeBase64url(sealedMeta),
      key_check: encodeBase64url(keyCheck),
      ...(stream ? { content: encodeBase64url(stream) } : {}),
    });
  } finally {
    dataKey.fill(0);
  }
}

/**
 * Drop a file secret that will never be completed, with whatever was uploaded of it.
 * @param {string} secretId
 */
export async function abandon(secretId) {
  try {
    await apiRequest("DELETE", `/api/v1/secrets/${secretId}`);
  } catch {
    // The scheduler removes uploads not completed within an hour anyway.
  }
}
