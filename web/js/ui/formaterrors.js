/**
 * A text format's errors under the field, each with its line (and column where the format
 * has one): the create page and a request's answer form show them alike.
 */

import { validateContent } from "../formats/index.js";
import { hide, show } from "./dom.js";

/**
 * @param {HTMLElement} list the <ul> for the errors
 * @param {"text"|"json"|"yaml"|"env"} format
 * @param {string} text
 * @param {string} formatName how the format is called on screen
 * @returns {boolean} whether the text is valid for its format
 */
export function checkFormatInto(list, format, text, formatName) {
  const result = validateContent(format, text);
  if (result.ok) {
    hide(list);
    return true;
  }
  list.replaceChildren(...result.errors.map((error) => {
    const item = document.createElement("li");
    const where = error.column ? `Line ${error.line}, column ${error.column}` : `Line ${error.line}`;
    // Most messages name their position already ("… at line 3, column 16", "line 4: …").
    const named = new RegExp(`\\bline ${error.line}\\b`, "i").test(error.message);
    item.textContent = named ? error.message.replace(/^./, (first) => first.toUpperCase())
      : `${where}: ${error.message}`;
    return item;
  }));
  list.setAttribute("aria-label", `This is not valid ${formatName}`);
  show(list);
  return false;
}
