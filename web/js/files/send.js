/**
 * Sending one encrypted part: through the API (local blob store) or straight to storage with a
 * presigned URL (S3). XMLHttpRequest rather than fetch, because only it reports upload progress.
 */

import { apiRequest, csrfToken } from "../ui/api.js";

/** A failure worth another attempt: network trouble, a busy or failing server. */
export class RetryableError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = "RetryableError";
  }
}

/** A refusal another attempt cannot fix (the message says why). */
export class PartRefused extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = "PartRefused";
  }
}
export class Aborted extends Error {
  constructor() {
    super("cancelled");
    this.name = "AbortError";
  }
}

/**
 * @param {string} url
 * @param {Blob} body
 * @param {{headers?: Record<string, string>, onProgress?: (loaded: number) => void,
 *   signal?: AbortSignal}} options
 * @returns {Promise<{status: number, text: string}>}
 */
export function putWithProgress(url, body, { headers = {}, onProgress, signal } = {}) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new Aborted());
      return;
    }
    const request = new XMLHttpRequest();
    request.open("PUT", url);
    for (const [name, value] of Object.entries(headers)) request.setRequestHeader(name, value);
    if (onProgress) request.upload.onprogress = (event) => onProgress(event.loaded);
    const abort = () => request.abort();
    signal?.addEventListener("abort", abort, { once: true });
    request.onload = () => {
      signal?.removeEventListener("abort", abort);
      resolve({ status: request.status, text: request.responseText });
    };
    request.onerror = () => {
      signal?.removeEventListener("abort", abort);
      reject(new RetryableError("the connection failed"));
    };
    request.onabort = () => reject(new Aborted());
    request.send(body);
  });
}

/** @param {{status: number, text: string}} answer */
function apiMessage(answer) {
  try {
    return JSON.parse(answer.text).error.message;
  } catch {
    return `the server answered HTTP ${answer.status}`;
  }
}

/** @param {number} status */
function isRetryable(status) {
  return status === 0 || status === 408 || status === 429 || status >= 500;
}

/** Parts through the API: PUT {parts_url}/{n}. */
export class ApiPartSender {
  /** @param {string} partsUrl */
  constructor(partsUrl) {
    this.partsUrl = partsUrl;
  }

  /**
   * @param {number} number
   * @param {Blob} body
   * @param {{onProgress?: (loaded: number) => void, signal?: AbortSignal}} options
   */
  async send(number, body, options) {
    const answer = await putWithProgress(`${this.partsUrl}/${number}`, body, {
      ...options,
      headers: { "Content-Type": "application/octet-stream", "X-CSRF-Token": csrfToken() },
    });
    if (answer.status === 204) return;
    const message = `part ${number}: ${apiMessage(answer)}`;
    throw isRetryable(answer.status) ? new RetryableError(message) : new PartRefused(message);
  }
}

const URL_BATCH = 16;

/** Parts straight to storage: presigned URLs asked for in batches, refreshed when refused. */
export class DirectPartSender {
  /**
   * @param {string} urlsEndpoint POST {parts: [n...]} -> {urls: {n: url}}
   * @param {number} partCount
   */
  constructor(urlsEndpoint, partCount) {
    this.urlsEndpoint = urlsEndpoint;
    this.partCount = partCount;
    /** @type {Map<number, Promise<string>>} */
    this._urls = new Map();
  }

  /** @param {number} number */
  _url(number) {
    if (!this._urls.has(number)) {
      const batch = [];
      for (let next = number; next <= this.partCount && batch.length < URL_BATCH; next++) {
        if (!this._urls.has(next)) batch.push(next);
      }
      const answer = apiRequest("POST", this.urlsEndpoint, { parts: batch });
      for (const part of batch) {
        this._urls.set(part, answer.then(
          (/** @type {{urls: Record<string, string>}} */ body) => body.urls[part],
          (error) => {
            this._urls.delete(part); // the next attempt asks again
            throw error;
          },
        ));
      }
    }
    return /** @type {Promise<string>} */ (this._urls.get(number));
  }

  /**
   * @param {number} number
   * @param {Blob} body
   * @param {{onProgress?: (loaded: number) => void, signal?: AbortSignal}} options
   */
  async send(number, body, options) {
    const url = await this._url(number);
    const answer = await putWithProgress(url, body, options);
    if (answer.status >= 200 && answer.status < 300) return;
    // 403: the URL expired (a slow link, a sleeping laptop); a fresh one is one request away.
    if (answer.status === 403) this._urls.delete(number);
    const message = `part ${number}: storage answered HTTP ${answer.status}`;
    throw isRetryable(answer.status) || answer.status === 403
      ? new RetryableError(message) : new PartRefused(message);
  }
}
