/**
 * The API tokens page: copy a new token (shown once) and bring it into view.
 */

import { byId, copyText } from "../ui/dom.js";

const box = document.getElementById("token-value");
if (box instanceof HTMLTextAreaElement) {
  const status = byId("copy-status");
  byId("copy-token").addEventListener("click", async () => {
    await copyText(box.value, status);
    if (status.textContent?.startsWith("Copied")) status.textContent = "Copied ✓";
  });
  byId("new-token").focus();
}
