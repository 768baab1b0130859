/**
 * Encrypt a file as a CSL1 stream and upload it in parts, never holding the whole file: each
 * part is read from its own slice of the file, sealed (128 records at once) and sent, a few parts
 * in flight at a time. A failed part is sent again; Cancel stops everything at once.
 */

import { Csl1Encryptor, RECORD_SIZE } from "../lib/index.js";
import { ApiError } from "../ui/api.js";
import { partsOf } from "./plan.js";
import { Aborted, ApiPartSender, DirectPartSender, PartRefused, RetryableError } from "./send.js";

export { Aborted } from "./send.js";

const PARTS_IN_FLIGHT = 4;
const RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000];

/**
 * @typedef {object} CreatedFile the API's answer to creating a file secret
 * @property {string} id
 * @property {import("./plan.js").UploadPlan} upload
 */

/**
 * @param {number} ms
 * @param {AbortSignal} signal
 */
function pause(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(new Aborted());
    }, { once: true });
  });
}

/** @param {unknown} error */
function worthRetrying(error) {
  if (error instanceof RetryableError) return true;
  return error instanceof ApiError && (error.status === 0 || error.status === 429 || error.status >= 500);
}

/**
 * Seal one part's records. Record positions are claimed synchronously, before any await, so
 * parts sealed one after another get consecutive record numbers.
 * @param {Csl1Encryptor} encryptor
 * @param {Uint8Array} plaintext the part's slice of the file
 * @param {import("./plan.js").Part} part
 * @returns {Promise<Blob>}
 */
function sealPart(encryptor, plaintext, part) {
  const sealing = [];
  for (let index = 0; index < part.recordCount; index++) {
    const final = part.hasFinalRecord && index === part.recordCount - 1;
    sealing.push(encryptor.sealRecord(
      plaintext.subarray(index * RECORD_SIZE, (index + 1) * RECORD_SIZE), { final },
    ));
  }
  return Promise.all(sealing).then((records) => {
    plaintext.fill(0);
    return new Blob(part.number === 1 ? [encryptor.header, ...records] : records);
  });
}

/**
 * @param {object} options
 * @param {File} options.file
 * @param {CreatedFile} options.created
 * @param {Uint8Array} options.linkKey
 * @param {Uint8Array} options.dataKey
 * @param {(sentBytes: number, totalBytes: number) => void} options.onProgress stream bytes sent
 * @param {AbortSignal} options.signal
 * @param {{send: ApiPartSender["send"]}} [options.sender] where parts go (default: from the plan)
 * @param {number[]} [options.retryDelaysMs] waits before each retry of a failed part
 * @returns {Promise<Uint8Array>} the stream's header salt (it binds the sealed metadata)
 */
export async function uploadFile({ file, created, linkKey, dataKey, onProgress, signal, sender,
  retryDelaysMs = RETRY_DELAYS_MS }) {
  const parts = partsOf(file.size, created.upload);
  const totalBytes = parts.reduce((sum, part) => sum + part.streamBytes, 0);
  sender ??= created.upload.direct
    ? new DirectPartSender(`${created.upload.parts_url}/urls`, parts.length)
    : new ApiPartSender(created.upload.parts_url);
  const partSender = sender;
  const encryptor = await Csl1Encryptor.create(linkKey, dataKey, created.id);
  // One failure stops the other parts too; the caller's Cancel does the same.
  const stop = new AbortController();
  const abortAll = () => stop.abort();
  signal.addEventListener("abort", abortAll, { once: true });
  /** @type {Map<number, number>} bytes of each part the server has (or is receiving) */
  const sent = new Map();
  const report = () => onProgress([...sent.values()].reduce((sum, bytes) => sum + bytes, 0), totalBytes);

  /**
   * @param {import("./plan.js").Part} part
   * @param {Blob} body
   */
  async function sendWithRetries(part, body) {
    for (let attempt = 0; ; attempt++) {
      try {
        await partSender.send(part.number, body, {
          signal: stop.signal,
          onProgress: (loaded) => {
            sent.set(part.number, Math.min(loaded, part.streamBytes));
            report();
          },
        });
        sent.set(part.number, part.streamBytes);
        report();
        return;
      } catch (error) {
        sent.set(part.number, 0);
        if (stop.signal.aborted) throw new Aborted();
        if (!worthRetrying(error) || attempt >= retryDelaysMs.length) throw error;
        await pause(retryDelaysMs[attempt], stop.signal);
      }
    }
  }

  /** @type {Set<Promise<void>>} */
  const inFlight = new Set();
  /** @type {unknown} */
  let failure = null;
  try {
    for (const part of parts) {
      while (inFlight.size >= PARTS_IN_FLIGHT && failure === null) await Promise.race(inFlight);
      if (failure !== null) break;
      if (stop.signal.aborted) throw new Aborted();
      const plaintext = new Uint8Array(await file.slice(part.plainStart, part.plainEnd).arrayBuffer());
      if (plaintext.length !== part.plainEnd - part.plainStart) {
        throw new PartRefused("the file changed while it was being read; choose it again");
      }
      const task = sealPart(encryptor, plaintext, part)
        .then((body) => sendWithRetries(part, body))
        .catch((error) => {
          if (failure === null) failure = error;
          stop.abort();
        })
        .finally(() => inFlight.delete(task));
      inFlight.add(task);
    }
    await Promise.all(inFlight);
    if (failure !== null) throw signal.aborted ? new Aborted() : failure;
    return encryptor.salt;
  } finally {
    stop.abort();
    signal.removeEventListener("abort", abortAll);
  }
}
