/**
 * Save a revealed file under its own name without holding it in memory: a same-origin service
 * worker (/download-sw.js, scope /download/) answers a download navigation with the decrypted
 * stream, so the browser's download manager writes it to disk as it is decrypted — the approach
 * Firefox Send used. Where service workers are unavailable (some private modes, old browsers),
 * the file is decrypted in the page into a Blob (the browser may keep that on disk) and saved.
 */

import { safeFileName } from "../formats/index.js";
import { DownloadFailed, decryptedStream } from "./decrypt.js";

const WORKER_URL = "/download-sw.js";
const WORKER_SCOPE = "/download/";
const START_TIMEOUT_MS = 10_000;
export const TRUSTED_TYPES_POLICY = "download-worker";

/**
 * @typedef {object} DownloadJob
 * @property {string} url the one-time download link
 * @property {string} secretId
 * @property {Uint8Array} linkKey
 * @property {Uint8Array} dataKey
 * @property {{name: string | null, type: string, size: number}} meta the sealed metadata
 * @property {(plainBytes: number) => void} onProgress
 */

/**
 * The worker's script URL. Pages enforce Trusted Types, so a script URL must come from a policy;
 * this one allows exactly the download worker (the CSP allows only this policy name).
 * @returns {any}
 */
function workerScriptUrl() {
  const trustedTypes = /** @type {any} */ (globalThis).trustedTypes;
  if (!trustedTypes) return WORKER_URL;
  policy ??= trustedTypes.createPolicy(TRUSTED_TYPES_POLICY, {
    createScriptURL: (/** @type {string} */ url) => {
      if (url !== WORKER_URL) throw new TypeError(`${url} is not the download worker`);
      return url;
    },
  });
  return policy.createScriptURL(WORKER_URL);
}

/** @type {any} */
let policy = null;

/** @returns {Promise<ServiceWorker | null>} the active download worker, or null without one */
async function downloadWorker() {
  if (!("serviceWorker" in navigator)) return null;
  try {
    const registration = await navigator.serviceWorker.register(workerScriptUrl(), { scope: WORKER_SCOPE });
    const worker = registration.active ?? registration.waiting ?? registration.installing;
    if (!worker) return null;
    if (worker.state !== "activated") {
      await new Promise((resolve, reject) => {
        worker.addEventListener("statechange", () => {
          if (worker.state === "activated") resolve(undefined);
          if (worker.state === "redundant") reject(new Error("the download worker failed to start"));
        });
      });
    }
    return registration.active;
  } catch {
    return null; // blocked or unsupported: the in-page fallback still works
  }
}

/**
 * @param {ServiceWorker} worker
 * @param {DownloadJob} job
 * @returns {Promise<"saved" | "not started">}
 */
function downloadThroughWorker(worker, job) {
  const id = crypto.randomUUID();
  const channel = new MessageChannel();
  return new Promise((resolve, reject) => {
    let started = false;
    const timer = setTimeout(() => {
      if (!started) {
        channel.port1.close();
        resolve("not started");
      }
    }, START_TIMEOUT_MS);
    channel.port1.onmessage = (event) => {
      const message = event.data;
      if (message.type === "ready") {
        const link = document.createElement("a");
        link.href = `${WORKER_SCOPE}${id}/${encodeURIComponent(safeFileName(job.meta.name))}`;
        link.click();
      } else if (message.type === "started") {
        started = true;
        clearTimeout(timer);
      } else if (message.type === "progress") {
        job.onProgress(message.bytes);
      } else if (message.type === "done") {
        channel.port1.close();
        resolve("saved");
      } else if (message.type === "error") {
        clearTimeout(timer);
        channel.port1.close();
        reject(new DownloadFailed(message.message, message.kind));
      }
    };
    worker.postMessage({
      type: "download", id, url: new URL(job.url, location.href).href, secretId: job.secretId,
      linkKey: job.linkKey, dataKey: job.dataKey, name: safeFileName(job.meta.name),
      size: job.meta.size,
    }, [channel.port2]);
  });
}

/** @param {DownloadJob} job */
async function downloadInPage(job) {
  /** @type {DownloadFailed | null} */
  let failure = null;
  const stream = decryptedStream({
    url: job.url, secretId: job.secretId, linkKey: job.linkKey, dataKey: job.dataKey,
    size: job.meta.size, onProgress: job.onProgress, onError: (error) => { failure = error; },
  });
  let blob;
  try {
    blob = await new Response(stream).blob();
  } catch (error) {
    throw failure ?? error;
  }
  const url = URL.createObjectURL(new Blob([blob], { type: "application/octet-stream" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = safeFileName(job.meta.name);
  link.click();
  // The download has its own reference to the blob by now; give it a moment to start.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * @param {DownloadJob} job
 * @returns {Promise<"service worker" | "in page">} how it was saved
 */
export async function saveFile(job) {
  const worker = await downloadWorker();
  if (worker && await downloadThroughWorker(worker, job) === "saved") return "service worker";
  await downloadInPage(job);
  return "in page";
}
