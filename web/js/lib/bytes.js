/** Byte helpers shared by the crypto modules (Uint8Array only; no Node Buffer). */

const utf8Encoder = new TextEncoder();
// fatal: invalid UTF-8 must be an error, never silently replaced with U+FFFD.
const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** @param {string} text @returns {Uint8Array} */
export function utf8Encode(text) {
  return utf8Encoder.encode(text);
}

/** @param {Uint8Array} bytes @returns {string} throws TypeError on invalid UTF-8 */
export function utf8Decode(bytes) {
  return utf8Decoder.decode(bytes);
}

/** @param {...Uint8Array} parts @returns {Uint8Array} */
export function concatBytes(...parts) {
  let total = 0;
  for (const part of parts) total += part.length;
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}

/**
 * Overwrite key material we created. JavaScript gives no guarantee that no other copy exists,
 * so this only shortens the time our own copies live.
 * @param {...(Uint8Array | undefined)} arrays
 */
export function zeroize(...arrays) {
  for (const array of arrays) array?.fill(0);
}

/**
 * @param {unknown} value
 * @param {string} what name used in the error message
 * @param {number} [length] required length, if any
 * @returns {Uint8Array}
 */
export function requireBytes(value, what, length) {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${what} must be a Uint8Array`);
  }
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`${what} must be ${length} bytes, got ${value.length}`);
  }
  return value;
}

/**
 * FIFO of byte chunks that hands out exact-size pieces without re-copying everything that is
 * still pending on each push (streams arrive in arbitrary chunk sizes, records are fixed).
 */
export class ByteQueue {
  constructor() {
    /** @type {Uint8Array[]} */
    this._chunks = [];
    this._head = 0; // bytes already consumed from _chunks[0]
    this.length = 0;
  }

  /**
   * Queue `chunk`. It is copied, so callers may reuse their buffer afterwards, unless they hand
   * it over (`handedOver`: they will never touch it again, as with a network read's result).
   * @param {Uint8Array} chunk
   * @param {{handedOver?: boolean}} [options]
   */
  push(chunk, { handedOver = false } = {}) {
    if (chunk.length === 0) return;
    this._chunks.push(handedOver ? chunk : chunk.slice());
    this.length += chunk.length;
  }

  /**
   * Remove and return the first `count` bytes (count <= length). Bytes that lie in one queued
   * chunk come back as a view of it, uncopied (the queue's own copy, so nobody else sees it);
   * a stream decrypts 16,384 records per GiB, and each copy was garbage to collect.
   * @param {number} count
   */
  take(count) {
    if (count > this.length) throw new RangeError("not enough queued bytes");
    const first = this._chunks[0];
    if (first !== undefined && first.length - this._head >= count) {
      const view = first.subarray(this._head, this._head + count);
      this._head += count;
      if (this._head === first.length) {
        this._chunks.shift();
        this._head = 0;
      }
      this.length -= count;
      return view;
    }
    const taken = new Uint8Array(count);
    let filled = 0;
    while (filled < count) {
      const chunk = this._chunks[0];
      const available = chunk.length - this._head;
      const used = Math.min(available, count - filled);
      taken.set(chunk.subarray(this._head, this._head + used), filled);
      filled += used;
      if (used === available) {
        this._chunks.shift();
        this._head = 0;
      } else {
        this._head += used;
      }
    }
    this.length -= count;
    return taken;
  }

  /** Remove and return everything queued. */
  takeAll() {
    return this.take(this.length);
  }
}
