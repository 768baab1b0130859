/** Small DOM helpers. Text only: nothing here ever parses HTML. */

/** @param {string} id @returns {HTMLElement} */
export function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`page element #${id} is missing`);
  return element;
}

/** @param {HTMLElement} element */
export function show(element) {
  element.hidden = false;
}

/** @param {HTMLElement} element */
export function hide(element) {
  element.hidden = true;
}

/** @param {HTMLElement} element @param {string} message */
export function showMessage(element, message) {
  element.textContent = message;
  element.hidden = false;
}

/**
 * Copy text, then say so in `statusElement` (the Clipboard API needs a secure context, which
 * every Cipherslip page is).
 * @param {string} text
 * @param {HTMLElement} statusElement
 */
export async function copyText(text, statusElement) {
  try {
    await navigator.clipboard.writeText(text);
    statusElement.textContent = "Copied to the clipboard.";
  } catch {
    statusElement.textContent = "Copy failed: select the text and copy it by hand.";
  }
}
