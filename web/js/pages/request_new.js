/**
 * Asking for a secret: the request is reserved, then this browser makes its link key and
 * sends only the key check (derived with the request's id), so responders' browsers can tell
 * a damaged link before they encrypt anything. The key exists only in the link shown here.
 */

import { deriveKeyCheck, encodeBase64url, encodeLinkKey, generateLinkKey } from "../lib/index.js";
import { ApiError, apiRequest } from "../ui/api.js";
import { byId, copyText, hide, show, showMessage } from "../ui/dom.js";
import { RecipientField } from "../ui/recipients.js";

const form = /** @type {HTMLFormElement} */ (byId("request-form"));
const button = /** @type {HTMLButtonElement} */ (byId("request-button"));
const formError = byId("form-error");
const limits = {
  responders: Number(form.dataset.respondersMax),
  instructions: Number(form.dataset.instructionsMax),
  views: Number(form.dataset.viewLimitMax),
};
/** @returns {"internal"|"external"} */
function audience() {
  const checked = /** @type {HTMLInputElement} */ (form.querySelector('input[name="audience"]:checked'));
  return checked.value === "external" ? "external" : "internal";
}

const responders = new RecipientField(
  audience, (form.dataset.internalDomains ?? "").split(",").filter(Boolean), () => {
    const external = /** @type {HTMLInputElement} */ (
      form.querySelector('input[name="audience"][value="external"]'));
    external.checked = true;
    external.dispatchEvent(new Event("change", { bubbles: true }));
  });
for (const choice of form.querySelectorAll('input[name="audience"]')) {
  choice.addEventListener("change", () => responders.render());
}
// A draft from Slack's /secrets request arrives with the people already in the form.
if (form.dataset.draftRecipients) {
  responders.input.value = form.dataset.draftRecipients;
  responders.takeTyped();
}

/** @returns {string | null} */
function problem() {
  const invalid = responders.takeTyped();
  if (invalid.length) return `Not an email address: ${invalid.join(", ")}`;
  if (responders.emails.length === 0) return "Add at least one person to ask.";
  if (responders.emails.length > limits.responders) {
    return `Ask at most ${limits.responders} people (you added ${responders.emails.length}).`;
  }
  const outsiders = audience() === "internal" ? responders.outsiders() : [];
  if (outsiders.length) {
    return `Outside your organization: ${outsiders.join(", ")}. Choose "External addresses" `
      + "to ask them (they confirm their address by email), or remove them.";
  }
  const views = Number(/** @type {HTMLInputElement} */ (byId("answer-views")).value);
  if (!(Number.isInteger(views) && views >= 1 && views <= limits.views)) {
    return `Views of the answer: a whole number from 1 to ${limits.views}.`;
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
  const linkKey = generateLinkKey();
  try {
    const value = (/** @type {string} */ id) =>
      /** @type {HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement} */ (byId(id)).value;
    const started = await apiRequest("POST", "/api/v1/requests", {
      audience: audience(),
      responders: responders.emails,
      label: value("instructions").trim() || null,
      expected_format: value("expected-format") || null,
      open_for_seconds: Number(value("open-for")),
      answer_expires_in_seconds: Number(value("answer-expiry")),
      answer_view_limit: Number(value("answer-views")),
      ...(form.dataset.draft ? { draft: form.dataset.draft } : {}),
    });
    delete form.dataset.draft;  // used up; a retry is a plain new request
    const keyCheck = await deriveKeyCheck(linkKey, started.id);
    await apiRequest("POST", started.open_url, { key_check: encodeBase64url(keyCheck) });
    showResult(`${started.request_url}#${encodeLinkKey(linkKey)}`);
  } catch (error) {
    showMessage(formError, error instanceof ApiError ? error.message
      : "The request could not be made in this browser.");
    button.disabled = false;
  } finally {
    linkKey.fill(0);
  }
});

/** @param {string} url */
function showResult(url) {
  byId("result-summary").textContent = `Asked: ${responders.emails.join(", ")}. The first to `
    + "answer does; then the request closes.";
  const link = /** @type {HTMLTextAreaElement} */ (byId("request-url"));
  link.value = url;
  hide(form);
  show(byId("result"));
  byId("result-title").focus();
}

byId("copy-url").addEventListener("click", async () => {
  const link = /** @type {HTMLTextAreaElement} */ (byId("request-url"));
  link.select();
  await copyText(link.value, byId("copy-status"));
});

button.disabled = false;
