/**
 * The share page's file half: after the view, read the stream header (it binds the sealed
 * metadata), show the file's name, size and type, and save it through the download worker.
 * The download link works for 10 minutes, so Try again does not use another view.
 */

import { DownloadFailed } from "../files/decrypt.js";
import { saveFile } from "../files/download.js";
import { formatBytes } from "../files/progress.js";
import { safeFileName } from "../formats/index.js";
import { HEADER_SIZE, decodeBase64url, openMeta } from "../lib/index.js";
import { byId, hide, show, showMessage } from "./dom.js";
import { ProgressView } from "./progress.js";

const LINK_LIFETIME_MS = 10 * 60 * 1000;

/**
 * The first bytes of the ciphertext, without fetching the rest.
 * @param {string} url
 */
async function streamHeader(url) {
  const response = await fetch(url, {
    headers: { Range: `bytes=0-${HEADER_SIZE - 1}` }, credentials: "same-origin", cache: "no-store",
  });
  if (!response.ok || !response.body) throw new DownloadFailed(`The file could not be fetched (HTTP ${response.status}).`, "network");
  const reader = response.body.getReader();
  const header = new Uint8Array(HEADER_SIZE);
  let filled = 0;
  while (filled < HEADER_SIZE) {
    const { done, value } = await reader.read();
    if (done) break;
    const take = value.subarray(0, HEADER_SIZE - filled);
    header.set(take, filled);
    filled += take.length;
  }
  reader.cancel().catch(() => {});
  if (filled < HEADER_SIZE) throw new DownloadFailed("The stored file is damaged (too short).", "integrity");
  return header;
}

/**
 * @param {{download_url: string, sealed_meta: string, secret_id: string, burned: boolean}} revealed
 *   the API's reveal answer for a file
 * @param {Uint8Array} linkKey
 * @param {Uint8Array} dataKey
 * @returns {Promise<{name: string, burned: boolean}>}
 */
export async function showAndSaveFile(revealed, linkKey, dataKey) {
  const header = await streamHeader(revealed.download_url);
  const meta = await openMeta(decodeBase64url(revealed.sealed_meta), linkKey, dataKey,
    revealed.secret_id, header.subarray(8, 24));
  const name = safeFileName(meta.name);
  byId("file-name").textContent = name;
  byId("file-size").textContent = `${formatBytes(meta.size)} (${meta.size.toLocaleString("en-US")} bytes)`;
  byId("file-type").textContent = meta.type || "unknown";
  if (revealed.burned) show(byId("file-burn-notice"));
  show(byId("revealed-file"));

  const status = byId("download-status");
  const retry = /** @type {HTMLButtonElement} */ (byId("download-retry"));
  const keys = { linkKey: linkKey.slice(), dataKey: dataKey.slice() };
  const wipe = () => {
    keys.linkKey.fill(0);
    keys.dataKey.fill(0);
    hide(retry);
  };
  const expiry = setTimeout(wipe, LINK_LIFETIME_MS);

  const attempt = async () => {
    hide(retry);
    status.classList.remove("error");
    const view = new ProgressView(/** @type {HTMLProgressElement} */ (byId("download-progress")), status, meta.size);
    try {
      await saveFile({
        url: revealed.download_url, secretId: revealed.secret_id, linkKey: keys.linkKey,
        dataKey: keys.dataKey, meta, onProgress: (bytes) => view.update(bytes),
      });
      view.update(meta.size);
      showMessage(status, `Saved ${name} (${formatBytes(meta.size)}): check your downloads.`);
      clearTimeout(expiry);
      wipe();
    } catch (error) {
      const failure = error instanceof DownloadFailed ? error
        : new DownloadFailed("The file could not be saved in this browser.", "network");
      status.classList.add("error");
      status.setAttribute("role", "alert");
      showMessage(status, failure.message);
      // A damaged file stays damaged, and an expired link stays expired: no retry for those.
      if (failure.kind === "network" && keys.linkKey.some((byte) => byte !== 0)) show(retry);
    }
  };
  retry.addEventListener("click", attempt);
  await attempt();
  return { name, burned: revealed.burned };
}
