/**
 * The create page: encrypts the secret in this browser and uploads only ciphertext.
 *
 * 1. ask the API to create the secret, sending a fresh public key; the vault's data key comes
 *    back HPKE-sealed to it;
 * 2. make the link key, encrypt (CSL1) and seal the metadata with link key + data key;
 * 3. upload (files: in parts, with progress and Cancel), complete, and show
 *    `{share_url}#{link key}`: the key exists only in that URL.
 */

import { FILE_MAX_BYTES } from "../files/plan.js";
import { formatBytes } from "../files/progress.js";
import { Aborted, uploadFile } from "../files/upload.js";
import { encodeBase64url, encodeLinkKey, generateLinkKey, newRecipientKeyPair } from "../lib/index.js";
import { ApiError, apiRequest } from "../ui/api.js";
import { byId, copyText, hide, show, showMessage } from "../ui/dom.js";
import { checkFormatInto } from "../ui/formaterrors.js";
import { localTime, relativeTime } from "../ui/times.js";
import { ProgressView } from "../ui/progress.js";
import { RecipientField } from "../ui/recipients.js";
import { abandon, sealAndComplete } from "../ui/sealing.js";

const form = /** @type {HTMLFormElement} */ (byId("create-form"));
const limits = {
  recipients: Number(form.dataset.recipientsMax),
  externalRecipients: Number(form.dataset.externalRecipientsMax),
  textBytes: Number(form.dataset.textMaxBytes),
  fileBytes: Number(form.dataset.fileMaxBytes) || FILE_MAX_BYTES,
  label: Number(form.dataset.labelMax),
  viewLimit: Number(form.dataset.viewLimitMax),
};
const content = /** @type {HTMLTextAreaElement} */ (byId("content"));
const fileInput = /** @type {HTMLInputElement} */ (byId("file"));
const formatSelect = /** @type {HTMLSelectElement} */ (byId("format"));
const formatErrors = byId("format-errors");
const formError = byId("form-error");
const shareButton = /** @type {HTMLButtonElement} */ (byId("share-button"));
const encoder = new TextEncoder();

/** @returns {"internal"|"external"} */
function audience() {
  const checked = /** @type {HTMLInputElement} */ (form.querySelector('input[name="audience"]:checked'));
  return checked.value === "external" ? "external" : "internal";
}

const recipients = new RecipientField(
  audience, (form.dataset.internalDomains ?? "").split(",").filter(Boolean), () => {
    const external = /** @type {HTMLInputElement} */ (
      form.querySelector('input[name="audience"][value="external"]'));
    external.checked = true;
    external.dispatchEvent(new Event("change", { bubbles: true }));
    external.focus();
  });

function recipientsMax() {
  return audience() === "external" ? limits.externalRecipients : limits.recipients;
}

function showAudienceHint() {
  const hint = byId("recipients-hint");
  hint.textContent = (audience() === "external" ? hint.dataset.external : hint.dataset.internal) ?? "";
}

for (const choice of form.querySelectorAll('input[name="audience"]')) {
  choice.addEventListener("change", () => {
    showAudienceHint();
    recipients.clearSuggestions();
    recipients.render();  // flags (or unflags) addresses outside the organization
  });
}

function isFile() {
  return formatSelect.value === "file";
}

function showFormatFields() {
  byId("text-group").hidden = isFile();
  byId("file-group").hidden = !isFile();
  hide(formatErrors);
}
formatSelect.addEventListener("change", showFormatFields);

// A draft from Slack's /share-secret arrives with its options already in the form.
if (form.dataset.draftRecipients) {
  recipients.input.value = form.dataset.draftRecipients;
  recipients.takeTyped();
}
showAudienceHint();
showFormatFields();

content.addEventListener("input", () => {
  byId("content-size").textContent = encoder.encode(content.value).length.toLocaleString("en-US");
  // Once errors are on screen, keep them current while they are being fixed.
  if (!formatErrors.hidden) checkFormat();
});

fileInput.addEventListener("change", () => {
  const file = fileInput.files?.[0];
  byId("file-size").textContent = file ? `Selected: ${formatBytes(file.size)}. ` : "";
});

/**
 * Show the format's errors, each with its line (and column where the format has one).
 * @returns {boolean} whether the content is valid for its format
 */
function checkFormat() {
  const format = /** @type {"text"|"json"|"yaml"|"env"} */ (formatSelect.value);
  const name = formatSelect.selectedOptions[0].textContent?.split(" ")[0] ?? format;
  return checkFormatInto(formatErrors, format, content.value, name);
}

/** @returns {number|null} null for unlimited */
function readViewLimit() {
  const mode = /** @type {HTMLInputElement} */ (form.querySelector('input[name="view-mode"]:checked'));
  if (mode.value === "unlimited") return null;
  return Number(/** @type {HTMLInputElement} */ (byId("view-limit")).value);
}

/** @returns {string|null} what is wrong with the form, in words */
function problemWithForm() {
  const invalid = recipients.takeTyped();
  if (invalid.length) return `Not an email address: ${invalid.join(", ")}`;
  if (recipients.emails.length === 0) return "Add at least one recipient.";
  const outsiders = recipients.outsiders();
  if (outsiders.length) {
    return `Outside your organization: ${outsiders.join(", ")}. Choose "External recipients" `
      + "to share with them (they confirm their address by email), or remove them.";
  }
  if (recipients.emails.length > recipientsMax()) {
    return `At most ${recipientsMax()} recipients per secret (you added ${recipients.emails.length}).`;
  }
  if (isFile()) {
    const file = fileInput.files?.[0];
    if (!file) return "Choose the file to share.";
    if (file.size > limits.fileBytes) {
      return `The file is ${file.size.toLocaleString("en-US")} bytes; the limit is `
        + `${limits.fileBytes.toLocaleString("en-US")} bytes (1 GiB).`;
    }
  } else {
    const bytes = encoder.encode(content.value).length;
    if (bytes === 0) return "Type or paste the secret to share.";
    if (bytes > limits.textBytes) {
      return `The secret is ${bytes.toLocaleString("en-US")} bytes; the limit is ${limits.textBytes.toLocaleString("en-US")}.`;
    }
    if (!checkFormat()) return "Fix the errors shown under the secret, or choose the Text format.";
  }
  if (/** @type {HTMLInputElement} */ (byId("label")).value.trim().length > limits.label) {
    return `The label is at most ${limits.label} characters.`;
  }
  const viewLimit = readViewLimit();
  if (viewLimit !== null && !(Number.isInteger(viewLimit) && viewLimit >= 1 && viewLimit <= limits.viewLimit)) {
    return `The view limit is a whole number from 1 to ${limits.viewLimit}.`;
  }
  return null;
}

/**
 * Create the secret, encrypt and upload, complete.
 * @param {AbortSignal} signal Cancel (files)
 * @returns {Promise<{ shareUrl: string, expiresAt: string }>} the full share URL, and when it
 *   expires (ISO 8601)
 */
async function encryptAndUpload(signal) {
  const format = /** @type {import("../lib/meta.js").ContentFormat} */ (formatSelect.value);
  const file = isFile() ? /** @type {File} */ (fileInput.files?.[0]) : null;
  const plaintext = file ? null : encoder.encode(content.value);
  const { keyPair, publicKeyRaw } = await newRecipientKeyPair();
  const created = await apiRequest("POST", "/api/v1/secrets", {
    audience: audience(),
    recipients: recipients.emails,
    format,
    label: /** @type {HTMLInputElement} */ (byId("label")).value.trim() || null,
    expires_in_seconds: Number(/** @type {HTMLSelectElement} */ (byId("expiry")).value),
    view_limit: readViewLimit(),
    public_key: encodeBase64url(publicKeyRaw),
    ...(file ? { plaintext_size: file.size } : {}),
    ...(form.dataset.draft ? { draft: form.dataset.draft } : {}),
  });
  // The draft is used up now; a retry after a failed upload is a plain new secret.
  delete form.dataset.draft;
  const linkKey = generateLinkKey();
  try {
    const completed = await sealAndComplete({
      created, keyPair, linkKey, content: { format, text: plaintext, file },
      uploadFile: (chosen, reserved, key, dataKey) => uploadWithProgress(chosen, reserved, key, dataKey, signal),
    });
    return { shareUrl: `${completed.share_url}#${encodeLinkKey(linkKey)}`,
      expiresAt: created.expires_at };
  } catch (error) {
    if (file) await abandon(created.id);
    throw error;
  } finally {
    linkKey.fill(0);
  }
}

/**
 * @param {File} file
 * @param {any} created
 * @param {Uint8Array} linkKey
 * @param {Uint8Array} dataKey
 * @param {AbortSignal} signal
 */
async function uploadWithProgress(file, created, linkKey, dataKey, signal) {
  byId("upload-name").textContent = file.name;
  const bar = /** @type {HTMLProgressElement} */ (byId("upload-progress"));
  /** @type {ProgressView | null} */
  let view = null;
  show(byId("upload"));
  byId("upload-title").focus();  // the progress is above the form: take the eye (and reader) there
  try {
    return await uploadFile({
      file, created, linkKey, dataKey, signal,
      onProgress: (sent, total) => {
        view ??= new ProgressView(bar, byId("upload-status"), total);
        view.update(sent);
      },
    });
  } finally {
    hide(byId("upload"));
  }
}

/** @type {AbortController | null} */
let running = null;
const warnBeforeLeaving = (/** @type {BeforeUnloadEvent} */ event) => event.preventDefault();

byId("upload-cancel").addEventListener("click", () => running?.abort());

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  hide(formError);
  const problem = problemWithForm();
  if (problem) {
    showMessage(formError, problem);
    return;
  }
  running = new AbortController();
  shareButton.disabled = true;
  shareButton.textContent = "Encrypting…";
  window.addEventListener("beforeunload", warnBeforeLeaving);
  try {
    const { shareUrl, expiresAt } = await encryptAndUpload(running.signal);
    content.value = "";
    fileInput.value = "";
    showResult(shareUrl, expiresAt);
  } catch (error) {
    let message = "Encryption failed in this browser; nothing was shared.";
    if (error instanceof Aborted || running.signal.aborted) message = "Upload cancelled; nothing was shared.";
    else if (error instanceof ApiError) message = error.message;
    else if (error instanceof Error && error.name === "PartRefused") message = `The upload was refused: ${error.message}.`;
    else if (error instanceof Error && error.name === "RetryableError") {
      message = `The upload failed after several attempts (${error.message}); nothing was shared.`;
    } else if (error instanceof Error && error.name === "NotReadableError") {
      message = "The file could not be read (was it moved or changed?); nothing was shared.";
    }
    showMessage(formError, message);
  } finally {
    window.removeEventListener("beforeunload", warnBeforeLeaving);
    running = null;
    shareButton.disabled = false;
    shareButton.textContent = "Share secret";
  }
});

/**
 * What was shared, with whom, until when and for how many views, and the whole link.
 * @param {string} shareUrl
 * @param {string} expiresAt ISO 8601
 */
function showResult(shareUrl, expiresAt) {
  const who = recipients.emails.join(", ");
  byId("result-recipients").textContent = audience() === "external"
    ? `${who} (outside the organization: they confirm their address by email)`
    : `${who} (they sign in with SSO)`;
  const viewLimit = readViewLimit();
  byId("result-views").textContent = viewLimit === null ? "Unlimited"
    : `${viewLimit} view${viewLimit === 1 ? "" : "s"}, then it is destroyed`;
  const expires = new Date(expiresAt);
  byId("result-expires").textContent = `${relativeTime(expires, new Date())} (${localTime(expires)})`;
  const link = /** @type {HTMLTextAreaElement} */ (byId("share-url"));
  link.value = shareUrl;
  hide(form);
  show(byId("result"));
  fitToContent(link);
  window.addEventListener("resize", () => fitToContent(link));
  byId("result-title").focus();
}

/** Grow the link's box to its whole text: a link cut off on screen gets copied cut off. */
function fitToContent(/** @type {HTMLTextAreaElement} */ box) {
  box.style.height = "auto";
  box.style.height = `${box.scrollHeight + 2}px`;
}

const copyButton = /** @type {HTMLButtonElement} */ (byId("copy-url"));
copyButton.addEventListener("click", async () => {
  const link = /** @type {HTMLTextAreaElement} */ (byId("share-url"));
  link.select();
  await copyText(link.value, byId("copy-status"));
  if (byId("copy-status").textContent?.startsWith("Copied")) {
    copyButton.textContent = "Copied ✓";
    copyButton.classList.add("copied");
    window.setTimeout(() => {
      copyButton.textContent = "Copy link";
      copyButton.classList.remove("copied");
    }, 2500);
  }
});

// Everything is wired: sharing may start. (Until now the button was disabled in the page, so a
// click on a slow device could not submit the form natively and lose what was typed.)
shareButton.disabled = false;
