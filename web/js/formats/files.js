/**
 * Download names and media types for text secrets.
 */

/** @typedef {"text" | "json" | "yaml" | "env"} TextFormat */

export const TEXT_FORMATS = Object.freeze(/** @type {TextFormat[]} */ (["text", "json", "yaml", "env"]));

const MEDIA_TYPES = Object.freeze({
  text: "text/plain; charset=utf-8",
  json: "application/json",
  yaml: "application/yaml",
  env: "text/plain; charset=utf-8",
});
// The first is added when the label has none of them.
const EXTENSIONS = Object.freeze({
  text: [".txt"],
  json: [".json"],
  yaml: [".yaml", ".yml"],
  env: [".env"],
});

export const MAX_FILE_NAME_LENGTH = 100; // code points, extension included
const MAX_FILE_NAME_BYTES = 240; // UTF-8; most file systems stop at 255
const DEFAULT_NAME = "secret";

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// Control characters, and bidi controls that could make "x\u202Etxt.exe" display as "xexe.txt".
const DROPPED = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu;
const LINE_SEPARATORS = /[\p{Zl}\p{Zp}]/gu;
// Path separators and the characters Windows reserves.
const UNSAFE = /[<>:"/\\|?*]+/g;
const EDGE_DOTS_AND_SPACES = /^[.\s]+|[.\s]+$/g;
const FILE_EXTENSION = /(?<=[^.])\.[\p{L}\p{N}]{1,15}$/u;
const WINDOWS_DEVICE = /^(?:CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])$/i;

/**
 * @param {unknown} format
 * @returns {TextFormat}
 */
export function requireTextFormat(format) {
  if (typeof format !== "string" || !TEXT_FORMATS.includes(/** @type {TextFormat} */ (format))) {
    throw new TypeError(`unknown text format ${JSON.stringify(format)}`);
  }
  return /** @type {TextFormat} */ (format);
}

/**
 * The media type a downloaded text secret is served with.
 * @param {TextFormat} format
 * @returns {string}
 */
export function mediaTypeFor(format) {
  return MEDIA_TYPES[requireTextFormat(format)];
}

/**
 * A safe download file name for a text secret: the label made safe, else "secret", with the
 * format's extension unless the label already ends with it (case-insensitively; .yml counts for
 * YAML). Path separators and reserved characters <>:"/\|?* become "_" (so words stay apart),
 * control and bidi characters go, dots and spaces are trimmed from both ends, Windows device
 * names (CON, NUL, COM1, ...) get a "_" prefix, and the whole name is at most 100 code points
 * and 240 UTF-8 bytes. Other Unicode is kept.
 * @param {TextFormat} format
 * @param {string | null | undefined} label
 * @returns {string}
 */
export function fileNameFor(format, label) {
  const extensions = EXTENSIONS[requireTextFormat(format)];
  let name = cleaned(label);
  let extension = extensions[0];
  const lower = name.toLowerCase();
  const own = extensions.find((candidate) => lower.endsWith(candidate));
  if (own) {
    extension = name.slice(name.length - own.length);
    name = name.slice(0, name.length - own.length);
  }
  return finished(name, extension);
}

/**
 * A safe name to save a received file under: its sender's file name with the same cleaning as
 * fileNameFor (leading dots go too, as browsers do), the extension (letters and digits, up to
 * 15) kept when the name is shortened.
 * @param {string | null | undefined} name
 * @returns {string} "download" when nothing usable is left
 */
export function safeFileName(name) {
  const whole = cleaned(name);
  const extension = (FILE_EXTENSION.exec(whole) ?? [""])[0];
  const stem = whole.slice(0, whole.length - extension.length);
  return finished(stem, extension, "download");
}

/** @param {unknown} text */
function cleaned(text) {
  return (typeof text === "string" ? text : "")
    .replace(LONE_SURROGATE, "\uFFFD")
    .replace(DROPPED, "")
    .replace(LINE_SEPARATORS, " ")
    .replace(UNSAFE, "_")
    .replace(/[.\s]+$/, "");
}

/**
 * @param {string} stem
 * @param {string} extension
 * @param {string} [fallback]
 */
function finished(stem, extension, fallback = DEFAULT_NAME) {
  let name = truncate(stem.replace(EDGE_DOTS_AND_SPACES, ""), extension).replace(EDGE_DOTS_AND_SPACES, "");
  if (/^_*$/.test(name)) name = fallback;
  if (WINDOWS_DEVICE.test(name.split(".")[0].trimEnd())) name = `_${name}`;
  return name + extension;
}

/**
 * The longest prefix of `stem` (whole code points) that keeps stem + extension within the
 * name limits.
 * @param {string} stem
 * @param {string} extension
 */
function truncate(stem, extension) {
  const encoder = new TextEncoder();
  let length = [...extension].length;
  let bytes = encoder.encode(extension).length;
  let end = 0;
  for (const char of stem) {
    length += 1;
    bytes += encoder.encode(char).length;
    if (length > MAX_FILE_NAME_LENGTH || bytes > MAX_FILE_NAME_BYTES) break;
    end += char.length;
  }
  return stem.slice(0, end);
}
