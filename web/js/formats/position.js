/**
 * Positions for error messages: 1-based lines and columns, the way an editor shows them.
 *
 * A line ends at "\n" (so "\r\n" ends one line too; the "\r" is simply the line's last
 * character). Columns count Unicode code points, not UTF-16 code units, so an emoji earlier on
 * the line counts as one column.
 */

/**
 * Line and column of the character at UTF-16 offset `index` (clamped to the text).
 * @param {string} text
 * @param {number} index
 * @returns {{line: number, column: number}}
 */
export function lineColumnAt(text, index) {
  const end = Math.max(0, Math.min(index, text.length));
  let line = 1;
  let lineStart = 0;
  for (let at = text.indexOf("\n"); at !== -1 && at < end; at = text.indexOf("\n", at + 1)) {
    line += 1;
    lineStart = at + 1;
  }
  let column = 1;
  for (let at = lineStart; at < end; at += 1) {
    const code = text.charCodeAt(at);
    // The second half of a surrogate pair belongs to the code point already counted.
    const isLowSurrogate = code >= 0xdc00 && code <= 0xdfff;
    const afterHigh = at > lineStart && isHighSurrogate(text.charCodeAt(at - 1));
    if (!(isLowSurrogate && afterHigh)) column += 1;
  }
  return { line, column };
}

/** @param {number} code */
function isHighSurrogate(code) {
  return code >= 0xd800 && code <= 0xdbff;
}

// Invisible or confusing in a message: controls, format characters (BOM, bidi, zero-width),
// separators other than the plain space, unassigned, private use and lone surrogates.
const INVISIBLE = /^[\p{C}\p{Z}]$/u;

/**
 * How to name the character at `index` in a message: `token }` when it is visible,
 * `character U+00A0` when it is not.
 * @param {string} text
 * @param {number} index
 */
export function describeCharAt(text, index) {
  const codePoint = /** @type {number} */ (text.codePointAt(index));
  const char = String.fromCodePoint(codePoint);
  if (char !== " " && INVISIBLE.test(char)) {
    return `character U+${codePoint.toString(16).toUpperCase().padStart(4, "0")}`;
  }
  return `token ${char}`;
}
