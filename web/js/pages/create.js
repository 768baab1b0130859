/**
 * The create page: encrypts the secret in this browser and uploads only ciphertext.
 *
 * 1. ask the API to create the secret, sending a fresh public key; the vault's data key comes
 *    back HPKE-sealed to it;
 * 2. make the link key, encrypt (CSL1) and seal the metadata with link key + data key;
 * 3. upload, complete, and show `{share_url}#{link key}`: the key exists only in that URL.
 */

import {
  decodeBase64url,
  encodeBase64url,
  encodeLinkKey,
  encryptContent,
  generateLinkKey,
  newRecipientKeyPair,
  openDataKey,
  sealMeta,
} from "../lib/index.js";
import { ApiError, apiRequest } from "../ui/api.js";
import { byId, copyText, hide, show, showMessage } from "../ui/dom.js";

const EMAIL = /^[^@\s,;<>()[\]"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;
const form = /** @type {HTMLFormElement} */ (byId("create-form"));
const limits = {
  recipients: Number(form.dataset.recipientsMax),
  externalRecipients: Number(form.dataset.externalRecipientsMax),
  textBytes: Number(form.dataset.textMaxBytes),
  label: Number(form.dataset.labelMax),
  viewLimit: Number(form.dataset.viewLimitMax),
};
const recipientInput = /** @type {HTMLInputElement} */ (byId("recipient-input"));
const recipientList = byId("recipient-list");
const suggestions = byId("recipient-suggestions");
const content = /** @type {HTMLTextAreaElement} */ (byId("content"));
const contentSize = byId("content-size");
const formError = byId("form-error");
const shareButton = /** @type {HTMLButtonElement} */ (byId("share-button"));
const encoder = new TextEncoder();

/** @type {string[]} */
const recipients = [];

/** @returns {"internal"|"external"} */
function audience() {
  const checked = /** @type {HTMLInputElement} */ (form.querySelector('input[name="audience"]:checked'));
  return checked.value === "external" ? "external" : "internal";
}

function recipientsMax() {
  return audience() === "external" ? limits.externalRecipients : limits.recipients;
}

for (const choice of form.querySelectorAll('input[name="audience"]')) {
  choice.addEventListener("change", () => {
    const hint = byId("recipients-hint");
    hint.textContent = (audience() === "external" ? hint.dataset.external : hint.dataset.internal) ?? "";
    suggestions.replaceChildren();
  });
}

function renderRecipients() {
  recipientList.replaceChildren(...recipients.map((email) => {
    const item = document.createElement("li");
    item.dataset.email = email;
    const text = document.createElement("span");
    text.textContent = email;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "×";
    remove.setAttribute("aria-label", `Remove ${email}`);
    remove.addEventListener("click", () => {
      recipients.splice(recipients.indexOf(email), 1);
      renderRecipients();
    });
    item.append(text, remove);
    return item;
  }));
}

/** Move whatever is typed or pasted in the input into the recipient list. */
function takeTypedRecipients() {
  const typed = recipientInput.value.split(/[\s,;]+/).map((part) => part.trim().toLowerCase())
    .filter(Boolean);
  const invalid = typed.filter((email) => !EMAIL.test(email));
  for (const email of typed) {
    if (EMAIL.test(email) && !recipients.includes(email)) recipients.push(email);
  }
  recipientInput.value = invalid.join(", ");
  renderRecipients();
  return invalid;
}

let suggestionTimer = 0;
recipientInput.addEventListener("input", () => {
  if (/[,;\s]/.test(recipientInput.value)) takeTypedRecipients();
  window.clearTimeout(suggestionTimer);
  const query = recipientInput.value.trim();
  // The org directory only helps with colleagues.
  if (query.length < 2 || audience() === "external") return;
  suggestionTimer = window.setTimeout(async () => {
    try {
      const users = await apiRequest("GET", `/api/v1/users?q=${encodeURIComponent(query)}`);
      suggestions.replaceChildren(...users.map((/** @type {{email: string, name: string}} */ user) => {
        const option = document.createElement("option");
        option.value = user.email;
        option.label = user.name;
        return option;
      }));
    } catch {
      // Suggestions are a convenience; typing the address still works.
    }
  }, 200);
});
recipientInput.addEventListener("keydown", (event) => {
  if (event.key === "Enter") {
    event.preventDefault();
    takeTypedRecipients();
  }
});
recipientInput.addEventListener("blur", () => takeTypedRecipients());

content.addEventListener("input", () => {
  contentSize.textContent = encoder.encode(content.value).length.toLocaleString("en-US");
});

/** @returns {string|null} what is wrong with the form, in words */
function problemWithForm() {
  const invalid = takeTypedRecipients();
  if (invalid.length) return `Not an email address: ${invalid.join(", ")}`;
  if (recipients.length === 0) return "Add at least one recipient.";
  if (recipients.length > recipientsMax()) {
    return `At most ${recipientsMax()} recipients per secret (you added ${recipients.length}).`;
  }
  const bytes = encoder.encode(content.value).length;
  if (bytes === 0) return "Type or paste the secret to share.";
  if (bytes > limits.textBytes) {
    return `The secret is ${bytes.toLocaleString("en-US")} bytes; the limit is ${limits.textBytes.toLocaleString("en-US")}.`;
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

/** @returns {number|null} null for unlimited */
function readViewLimit() {
  const mode = /** @type {HTMLInputElement} */ (form.querySelector('input[name="view-mode"]:checked'));
  if (mode.value === "unlimited") return null;
  return Number(/** @type {HTMLInputElement} */ (byId("view-limit")).value);
}

/** @returns {Promise<string>} the full share URL */
async function encryptAndUpload() {
  const plaintext = encoder.encode(content.value);
  const format = /** @type {HTMLSelectElement} */ (byId("format")).value;
  const { keyPair, publicKeyRaw } = await newRecipientKeyPair();
  const created = await apiRequest("POST", "/api/v1/secrets", {
    audience: audience(),
    recipients,
    format,
    label: /** @type {HTMLInputElement} */ (byId("label")).value.trim() || null,
    expires_in_seconds: Number(/** @type {HTMLSelectElement} */ (byId("expiry")).value),
    view_limit: readViewLimit(),
    public_key: encodeBase64url(publicKeyRaw),
  });
  const dataKey = await openDataKey(keyPair, decodeBase64url(created.sealed_key), created.id, "create");
  const linkKey = generateLinkKey();
  try {
    const stream = await encryptContent(plaintext, linkKey, dataKey, created.id);
    const sealedMeta = await sealMeta(
      { format, name: null, type: "text/plain; charset=utf-8", size: plaintext.length },
      linkKey, dataKey, created.id, stream.subarray(8, 24),
    );
    await apiRequest("PUT", created.upload_url, stream);
    const completed = await apiRequest("POST", created.complete_url, {
      sealed_meta: encodeBase64url(sealedMeta),
    });
    return `${completed.share_url}#${encodeLinkKey(linkKey)}`;
  } finally {
    dataKey.fill(0);
    linkKey.fill(0);
    plaintext.fill(0);
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  hide(formError);
  const problem = problemWithForm();
  if (problem) {
    showMessage(formError, problem);
    return;
  }
  shareButton.disabled = true;
  shareButton.textContent = "Encrypting…";
  try {
    const shareUrl = await encryptAndUpload();
    content.value = "";
    /** @type {HTMLInputElement} */ (byId("share-url")).value = shareUrl;
    hide(form);
    show(byId("result"));
  } catch (error) {
    const message = error instanceof ApiError ? error.message
      : "Encryption failed in this browser; nothing was shared.";
    showMessage(formError, message);
  } finally {
    shareButton.disabled = false;
    shareButton.textContent = "Share secret";
  }
});

byId("copy-url").addEventListener("click", () => {
  const url = /** @type {HTMLInputElement} */ (byId("share-url")).value;
  copyText(url, byId("copy-status"));
});
