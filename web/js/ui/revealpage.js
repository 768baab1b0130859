/**
 * What a share page does (and a request page showing its answer): moves the link key from the URL fragment into this tab's sessionStorage (so
 * it survives the sign-in round trip and leaves the address bar and history), then on
 * "Reveal content" / "Download file" gets the data key sealed to a fresh key pair and decrypts
 * locally: text is shown in its format; a file is decrypted as it downloads.
 */

import { DownloadFailed } from "../files/decrypt.js";
import { fileNameFor, mediaTypeFor, prettyForDisplay } from "../formats/index.js";
import {
  decodeBase64url,
  decryptContent,
  deriveKeyCheck,
  encodeBase64url,
  keyChecksMatch,
  newRecipientKeyPair,
  openDataKey,
  openMeta,
} from "../lib/index.js";
import { ApiError, apiRequest } from "./api.js";
import { byId, copyText, hide, show, showMessage } from "./dom.js";
import {
  forgetLinkKey,
  requestKeyFromOtherTabs,
  stashFragment,
  stashedLinkKey,
} from "./linkkeys.js";
import { showAndSaveFile } from "./revealfile.js";

const FORMAT_NAMES = { text: "Text", json: "JSON", yaml: "YAML", env: "Env" };

/**
 * @param {any} revealed the API's reveal answer for a text secret
 * @param {Uint8Array} linkKey
 * @param {Uint8Array} dataKey
 * @param {string} label
 */
async function showText(revealed, linkKey, dataKey, label) {
  const stream = decodeBase64url(revealed.content);
  const meta = await openMeta(decodeBase64url(revealed.sealed_meta), linkKey, dataKey,
    revealed.secret_id, stream.subarray(8, 24));
  const plaintext = await decryptContent(stream, linkKey, dataKey, revealed.secret_id);
  const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(plaintext);
  plaintext.fill(0);
  const format = /** @type {import("../formats/files.js").TextFormat} */ (
    meta.format in FORMAT_NAMES ? meta.format : "text");
  const shown = prettyForDisplay(format, text);
  const box = /** @type {HTMLTextAreaElement} */ (byId("secret-text"));
  box.value = shown;
  box.rows = Math.min(30, Math.max(8, shown.split("\n").length + 1));
  byId("secret-format").textContent = FORMAT_NAMES[/** @type {keyof FORMAT_NAMES} */ (format)];
  // Copy and download give the original exactly; only the display is re-indented.
  byId("copy-secret").addEventListener("click", () => copyText(text, byId("copy-status")));
  byId("download-text").addEventListener("click", () => {
    const url = URL.createObjectURL(new Blob([text], { type: mediaTypeFor(format) }));
    const link = document.createElement("a");
    link.href = url;
    link.download = fileNameFor(format, label);
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  });
  if (revealed.burned) show(byId("burn-notice"));
  show(byId("revealed"));
}

/**
 * Whether this tab's link key is the one the secret was shared with, before any view is used.
 * Secrets shared before key checks existed have none: their page cannot tell.
 * @param {HTMLElement} panel carries the secret's id and key check
 * @param {Uint8Array} linkKey
 * @returns {Promise<{ matches: boolean, keyCheck: Uint8Array | null }>}
 */
async function checkLinkKey(panel, linkKey) {
  const stored = panel.dataset.keyCheck;
  if (!stored) return { matches: true, keyCheck: null };
  const keyCheck = await deriveKeyCheck(linkKey, panel.dataset.secretId ?? "");
  return { matches: keyChecksMatch(keyCheck, decodeBase64url(stored)), keyCheck };
}

/**
 * @param {HTMLElement} panel
 * @param {string} shareCode
 * @param {string} label
 */
async function reveal(panel, shareCode, label) {
  const linkKey = stashedLinkKey(shareCode);
  if (!linkKey) throw new Error("missing link key");
  const { keyCheck } = await checkLinkKey(panel, linkKey);
  const { keyPair, publicKeyRaw } = await newRecipientKeyPair();
  const revealed = await apiRequest("POST", `/api/v1/shares/${shareCode}/reveal`, {
    public_key: encodeBase64url(publicKeyRaw),
    ...(keyCheck ? { key_check: encodeBase64url(keyCheck) } : {}),
  });
  const dataKey = await openDataKey(keyPair, decodeBase64url(revealed.sealed_key), revealed.secret_id, "reveal");
  byId("views-left").textContent = revealed.views_left === null ? "Unlimited" : String(revealed.views_left);
  if (revealed.burned) forgetLinkKey(shareCode);
  try {
    hide(byId("reveal-panel"));
    if (revealed.download_url) await showAndSaveFile(revealed, linkKey, dataKey);
    else await showText(revealed, linkKey, dataKey, label);
  } catch (error) {
    show(byId("reveal-panel"));
    throw error;
  } finally {
    dataKey.fill(0);
    linkKey.fill(0);
  }
}

/**
 * The link's key is missing, cut off or altered: say so, and offer nothing that spends a view.
 * A whole link opened afterwards (in this tab) replaces the damaged key.
 * @param {string} shareCode
 */
function showDamagedLink(shareCode) {
  forgetLinkKey(shareCode);
  show(byId("key-missing"));
  hide(byId("reveal-button"));
  hide(byId("reveal-cost"));
}

export async function setUpSharePage() {
  const panel = byId("reveal-panel");
  const shareCode = panel.dataset.shareCode ?? "";
  stashFragment(shareCode);
  const button = /** @type {HTMLButtonElement} */ (byId("reveal-button"));
  const idleText = button.textContent ?? "";
  const errorBox = byId("reveal-error");
  button.disabled = true;
  // Opened from an email sign-in link in a new tab: the tab holding the link may pass the key.
  if (!stashedLinkKey(shareCode) && !(await requestKeyFromOtherTabs(shareCode))) {
    showDamagedLink(shareCode);
    return;
  }
  const linkKey = /** @type {Uint8Array} */ (stashedLinkKey(shareCode));
  const { matches } = await checkLinkKey(panel, linkKey);
  linkKey.fill(0);
  if (!matches) {
    showDamagedLink(shareCode);
    return;
  }
  button.disabled = false;
  button.addEventListener("click", async () => {
    hide(errorBox);
    button.disabled = true;
    button.textContent = "Decrypting…";
    try {
      await reveal(panel, shareCode, panel.dataset.label ?? "");
    } catch (error) {
      if (error instanceof ApiError && error.status === 410) {
        forgetLinkKey(shareCode);
        window.location.reload();  // the server renders the Expired/Burned/Revoked page
        return;
      }
      const message = error instanceof ApiError || error instanceof DownloadFailed ? error.message
        : "This link's key does not open the secret: the link may be damaged. Ask the sender for the full link.";
      showMessage(errorBox, message);
      button.disabled = false;
      button.textContent = idleText;
    }
  });
}

/**
 * The visitor page of an external secret: ask for a sign-in link by email.
 * @param {string} endpoint where to ask for the link (a share's, or a request's)
 */
export function setUpMagicLinkForm(endpoint) {
  const form = document.getElementById("magic-link-form");
  if (!form) return;
  const emailInput = /** @type {HTMLInputElement} */ (byId("magic-email"));
  const button = /** @type {HTMLButtonElement} */ (byId("magic-link-button"));
  const statusBox = byId("magic-link-status");
  const errorBox = byId("magic-link-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    hide(statusBox);
    hide(errorBox);
    button.disabled = true;
    try {
      const answer = await apiRequest("POST", endpoint,
        { email: emailInput.value });
      showMessage(statusBox, answer.message);
    } catch (error) {
      showMessage(errorBox, error instanceof ApiError ? error.message
        : "The request failed; check your connection and try again.");
    } finally {
      button.disabled = false;
    }
  });
}
