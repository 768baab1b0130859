/**
 * A revealed file's ciphertext, fetched and decrypted as a stream: the plaintext comes out as
 * the ciphertext arrives, pulled by whoever consumes it (the download manager, via the service
 * worker, or the in-page fallback), so memory stays bounded whatever the file's size.
 *
 * An interrupted transfer resumes with an HTTP Range request from the byte where it stopped.
 * A stream that does not authenticate, ends early or has the wrong size ends in an error —
 * never in a short file.
 */

import {
  Csl1StreamDecryptor,
  StreamAuthenticationError,
  StreamFormatError,
  StreamTruncatedError,
} from "../lib/index.js";

const RESUME_ATTEMPTS = 3;

export class DownloadFailed extends Error {
  /** @param {string} message @param {"integrity" | "network" | "expired"} kind */
  constructor(message, kind) {
    super(message);
    this.name = "DownloadFailed";
    this.kind = kind;
  }
}

export const TAMPERED_MESSAGE = "The file failed its integrity check: the stored copy was altered "
  + "or damaged, so nothing was saved. Ask the sender to share it again.";

/** @param {unknown} error */
function explain(error) {
  if (error instanceof DownloadFailed) return error;
  if (error instanceof StreamAuthenticationError || error instanceof StreamFormatError
      || error instanceof StreamTruncatedError) {
    return new DownloadFailed(TAMPERED_MESSAGE, "integrity");
  }
  return new DownloadFailed("The download was interrupted. Try again: the link works for "
    + "10 minutes after the view.", "network");
}

/**
 * @param {string} url the one-time download link
 * @param {number} from first ciphertext byte wanted
 * @param {typeof fetch} fetchImpl
 */
async function openCiphertext(url, from, fetchImpl) {
  /** @type {Record<string, string>} */
  const headers = from > 0 ? { Range: `bytes=${from}-` } : {};
  const response = await fetchImpl(url, { headers, credentials: "same-origin", cache: "no-store" });
  if (response.status === 404 || response.status === 403 || response.status === 410) {
    throw new DownloadFailed("This download link has expired (it works for 10 minutes after "
      + "the view). Reveal the secret again if views are left.", "expired");
  }
  if (!response.ok || !response.body) {
    throw new DownloadFailed(`The file could not be fetched (HTTP ${response.status}).`, "network");
  }
  if (from > 0 && response.status !== 206) {
    throw new DownloadFailed("The download could not resume; start it again.", "network");
  }
  return response.body.getReader();
}

/**
 * @param {object} options
 * @param {string} options.url
 * @param {string} options.secretId
 * @param {Uint8Array} options.linkKey copied; the caller may wipe its own
 * @param {Uint8Array} options.dataKey copied likewise
 * @param {number} options.size the plaintext size from the sealed metadata
 * @param {(plainBytes: number) => void} [options.onProgress]
 * @param {() => void} [options.onDone] the whole file decrypted and authenticated
 * @param {(error: DownloadFailed) => void} [options.onError]
 * @param {typeof fetch} [options.fetchImpl]
 * @returns {ReadableStream<Uint8Array>}
 */
export function decryptedStream({ url, secretId, linkKey, dataKey, size, onProgress, onDone,
  onError, fetchImpl = fetch.bind(globalThis) }) {
  const decryptor = new Csl1StreamDecryptor(linkKey, dataKey, secretId);
  let received = 0;
  let produced = 0;
  let resumes = 0;
  /** @type {ReadableStreamDefaultReader<Uint8Array> | null} */
  let reader = null;

  async function nextCiphertext() {
    for (;;) {
      try {
        reader ??= await openCiphertext(url, received, fetchImpl);
        return await reader.read();
      } catch (error) {
        if (error instanceof DownloadFailed || resumes >= RESUME_ATTEMPTS) throw error;
        resumes += 1;
        reader = null;
      }
    }
  }

  /** @param {ReadableStreamDefaultController<Uint8Array>} controller @param {Uint8Array} plain */
  function emit(controller, plain) {
    produced += plain.length;
    if (produced > size) throw new StreamFormatError("the file is longer than its metadata says");
    if (plain.length) controller.enqueue(plain);
  }

  return new ReadableStream({
    async pull(controller) {
      try {
        // Loop until something is enqueued (or the end), as pull() must make progress.
        for (;;) {
          const { done, value } = await nextCiphertext();
          if (done) {
            emit(controller, await decryptor.finish());
            if (produced !== size) throw new StreamTruncatedError("the file is shorter than its metadata says");
            onProgress?.(produced);
            controller.close();
            onDone?.();
            return;
          }
          received += value.length;
          // A network read's buffer is ours alone: no need for the decryptor to copy it.
          const records = await decryptor.push(value, { handedOver: true });
          for (const plain of records) emit(controller, plain);
          if (records.length) {
            onProgress?.(produced);
            return;
          }
        }
      } catch (error) {
        const failure = explain(error);
        onError?.(failure);
        controller.error(failure);
        reader?.cancel().catch(() => {});
      }
    },
    cancel() {
      reader?.cancel().catch(() => {});
    },
  }, { highWaterMark: 4 });
}
