/**
 * Error classes of the browser crypto, mirroring core/errors.py.
 *
 * Every error carries a stable `kind` (what went wrong, compared against the test vectors'
 * `error` field) and `code` (the same machine code the Python side uses), so page scripts can
 * branch on them without parsing messages.
 */

export class CryptoError extends Error {
  /**
   * @param {string} message
   * @param {{cause?: unknown}} [options]
   */
  constructor(message, options) {
    super(message, options);
    this.name = new.target.name;
    /** @type {string} */
    this.kind = "crypto";
    /** @type {string} */
    this.code = "crypto_error";
  }
}

/** The bytes are not a CSL1 stream this code understands (magic, version, sizes, framing). */
export class StreamFormatError extends CryptoError {
  /** @param {string} message @param {{cause?: unknown}} [options] */
  constructor(message, options) {
    super(message, options);
    this.kind = "format";
    this.code = "stream_format";
  }
}

/** Wrong link key, data key or secret id, or bytes were altered, reordered or appended. */
export class StreamAuthenticationError extends CryptoError {
  /** @param {string} message @param {{cause?: unknown}} [options] */
  constructor(message, options) {
    super(message, options);
    this.kind = "authentication";
    this.code = "stream_authentication";
  }
}

/** The stream ends before its final record (cut off in transit or storage). */
export class StreamTruncatedError extends CryptoError {
  /** @param {string} message @param {{cause?: unknown}} [options] */
  constructor(message, options) {
    super(message, options);
    this.kind = "truncated";
    this.code = "stream_truncated";
  }
}

/** A sealed data key from the vault did not open with this key pair, secret and purpose. */
export class KeyTransportError extends CryptoError {
  /** @param {string} message @param {{cause?: unknown}} [options] */
  constructor(message, options) {
    super(message, options);
    this.kind = "key_transport";
  }
}

/** Text from outside (URL fragment, share code) that is not well formed. */
export class InvalidInputError extends Error {
  /**
   * @param {string} message
   * @param {{field?: string, cause?: unknown}} [options]
   */
  constructor(message, options = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.kind = "invalid_input";
    this.code = "invalid_input";
    /** @type {string | undefined} */
    this.field = options.field;
  }
}

export class InvalidShareCodeError extends InvalidInputError {
  /** @param {string} message @param {{field?: string, cause?: unknown}} [options] */
  constructor(message, options) {
    super(message, options);
    this.code = "invalid_share_code";
  }
}
