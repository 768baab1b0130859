/**
 * How a file's CSL1 stream is cut into upload parts — the browser's half of
 * core/services/uploads.py. Parts follow record boundaries (`records_per_part` sealed records,
 * the 32-byte header riding in part 1), so each part can be encrypted from its own slice of the
 * file and the server knows every part's exact size in advance.
 */

import { HEADER_SIZE, RECORD_SIZE, TAG_SIZE } from "../lib/index.js";

export const FILE_MAX_BYTES = 2 ** 30; // 1 GiB of plaintext

/**
 * @typedef {object} UploadPlan what the API answers when a file secret is created
 * @property {number} part_count
 * @property {number} records_per_part
 * @property {boolean} direct true: PUT parts to presigned storage URLs
 * @property {string} parts_url
 */

/**
 * @typedef {object} Part
 * @property {number} number 1-based
 * @property {number} plainStart first plaintext byte (inclusive)
 * @property {number} plainEnd last plaintext byte (exclusive)
 * @property {number} firstRecord index of its first record in the stream
 * @property {number} recordCount
 * @property {boolean} hasFinalRecord
 * @property {number} streamBytes exact size of the part on the wire
 */

/**
 * @param {number} plaintextSize
 * @param {UploadPlan} plan
 * @returns {Part[]}
 */
export function partsOf(plaintextSize, plan) {
  if (!Number.isSafeInteger(plaintextSize) || plaintextSize < 0 || plaintextSize > FILE_MAX_BYTES) {
    throw new RangeError(`a file is 0 to ${FILE_MAX_BYTES} bytes`);
  }
  const perPart = plan.records_per_part;
  const recordTotal = Math.max(1, Math.ceil(plaintextSize / RECORD_SIZE));
  const partCount = Math.ceil(recordTotal / perPart);
  if (partCount !== plan.part_count) {
    // Server and page disagree on the framing: uploading would only end in a refused complete.
    throw new Error(`upload plan mismatch: ${partCount} parts here, ${plan.part_count} on the server`);
  }
  /** @type {Part[]} */
  const parts = [];
  for (let index = 0; index < partCount; index++) {
    const firstRecord = index * perPart;
    const recordCount = Math.min(perPart, recordTotal - firstRecord);
    const plainStart = Math.min(plaintextSize, firstRecord * RECORD_SIZE);
    const plainEnd = Math.min(plaintextSize, (firstRecord + recordCount) * RECORD_SIZE);
    parts.push({
      number: index + 1,
      plainStart,
      plainEnd,
      firstRecord,
      recordCount,
      hasFinalRecord: index === partCount - 1,
      streamBytes: (index === 0 ? HEADER_SIZE : 0) + (plainEnd - plainStart) + recordCount * TAG_SIZE,
    });
  }
  return parts;
}
