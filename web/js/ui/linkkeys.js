/**
 * Where a share link's key waits between page loads: this tab's sessionStorage (never sent,
 * gone when the tab closes). A magic link from an email usually opens in a *new* tab, which
 * has no sessionStorage of its own, so tabs of this origin hand keys to each other over a
 * BroadcastChannel, in memory, on request. Nothing is ever written to persistent storage.
 */

import { decodeLinkKey } from "../lib/linkkey.js";

const STORAGE_PREFIX = "cipherslip:link-key:";
const CHANNEL = "cipherslip-link-keys";

/**
 * Move the key from the URL fragment into this tab, and out of the address bar and history.
 * @param {string} shareCode
 */
export function stashFragment(shareCode) {
  if (window.location.hash.length > 1) {
    window.sessionStorage.setItem(STORAGE_PREFIX + shareCode, window.location.hash.slice(1));
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }
}

/** @param {string} shareCode @returns {string|null} the stashed fragment text */
function stashedText(shareCode) {
  return window.sessionStorage.getItem(STORAGE_PREFIX + shareCode);
}

/** @param {string} shareCode @returns {Uint8Array|null} a fresh copy of the link key */
export function stashedLinkKey(shareCode) {
  const stored = stashedText(shareCode);
  if (!stored) return null;
  try {
    return decodeLinkKey(stored);
  } catch {
    return null;
  }
}

/**
 * Where a request's key waits: a request link's key answers the request and, for its
 * requester, opens the answer.
 * @param {string} requestCode
 */
export function requestSlot(requestCode) {
  return `request:${requestCode}`;
}

/**
 * Let `shareCode` use the key stashed under `slot` (a request's), unless it has its own.
 * @param {string} slot
 * @param {string} shareCode
 */
export function lendKey(slot, shareCode) {
  const stored = stashedText(slot);
  if (stored && !stashedText(shareCode)) {
    window.sessionStorage.setItem(STORAGE_PREFIX + shareCode, stored);
  }
}

/** @param {string} shareCode */
export function forgetLinkKey(shareCode) {
  window.sessionStorage.removeItem(STORAGE_PREFIX + shareCode);
}

/** Answer other tabs that need a key this tab holds. */
export function shareKeysWithOtherTabs() {
  if (!("BroadcastChannel" in window)) return;
  const channel = new BroadcastChannel(CHANNEL);
  channel.addEventListener("message", (event) => {
    const request = event.data;
    if (!request || request.type !== "need-key" || typeof request.shareCode !== "string") return;
    const stored = stashedText(request.shareCode);
    if (stored) channel.postMessage({ type: "key", shareCode: request.shareCode, key: stored });
  });
}

/**
 * Ask other open tabs for the key of `shareCode`; stash it here if one answers in time.
 * @param {string} shareCode
 * @param {number} waitMs
 * @returns {Promise<boolean>} whether this tab now holds the key
 */
export function requestKeyFromOtherTabs(shareCode, waitMs = 800) {
  if (!("BroadcastChannel" in window)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const channel = new BroadcastChannel(CHANNEL);
    /** @param {boolean} found */
    const finish = (found) => {
      window.clearTimeout(timer);
      channel.close();
      resolve(found);
    };
    const timer = window.setTimeout(() => finish(false), waitMs);
    channel.addEventListener("message", (event) => {
      const answer = event.data;
      if (answer && answer.type === "key" && answer.shareCode === shareCode
          && typeof answer.key === "string") {
        window.sessionStorage.setItem(STORAGE_PREFIX + shareCode, answer.key);
        finish(stashedLinkKey(shareCode) !== null);
      }
    });
    channel.postMessage({ type: "need-key", shareCode });
  });
}
