/**
 * The CSL1 content stream (docs/FORMATS.md), byte-compatible with client/cipherslip_crypto/csl1.py:
 *
 *   header  = "CSL1" | 01 version | 01 alg | 10 log2(record) | 00 | salt(16) | nonce_prefix(7) | 00
 *   CK      = HKDF-SHA256(ikm = linkKey || dataKey, salt, "cipherslip/v1/content")
 *   nonce_i = nonce_prefix | uint32_be(i) | 01 if final else 00
 *   record  = AES-256-GCM(CK, nonce_i, chunk_i, aad = header || utf8(secretId))
 *
 * Every record but the last holds exactly 64 KiB; the last holds 0..64 KiB and is flagged in its
 * nonce, so truncation at a record boundary and appended bytes are both detected.
 *
 * Three layers: Csl1Encryptor / Csl1Decryptor seal and open single records; Csl1StreamEncryptor /
 * Csl1StreamDecryptor frame input arriving in arbitrary chunks (uploads, downloads);
 * encryptContent / decryptContent handle a whole buffer.
 */

import { ByteQueue, concatBytes, requireBytes, utf8Encode } from "./bytes.js";
import { StreamAuthenticationError, StreamFormatError, StreamTruncatedError } from "./errors.js";
import { CONTENT_INFO, deriveAesGcmKey } from "./kdf.js";

export const MAGIC = utf8Encode("CSL1");
export const VERSION = 0x01;
export const ALG_AES256GCM_HKDF_SHA256 = 0x01;
export const LOG2_RECORD_SIZE = 16;
export const RECORD_SIZE = 1 << LOG2_RECORD_SIZE;
export const TAG_SIZE = 16;
export const SEALED_RECORD_SIZE = RECORD_SIZE + TAG_SIZE;
export const HEADER_SIZE = 32;
export const SALT_SIZE = 16;
export const NONCE_PREFIX_SIZE = 7;
export const MAX_RECORDS = 2 ** 32;

export class Csl1Header {
  /**
   * @param {Uint8Array} salt 16 bytes
   * @param {Uint8Array} noncePrefix 7 bytes
   */
  constructor(salt, noncePrefix) {
    if (!(salt instanceof Uint8Array) || !(noncePrefix instanceof Uint8Array)
        || salt.length !== SALT_SIZE || noncePrefix.length !== NONCE_PREFIX_SIZE) {
      throw new StreamFormatError("header salt is 16 bytes and nonce prefix 7 bytes");
    }
    this.salt = salt.slice();
    this.noncePrefix = noncePrefix.slice();
    Object.freeze(this);
  }

  /** A header with fresh random salt and nonce prefix. @returns {Csl1Header} */
  static generate() {
    const random = globalThis.crypto.getRandomValues(new Uint8Array(SALT_SIZE + NONCE_PREFIX_SIZE));
    return new Csl1Header(random.subarray(0, SALT_SIZE), random.subarray(SALT_SIZE));
  }

  /**
   * Parse the first 32 bytes of a stream, rejecting anything but CSL1 v1 / 64 KiB records.
   * @param {Uint8Array} raw at least the header; later bytes are ignored
   * @returns {Csl1Header}
   */
  static parse(raw) {
    requireBytes(raw, "CSL1 header");
    if (raw.length < HEADER_SIZE) {
      throw new StreamFormatError("the stream is shorter than its 32-byte header");
    }
    if (MAGIC.some((byte, index) => raw[index] !== byte)) {
      throw new StreamFormatError("not a CSL1 stream (bad magic)");
    }
    if (raw[4] !== VERSION) throw new StreamFormatError(`unsupported CSL1 version ${raw[4]}`);
    if (raw[5] !== ALG_AES256GCM_HKDF_SHA256) {
      throw new StreamFormatError(`unsupported CSL1 algorithm ${raw[5]}`);
    }
    if (raw[6] !== LOG2_RECORD_SIZE) {
      throw new StreamFormatError(`unsupported CSL1 record size 2^${raw[6]}`);
    }
    if (raw[7] !== 0 || raw[31] !== 0) {
      throw new StreamFormatError("CSL1 header reserved bytes must be zero");
    }
    return new Csl1Header(raw.subarray(8, 24), raw.subarray(24, 31));
  }

  /** @returns {Uint8Array} the 32 header bytes */
  toBytes() {
    return concatBytes(
      MAGIC,
      Uint8Array.of(VERSION, ALG_AES256GCM_HKDF_SHA256, LOG2_RECORD_SIZE, 0),
      this.salt,
      this.noncePrefix,
      Uint8Array.of(0),
    );
  }
}

/** @param {Csl1Header | Uint8Array | undefined} header @returns {Csl1Header} */
function toHeader(header) {
  if (header === undefined) return Csl1Header.generate();
  return header instanceof Csl1Header ? header : Csl1Header.parse(header);
}

/**
 * @param {Uint8Array} noncePrefix
 * @param {number} index
 * @param {boolean} final
 * @returns {Uint8Array} 12-byte AES-GCM nonce
 */
function recordNonce(noncePrefix, index, final) {
  if (index >= MAX_RECORDS) throw new StreamFormatError("a CSL1 stream holds at most 2^32 records");
  const nonce = new Uint8Array(12);
  nonce.set(noncePrefix, 0);
  new DataView(nonce.buffer).setUint32(NONCE_PREFIX_SIZE, index, false);
  nonce[11] = final ? 1 : 0;
  return nonce;
}

/** Record-level state shared by both directions: key, AAD, position, whether it has ended. */
class RecordCipher {
  /**
   * @param {CryptoKey} contentKey
   * @param {Csl1Header} header
   * @param {string} secretId
   */
  constructor(contentKey, header, secretId) {
    /** @type {Uint8Array} the 32 header bytes that start the stream */
    this.header = header.toBytes();
    this.salt = header.salt;
    this._noncePrefix = header.noncePrefix;
    this._contentKey = contentKey;
    this._aad = concatBytes(this.header, utf8Encode(secretId));
    this._index = 0;
    this._finished = false;
  }

  /** Whether the final record has been sealed or opened. */
  get finished() {
    return this._finished;
  }

  /** @param {boolean} final */
  _nonce(final) {
    if (this._finished) throw new StreamFormatError("the stream already has its final record");
    return recordNonce(this._noncePrefix, this._index, final);
  }

  /** @param {boolean} final */
  _advance(final) {
    this._index += 1;
    this._finished = final;
  }
}

/** Seals records one at a time, so callers can stream without holding the whole input. */
export class Csl1Encryptor extends RecordCipher {
  /**
   * @param {Uint8Array} linkKey 32 bytes
   * @param {Uint8Array} dataKey 32 bytes
   * @param {string} secretId
   * @param {{header?: Csl1Header | Uint8Array}} [options] header (or its 32 bytes); random if absent
   * @returns {Promise<Csl1Encryptor>}
   */
  static async create(linkKey, dataKey, secretId, { header } = {}) {
    const parsedHeader = toHeader(header);
    const contentKey = await deriveAesGcmKey(
      linkKey, dataKey, parsedHeader.salt, CONTENT_INFO, ["encrypt"],
    );
    return new Csl1Encryptor(contentKey, parsedHeader, secretId);
  }

  /**
   * Seal the next record. Position is claimed before the first await, so several calls may run
   * concurrently (e.g. Promise.all) and still get consecutive record numbers.
   * @param {Uint8Array} chunk exactly 64 KiB, or 0..64 KiB when final
   * @param {{final: boolean}} options
   * @returns {Promise<Uint8Array>} chunk.length + 16 bytes
   */
  async sealRecord(chunk, { final }) {
    requireBytes(chunk, "record plaintext");
    if (chunk.length > RECORD_SIZE || (!final && chunk.length !== RECORD_SIZE)) {
      throw new RangeError("non-final records hold exactly 64 KiB, the final one at most");
    }
    const iv = this._nonce(final);
    this._advance(final);
    const sealed = await globalThis.crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: this._aad, tagLength: 128 },
      this._contentKey,
      chunk,
    );
    return new Uint8Array(sealed);
  }
}

export class Csl1Decryptor extends RecordCipher {
  /**
   * @param {Uint8Array} linkKey 32 bytes
   * @param {Uint8Array} dataKey 32 bytes
   * @param {string} secretId
   * @param {Uint8Array} headerBytes the stream's first 32 bytes (later bytes are ignored)
   * @returns {Promise<Csl1Decryptor>} throws StreamFormatError for a header it does not support
   */
  static async create(linkKey, dataKey, secretId, headerBytes) {
    const header = Csl1Header.parse(headerBytes);
    const contentKey = await deriveAesGcmKey(
      linkKey, dataKey, header.salt, CONTENT_INFO, ["decrypt"],
    );
    return new Csl1Decryptor(contentKey, header, secretId);
  }

  /**
   * @param {Uint8Array} sealed
   * @param {boolean} final
   * @returns {Promise<Uint8Array>}
   */
  async _open(sealed, final) {
    requireBytes(sealed, "sealed record");
    if (sealed.length < TAG_SIZE || sealed.length > SEALED_RECORD_SIZE
        || (!final && sealed.length !== SEALED_RECORD_SIZE)) {
      throw new StreamFormatError(`a ${final ? "final" : "non-final"} CSL1 record cannot be `
        + `${sealed.length} bytes`);
    }
    try {
      const plain = await globalThis.crypto.subtle.decrypt(
        { name: "AES-GCM", iv: this._nonce(final), additionalData: this._aad, tagLength: 128 },
        this._contentKey,
        sealed,
      );
      return new Uint8Array(plain);
    } catch (error) {
      // WebCrypto reports a failed tag check as OperationError; anything else is a bug here.
      if (error instanceof Error && error.name === "OperationError") {
        throw new StreamAuthenticationError(
          "the stream does not authenticate (wrong key, wrong secret, or altered)",
          { cause: error },
        );
      }
      throw error;
    }
  }

  /**
   * Open the next record. Calls must be sequential (await each): the position only advances
   * once a record has authenticated, so a failed final attempt can be retried as non-final.
   * @param {Uint8Array} sealed
   * @param {{final: boolean}} options
   * @returns {Promise<Uint8Array>} the record's plaintext
   */
  async openRecord(sealed, { final }) {
    const plain = await this._open(sealed, final);
    this._advance(final);
    return plain;
  }

  /**
   * Whether `sealed` is a valid *non-final* record at the current position (does not advance).
   * @param {Uint8Array} sealed
   * @returns {Promise<boolean>}
   */
  async probeNonFinal(sealed) {
    try {
      await this._open(sealed, false);
      return true;
    } catch (error) {
      if (error instanceof StreamAuthenticationError || error instanceof StreamFormatError) {
        return false;
      }
      throw error;
    }
  }
}

/**
 * Open the last bytes of a stream as its final record, telling a stream that was cut at a
 * record boundary (truncated) apart from one that was altered (authentication).
 * @param {Csl1Decryptor} decryptor
 * @param {Uint8Array} last everything after the last non-final record
 * @returns {Promise<Uint8Array>}
 */
async function openLastRecord(decryptor, last) {
  if (last.length < TAG_SIZE) {
    throw new StreamTruncatedError("the stream ends without a final record");
  }
  try {
    return await decryptor.openRecord(last, { final: true });
  } catch (error) {
    if (error instanceof StreamAuthenticationError && last.length === SEALED_RECORD_SIZE
        && await decryptor.probeNonFinal(last)) {
      throw new StreamTruncatedError("the stream ends without a final record", { cause: error });
    }
    throw error;
  }
}

/** Guards the chunk-framing classes against overlapping calls, which would reorder records. */
class SequentialUse {
  constructor() {
    this._busy = false;
  }

  /**
   * @template T
   * @param {() => Promise<T>} operation
   * @returns {Promise<T>}
   */
  async _exclusive(operation) {
    if (this._busy) throw new Error("await each push()/finish() before the next call");
    this._busy = true;
    try {
      return await operation();
    } finally {
      this._busy = false;
    }
  }
}

/** Frames plaintext arriving in arbitrary chunks into CSL1 records (like Python's iter_encrypt). */
export class Csl1StreamEncryptor extends SequentialUse {
  /** @param {Csl1Encryptor} encryptor */
  constructor(encryptor) {
    super();
    this._encryptor = encryptor;
    /** @type {Uint8Array} the 32 header bytes: write them before the sealed records */
    this.header = encryptor.header;
    this.salt = encryptor.salt;
    this._pending = new ByteQueue();
  }

  /**
   * @param {Uint8Array} linkKey
   * @param {Uint8Array} dataKey
   * @param {string} secretId
   * @param {{header?: Csl1Header | Uint8Array}} [options] random header if absent
   * @returns {Promise<Csl1StreamEncryptor>}
   */
  static async create(linkKey, dataKey, secretId, options = {}) {
    return new Csl1StreamEncryptor(await Csl1Encryptor.create(linkKey, dataKey, secretId, options));
  }

  /**
   * @param {Uint8Array} chunk any size
   * @returns {Promise<Uint8Array[]>} sealed records that are complete (possibly none)
   */
  push(chunk) {
    return this._exclusive(async () => {
      requireBytes(chunk, "plaintext chunk");
      this._pending.push(chunk);
      const sealedRecords = [];
      // Keep at least one byte back: only the end of input decides which record is final.
      while (this._pending.length > RECORD_SIZE) {
        sealedRecords.push(
          await this._encryptor.sealRecord(this._pending.take(RECORD_SIZE), { final: false }),
        );
      }
      return sealedRecords;
    });
  }

  /** @returns {Promise<Uint8Array>} the sealed final record (0..64 KiB of plaintext) */
  finish() {
    return this._exclusive(() => this._encryptor.sealRecord(this._pending.takeAll(), { final: true }));
  }
}

/**
 * Opens a CSL1 stream arriving in arbitrary chunks (like Python's iter_decrypt). Plaintext it
 * returns is only trustworthy once finish() has resolved: truncation and appended bytes are
 * detected at the end.
 */
export class Csl1StreamDecryptor extends SequentialUse {
  /**
   * @param {Uint8Array} linkKey 32 bytes
   * @param {Uint8Array} dataKey 32 bytes
   * @param {string} secretId
   */
  constructor(linkKey, dataKey, secretId) {
    super();
    requireBytes(linkKey, "link key", 32);
    requireBytes(dataKey, "data key", 32);
    this._linkKey = linkKey.slice();
    this._dataKey = dataKey.slice();
    this._secretId = secretId;
    /** @type {Csl1Decryptor | null} */
    this._decryptor = null;
    this._pending = new ByteQueue();
    this._done = false;
  }

  async _startOnceHeaderArrived() {
    if (this._decryptor !== null || this._pending.length < HEADER_SIZE) return;
    const headerBytes = this._pending.take(HEADER_SIZE);
    this._decryptor = await Csl1Decryptor.create(
      this._linkKey, this._dataKey, this._secretId, headerBytes,
    );
    // The derived key is all the decryptor needs from here on.
    this._linkKey.fill(0);
    this._dataKey.fill(0);
  }

  /**
   * @param {Uint8Array} chunk any size; copied unless handed over (`handedOver`: the caller
   *   never touches it again, as with a network read's result)
   * @param {{handedOver?: boolean}} [options]
   * @returns {Promise<Uint8Array[]>} plaintext of records known to be complete (possibly none)
   */
  push(chunk, { handedOver = false } = {}) {
    return this._exclusive(async () => {
      requireBytes(chunk, "stream chunk");
      if (this._done) throw new Error("the stream decryptor has finished");
      this._pending.push(chunk, { handedOver });
      await this._startOnceHeaderArrived();
      /** @type {Uint8Array[]} */
      const plaintextRecords = [];
      if (this._decryptor === null) return plaintextRecords;
      // A record is known to be non-final only once bytes after it have arrived.
      while (this._pending.length > SEALED_RECORD_SIZE) {
        plaintextRecords.push(
          await this._decryptor.openRecord(this._pending.take(SEALED_RECORD_SIZE), { final: false }),
        );
      }
      return plaintextRecords;
    });
  }

  /** @returns {Promise<Uint8Array>} plaintext of the final record */
  finish() {
    return this._exclusive(async () => {
      if (this._done) throw new Error("the stream decryptor has finished");
      this._done = true;
      this._linkKey.fill(0);
      this._dataKey.fill(0);
      if (this._decryptor === null) {
        Csl1Header.parse(this._pending.takeAll()); // throws: shorter than a header
        throw new Error("unreachable: a complete header starts the decryptor");
      }
      return openLastRecord(this._decryptor, this._pending.takeAll());
    });
  }
}

/**
 * Encrypt a whole plaintext into a canonical CSL1 stream.
 * @param {Uint8Array} plaintext
 * @param {Uint8Array} linkKey 32 bytes
 * @param {Uint8Array} dataKey 32 bytes
 * @param {string} secretId
 * @param {{header?: Csl1Header | Uint8Array}} [options] random header if absent
 * @returns {Promise<Uint8Array>} header | records
 */
export async function encryptContent(plaintext, linkKey, dataKey, secretId, options = {}) {
  requireBytes(plaintext, "plaintext");
  const encryptor = await Csl1Encryptor.create(linkKey, dataKey, secretId, options);
  const recordCount = Math.max(1, Math.ceil(plaintext.length / RECORD_SIZE));
  const pendingRecords = [];
  for (let index = 0; index < recordCount; index++) {
    const chunk = plaintext.subarray(index * RECORD_SIZE, (index + 1) * RECORD_SIZE);
    pendingRecords.push(encryptor.sealRecord(chunk, { final: index === recordCount - 1 }));
  }
  const stream = new Uint8Array(streamSize(plaintext.length));
  stream.set(encryptor.header, 0);
  let offset = HEADER_SIZE;
  for (const sealedRecord of await Promise.all(pendingRecords)) {
    stream.set(sealedRecord, offset);
    offset += sealedRecord.length;
  }
  return stream;
}

/**
 * Decrypt a whole CSL1 stream, with the same framing and error kinds as Csl1StreamDecryptor.
 * @param {Uint8Array} stream
 * @param {Uint8Array} linkKey 32 bytes
 * @param {Uint8Array} dataKey 32 bytes
 * @param {string} secretId
 * @returns {Promise<Uint8Array>} the plaintext
 */
export async function decryptContent(stream, linkKey, dataKey, secretId) {
  requireBytes(stream, "stream");
  const decryptor = await Csl1Decryptor.create(linkKey, dataKey, secretId, stream);
  const plaintextRecords = [];
  let offset = HEADER_SIZE;
  while (stream.length - offset > SEALED_RECORD_SIZE) {
    const sealedRecord = stream.subarray(offset, offset + SEALED_RECORD_SIZE);
    plaintextRecords.push(await decryptor.openRecord(sealedRecord, { final: false }));
    offset += SEALED_RECORD_SIZE;
  }
  plaintextRecords.push(await openLastRecord(decryptor, stream.subarray(offset)));
  return concatBytes(...plaintextRecords);
}

/**
 * Size of the canonical stream for a plaintext of `plaintextLength` bytes.
 * @param {number} plaintextLength
 * @returns {number}
 */
export function streamSize(plaintextLength) {
  const records = Math.max(1, Math.ceil(plaintextLength / RECORD_SIZE));
  return HEADER_SIZE + plaintextLength + records * TAG_SIZE;
}

/**
 * Plaintext size implied by a stream's length (the server's check of upload framing).
 * @param {number} streamLength
 * @returns {number}
 */
export function plaintextSize(streamLength) {
  const body = streamLength - HEADER_SIZE;
  if (body < TAG_SIZE) throw new StreamFormatError("the upload is too short to be a CSL1 stream");
  const fullRecords = Math.floor(body / SEALED_RECORD_SIZE);
  const rest = body % SEALED_RECORD_SIZE;
  if (rest === 0) return fullRecords * RECORD_SIZE;
  if (rest < TAG_SIZE) {
    throw new StreamFormatError("the upload's length does not fit CSL1 record framing");
  }
  return fullRecords * RECORD_SIZE + rest - TAG_SIZE;
}
