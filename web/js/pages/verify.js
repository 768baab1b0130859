/**
 * The magic-link landing page. The token travels in the URL fragment, so no server, proxy or
 * log sees it until the recipient presses Continue; mail scanners that fetch the link only
 * ever get this page.
 */

import { ApiError, apiRequest } from "../ui/api.js";
import { byId, hide, show, showMessage } from "../ui/dom.js";

const token = window.location.hash.slice(1);
// Out of the address bar and history: the token is single-use, but no need to keep it around.
window.history.replaceState(null, "", window.location.pathname);
const button = /** @type {HTMLButtonElement} */ (byId("continue-button"));
const errorBox = byId("verify-error");

if (!/^[A-Za-z0-9_-]{43}$/.test(token)) {
  show(byId("token-missing"));
  button.disabled = true;
} else {
  button.addEventListener("click", async () => {
    hide(errorBox);
    button.disabled = true;
    button.textContent = "Confirming…";
    try {
      const confirmed = await apiRequest("POST", "/api/v1/magic-links/consume", { token });
      window.location.assign(confirmed.next);
    } catch (error) {
      showMessage(errorBox, error instanceof ApiError ? error.message
        : "Confirming failed; check your connection and try again.");
      button.textContent = "Continue";
    }
  });
}
