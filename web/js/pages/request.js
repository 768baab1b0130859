/**
 * A request's page (/r/CODE). The link's key waits in this tab (common.js put it there).
 *
 * - A responder: the key is checked against the request's key check first (a damaged link
 *   must never seal an answer), then the answer is encrypted here and sent exactly as a share
 *   is (ui/sealing.js), reserved through the request so that its only recipient is the
 *   requester.
 * - The requester, once answered: the answer opens as any share, with this same key.
 */

import { FILE_MAX_BYTES } from "../files/plan.js";
import { Aborted, uploadFile } from "../files/upload.js";
import { decodeBase64url, deriveKeyCheck, encodeBase64url, keyChecksMatch, newRecipientKeyPair }
  from "../lib/index.js";
import { ApiError, apiRequest } from "../ui/api.js";
import { byId, hide, show, showMessage } from "../ui/dom.js";
import { checkFormatInto } from "../ui/formaterrors.js";
import {
  lendKey,
  requestKeyFromOtherTabs,
  requestSlot,
  shareKeysWithOtherTabs,
  stashedLinkKey,
} from "../ui/linkkeys.js";
import { ProgressView } from "../ui/progress.js";
import { setUpMagicLinkForm, setUpSharePage } from "../ui/revealpage.js";
import { sealAndComplete } from "../ui/sealing.js";

const page = document.getElementById("request") ?? byId("request-signin");
const requestCode = page.dataset.requestCode ?? "";
const slot = requestSlot(requestCode);
const encoder = new TextEncoder();

/** @returns {Promise<Uint8Array | null>} this request's link key, if this tab has it */
async function linkKey() {
  if (!stashedLinkKey(slot)) await requestKeyFromOtherTabs(slot);
  return stashedLinkKey(slot);
}

async function setUpAnswerForm() {
  const form = /** @type {HTMLFormElement} */ (byId("answer-form"));
  const button = /** @type {HTMLButtonElement} */ (byId("answer-button"));
  const formatSelect = /** @type {HTMLSelectElement} */ (byId("format"));
  const content = /** @type {HTMLTextAreaElement} */ (byId("content"));
  const fileInput = /** @type {HTMLInputElement} */ (byId("file"));
  const formError = byId("form-error");
  const requestId = form.dataset.requestId ?? "";
  const textMaxBytes = Number(form.dataset.textMaxBytes);

  const held = await linkKey();
  const stored = form.dataset.keyCheck ? decodeBase64url(form.dataset.keyCheck) : null;
  const matches = held !== null && stored !== null
    && keyChecksMatch(await deriveKeyCheck(held, requestId), stored);
  held?.fill(0);
  if (!matches) {
    show(byId("answer-key-missing"));
    hide(form);
    return;
  }

  const isFile = () => formatSelect.value === "file";
  const showFields = () => {
    byId("text-group").hidden = isFile();
    byId("file-group").hidden = !isFile();
  };
  formatSelect.addEventListener("change", showFields);
  showFields();

  /** @returns {string | null} what is wrong, in words */
  function problem() {
    if (isFile()) {
      const file = fileInput.files?.[0];
      if (!file) return "Choose the file to send.";
      if (file.size > FILE_MAX_BYTES) return "A file is at most 1 GiB.";
      return null;
    }
    const bytes = encoder.encode(content.value).length;
    if (bytes === 0) return "Type or paste your answer.";
    if (bytes > textMaxBytes) return `The answer is at most ${textMaxBytes.toLocaleString("en-US")} bytes.`;
    const format = /** @type {"text"|"json"|"yaml"|"env"} */ (formatSelect.value);
    const name = formatSelect.selectedOptions[0].textContent?.split(" ")[0] ?? format;
    if (!checkFormatInto(byId("format-errors"), format, content.value, name)) {
      return "Fix the errors shown under your answer.";
    }
    return null;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    hide(formError);
    const wrong = problem();
    if (wrong) {
      showMessage(formError, wrong);
      return;
    }
    button.disabled = true;
    button.textContent = "Encrypting…";
    const format = /** @type {import("../lib/meta.js").ContentFormat} */ (formatSelect.value);
    const file = isFile() ? /** @type {File} */ (fileInput.files?.[0]) : null;
    const key = await linkKey();
    try {
      if (!key) throw new Error("the link's key is gone from this tab");
      const { keyPair, publicKeyRaw } = await newRecipientKeyPair();
      const created = await apiRequest("POST", `/api/v1/requests/${requestCode}/answer`, {
        format, public_key: encodeBase64url(publicKeyRaw), ...(file ? { plaintext_size: file.size } : {}),
      });
      await sealAndComplete({
        created, keyPair, linkKey: key,
        content: { format, text: file ? null : encoder.encode(content.value), file },
        uploadFile: (chosen, reserved, sealingKey, dataKey) => sendFile(chosen, reserved, sealingKey, dataKey),
      });
      content.value = "";
      fileInput.value = "";
      hide(form);
      show(byId("answer-sent"));
      byId("answer-sent").focus();
    } catch (error) {
      let message = "Encryption failed in this browser; nothing was sent.";
      if (error instanceof ApiError) message = error.message;
      else if (error instanceof Aborted) message = "Cancelled; nothing was sent.";
      else if (error instanceof Error && error.name === "PartRefused") message = `The upload was refused: ${error.message}.`;
      else if (error instanceof Error && error.name === "RetryableError") {
        message = `The upload failed after several attempts (${error.message}); nothing was sent.`;
      }
      showMessage(formError, message);
      button.disabled = false;
      button.textContent = "Send answer";
    } finally {
      key?.fill(0);
    }
  });
  button.disabled = false;
}

/**
 * @param {File} file
 * @param {any} created
 * @param {Uint8Array} key
 * @param {Uint8Array} dataKey
 */
async function sendFile(file, created, key, dataKey) {
  byId("upload-name").textContent = file.name;
  const bar = /** @type {HTMLProgressElement} */ (byId("upload-progress"));
  /** @type {ProgressView | null} */
  let view = null;
  show(byId("upload"));
  try {
    return await uploadFile({
      file, created, linkKey: key, dataKey, signal: new AbortController().signal,
      onProgress: (sent, total) => {
        view ??= new ProgressView(bar, byId("upload-status"), total);
        view.update(sent);
      },
    });
  } finally {
    hide(byId("upload"));
  }
}

// A sign-in link from an email opens in a new tab: this tab may have to hand it the key.
shareKeysWithOtherTabs();
const panel = document.getElementById("reveal-panel");
if (document.getElementById("request-signin")) {
  // An external responder proves their address with an emailed link, as a share's recipient.
  setUpMagicLinkForm(`/api/v1/requests/${requestCode}/magic-link`);
} else if (panel) {
  // The requester's answer opens with the request link's key.
  lendKey(slot, panel.dataset.shareCode ?? "");
  setUpSharePage();
} else if (document.getElementById("answer-form")) {
  setUpAnswerForm();
}
