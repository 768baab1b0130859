/**
 * The download service worker (scope /download/). A page posts it a download job — the one-time
 * link, the keys and the file's name and size — then navigates to /download/{job id}/{name};
 * this worker answers that navigation with the decrypted stream, which the browser saves as a
 * download. Jobs are single-use and forgotten after a minute unclaimed, keys included.
 */

import { decryptedStream } from "../files/decrypt.js";

const UNCLAIMED_JOB_MS = 60_000;
const PROGRESS_EVERY_BYTES = 1 << 20;

/** @type {ServiceWorkerGlobalScope} */
const worker = /** @type {any} */ (self);
/** @type {Map<string, any>} */
const jobs = new Map();

/** @param {any} job */
function forget(job) {
  jobs.delete(job.id);
  job.linkKey.fill(0);
  job.dataKey.fill(0);
}

worker.addEventListener("install", () => worker.skipWaiting());
worker.addEventListener("activate", (event) => event.waitUntil(worker.clients.claim()));

worker.addEventListener("message", (event) => {
  const job = event.data;
  const port = event.ports[0];
  if (!job || job.type !== "download" || !port || new URL(job.url).origin !== worker.location.origin) {
    return;
  }
  jobs.set(job.id, { ...job, port });
  setTimeout(() => {
    if (jobs.has(job.id)) forget(jobs.get(job.id));
  }, UNCLAIMED_JOB_MS);
  port.postMessage({ type: "ready" });
});

/**
 * RFC 6266 / 5987: an ASCII fallback and the exact UTF-8 name.
 * @param {string} name
 */
function contentDisposition(name) {
  const ascii = name.replace(/[^\x20-\x7E]|["\\%]/g, "_");
  const encoded = encodeURIComponent(name).replace(/['()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

worker.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  const [, scope, id] = url.pathname.split("/");
  if (url.origin !== worker.location.origin || scope !== "download" || !jobs.has(id)) return;
  const job = jobs.get(id);
  jobs.delete(id);
  const { port } = job;
  let reported = 0;
  /** @type {(value?: unknown) => void} */
  let settle = () => {};
  const finished = new Promise((resolve) => {
    settle = resolve;
  });
  const stream = decryptedStream({
    url: job.url, secretId: job.secretId, linkKey: job.linkKey, dataKey: job.dataKey,
    size: job.size,
    onProgress: (bytes) => {
      if (bytes - reported >= PROGRESS_EVERY_BYTES || bytes === job.size) {
        reported = bytes;
        port.postMessage({ type: "progress", bytes });
      }
    },
    onDone: () => {
      port.postMessage({ type: "done" });
      settle();
    },
    onError: (error) => {
      port.postMessage({ type: "error", message: error.message, kind: error.kind });
      settle();
    },
  });
  forget(job); // decryptedStream holds its own copies
  port.postMessage({ type: "started" });
  event.respondWith(new Response(stream, {
    headers: {
      "Content-Type": "application/octet-stream",
      "Content-Disposition": contentDisposition(job.name),
      "Content-Length": String(job.size),
      "X-Content-Type-Options": "nosniff",
    },
  }));
  // Keep the worker alive for as long as the download runs.
  event.waitUntil(finished);
});
