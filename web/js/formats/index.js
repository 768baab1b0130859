/**
 * Text secret formats (text, JSON, YAML, env): validation before encryption, display helpers.
 * Pure functions, no DOM: the same code runs in the browser and under node --test.
 *
 * validateContent(format, text) -> {ok: true} | {ok: false, errors: [{line, column, message}]}
 *   lines and columns 1-based (columns count code points; null where a format has none).
 * prettyForDisplay(format, text) -> JSON re-indented for display; other formats unchanged.
 * fileNameFor(format, label), mediaTypeFor(format): for downloading a text secret.
 */

import { validateEnv } from "./env.js";
import { requireTextFormat } from "./files.js";
import { prettyJson, validateJson } from "./json.js";
import { validateYaml } from "./yaml.js";

export { MAX_FILE_NAME_LENGTH, TEXT_FORMATS, fileNameFor, mediaTypeFor, safeFileName } from "./files.js";

/** @typedef {import("./files.js").TextFormat} TextFormat */
/** @typedef {import("./json.js").FormatError} FormatError */
/** @typedef {import("./json.js").Validation} Validation */

/**
 * @param {TextFormat} format
 * @param {string} text
 * @returns {Validation}
 */
export function validateContent(format, text) {
  requireTextFormat(format);
  if (typeof text !== "string") throw new TypeError("content to validate must be a string");
  switch (format) {
    case "json":
      return validateJson(text);
    case "yaml":
      return validateYaml(text);
    case "env":
      return validateEnv(text);
    default:
      return { ok: true };
  }
}

/**
 * What to show for a revealed text secret. Display only: copy and download use the original.
 * @param {TextFormat} format
 * @param {string} text
 * @returns {string}
 */
export function prettyForDisplay(format, text) {
  requireTextFormat(format);
  if (typeof text !== "string") throw new TypeError("content to display must be a string");
  return format === "json" ? prettyJson(text) : text;
}
