/**
 * YAML: validation with the `yaml` package (eemeli/yaml v2, YAML 1.2 by default).
 *
 * Every document of a multi-document stream is checked and every error reported, with the
 * package's own message and code; warnings (an unknown tag, say) are not errors. Duplicate keys
 * are errors, as the package has it by default (`uniqueKeys: true`). Aliases to anchors that
 * do not exist are errors too: the package only notices those when converting to JS values,
 * which validation never does (that conversion is also where alias bombs would explode).
 */

import { isAlias, parseAllDocuments, visit } from "yaml";

import { lineColumnAt } from "./position.js";

/** @typedef {import("./json.js").FormatError} FormatError */
/** @typedef {import("./json.js").Validation} Validation */

export const MAX_ERRORS = 50;

/**
 * @param {string} text
 * @returns {Validation}
 */
export function validateYaml(text) {
  // prettyErrors (on by default) would append a code frame to each message; positions are
  // computed here instead, from the error's offset.
  const documents = parseAllDocuments(text, { prettyErrors: false });
  if (documents.length === 0) {
    const message = /^\s*$/.test(text.replace(/^\uFEFF/, "")) ? "the YAML is empty" : "the YAML has only comments, no content";
    return { ok: false, errors: [{ line: 1, column: null, message }] };
  }
  /** @type {FormatError[]} */
  const errors = [];
  const add = (/** @type {string} */ what, /** @type {number} */ index) => {
    const { line, column } = lineColumnAt(text, index);
    errors.push({ line, column, message: `${what} at line ${line}, column ${column}` });
  };
  for (const document of documents) {
    for (const error of document.errors) add(error.message, error.pos[0]);
    /** @type {Set<string>} */
    const anchors = new Set();
    visit(document, {
      Node(_key, node) {
        if (isAlias(node)) {
          if (!anchors.has(node.source)) {
            add(`Unresolved alias *${node.source} (no anchor &${node.source} before it)`, node.range?.[0] ?? 0);
          }
        } else if (node.anchor) {
          anchors.add(node.anchor);
        }
      },
    });
  }
  if (errors.length === 0) return { ok: true };
  errors.sort((a, b) => a.line - b.line || (a.column ?? 0) - (b.column ?? 0));
  return { ok: false, errors: errors.slice(0, MAX_ERRORS) };
}
