/**
 * The share page: moves the link key from the URL fragment into this tab's sessionStorage (so
 * it survives the sign-in round trip and leaves the address bar and history), then on
 * "Reveal content" gets the data key sealed to a fresh key pair and decrypts locally.
 */

import {
  decodeBase64url,
  decodeLinkKey,
  decryptContent,
  encodeBase64url,
  newRecipientKeyPair,
  openDataKey,
  openMeta,
} from "../lib/index.js";
import { ApiError, apiRequest } from "../ui/api.js";
import { byId, copyText, hide, show, showMessage } from "../ui/dom.js";

const STORAGE_PREFIX = "cipherslip:link-key:";

/** @param {string} shareCode */
function stashFragment(shareCode) {
  if (window.location.hash.length > 1) {
    window.sessionStorage.setItem(STORAGE_PREFIX + shareCode, window.location.hash.slice(1));
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }
}

/** @param {string} shareCode @returns {Uint8Array|null} */
function stashedLinkKey(shareCode) {
  const stored = window.sessionStorage.getItem(STORAGE_PREFIX + shareCode);
  if (!stored) return null;
  try {
    return decodeLinkKey(stored);
  } catch {
    return null;
  }
}

/** @param {string} shareCode */
async function reveal(shareCode) {
  const linkKey = stashedLinkKey(shareCode);
  if (!linkKey) throw new Error("missing link key");
  const { keyPair, publicKeyRaw } = await newRecipientKeyPair();
  const revealed = await apiRequest("POST", `/api/v1/shares/${shareCode}/reveal`, {
    public_key: encodeBase64url(publicKeyRaw),
  });
  const dataKey = await openDataKey(keyPair, decodeBase64url(revealed.sealed_key), revealed.secret_id, "reveal");
  try {
    const stream = decodeBase64url(revealed.content);
    const meta = await openMeta(decodeBase64url(revealed.sealed_meta), linkKey, dataKey,
      revealed.secret_id, stream.subarray(8, 24));
    const plaintext = await decryptContent(stream, linkKey, dataKey, revealed.secret_id);
    const text = new TextDecoder("utf-8", { fatal: true }).decode(plaintext);
    plaintext.fill(0);
    return { text, meta, viewsLeft: revealed.views_left, burned: revealed.burned };
  } finally {
    dataKey.fill(0);
    linkKey.fill(0);
  }
}

function setUpSharePage() {
  const panel = byId("reveal-panel");
  const shareCode = panel.dataset.shareCode ?? "";
  stashFragment(shareCode);
  const button = /** @type {HTMLButtonElement} */ (byId("reveal-button"));
  const errorBox = byId("reveal-error");
  if (!stashedLinkKey(shareCode)) {
    show(byId("key-missing"));
    button.disabled = true;
    return;
  }
  button.addEventListener("click", async () => {
    hide(errorBox);
    button.disabled = true;
    button.textContent = "Decrypting…";
    try {
      const { text, viewsLeft, burned } = await reveal(shareCode);
      /** @type {HTMLTextAreaElement} */ (byId("secret-text")).value = text;
      byId("views-left").textContent = viewsLeft === null ? "Unlimited" : String(viewsLeft);
      if (burned) {
        show(byId("burn-notice"));
        window.sessionStorage.removeItem(STORAGE_PREFIX + shareCode);
      }
      hide(panel);
      show(byId("revealed"));
    } catch (error) {
      if (error instanceof ApiError && error.status === 410) {
        window.sessionStorage.removeItem(STORAGE_PREFIX + shareCode);
        window.location.reload();  // the server renders the Expired/Burned/Revoked page
        return;
      }
      const message = error instanceof ApiError ? error.message
        : "This link's key does not open the secret: the link may be damaged. Ask the sender for the full link.";
      showMessage(errorBox, message);
      button.disabled = false;
      button.textContent = "Reveal content";
    }
  });
  byId("copy-secret").addEventListener("click", () => {
    copyText(/** @type {HTMLTextAreaElement} */ (byId("secret-text")).value, byId("copy-status"));
  });
}

const signIn = document.getElementById("share-signin");
if (signIn) {
  stashFragment(signIn.dataset.shareCode ?? "");
} else if (document.getElementById("reveal-panel")) {
  setUpSharePage();
}
