/**
 * JSON: validation with positioned, plain-words errors, and an indenting display formatter.
 *
 * JSON.parse decides whether the text is valid. Its messages do not reliably say where the
 * error is: V8 in Node 20 / Chrome gives "at position N" for some errors and nothing for
 * "Unexpected token" ones, newer V8 adds "(line L column C)", Firefox says "at line L column C
 * of the JSON data", Safari gives no position at all. So when it fails, a small scanner that
 * follows the JSON grammar (RFC 8259, what JSON.parse accepts) finds the first error itself:
 * the same position and message in every browser. Should the scanner find nothing (it never
 * should), the position comes from the engine's message, else line 1.
 */

import { describeCharAt, lineColumnAt } from "./position.js";

/** @typedef {{line: number, column: number | null, message: string}} FormatError */
/** @typedef {{ok: true} | {ok: false, errors: FormatError[]}} Validation */
/** @typedef {{index: number, what: string, hint?: string}} ScanError */

const JSON_WHITESPACE_ONLY = /^[ \t\n\r]*$/;
const DIGIT = /[0-9]/;
const HEX4 = /^[0-9A-Fa-f]{4}$/;
const VALUE_START = /["{[\-0-9tfn]/;
const SIMPLE_ESCAPES = "\"\\/bfnrt";
const LITERALS = /** @type {Record<string, string>} */ ({ t: "true", f: "false", n: "null" });
const CLOSER = /** @type {Record<string, string>} */ ({ "{": "}", "[": "]" });

/**
 * @param {string} text
 * @returns {Validation}
 */
export function validateJson(text) {
  if (JSON_WHITESPACE_ONLY.test(text)) {
    return { ok: false, errors: [{ line: 1, column: null, message: "the JSON is empty" }] };
  }
  try {
    JSON.parse(text);
    return { ok: true };
  } catch (error) {
    const found = findJsonError(text);
    if (found) return { ok: false, errors: [describeScanError(text, found)] };
    return { ok: false, errors: [engineJsonError(error instanceof Error ? error.message : String(error), text)] };
  }
}

/**
 * @param {string} text
 * @param {ScanError} found
 * @returns {FormatError}
 */
function describeScanError(text, found) {
  const { line, column } = lineColumnAt(text, found.index);
  const hint = found.hint ? ` (${found.hint})` : "";
  return { line, column, message: `${found.what} at line ${line}, column ${column}${hint}` };
}

/**
 * The first syntax error in `text`, or null if it is valid JSON. Iterative (an explicit stack
 * of open brackets), so deep nesting cannot overflow the call stack.
 * @param {string} text
 * @returns {ScanError | null}
 */
export function findJsonError(text) {
  const length = text.length;
  /** @type {{char: string, index: number}[]} */
  const open = [];
  // "value": a value must come next; "firstValue": just after "[" (a value or "]");
  // "valueAfterComma": after "," in an array; "firstKey": just after "{" (a key or "}");
  // "key": after "," in an object; "colon": after a key; "afterValue": a value just ended.
  let state = "value";
  let i = 0;
  for (;;) {
    while (i < length && isJsonWhitespace(text.charCodeAt(i))) i += 1;
    if (i >= length) {
      if (state === "afterValue" && open.length === 0) return null;
      const innermost = open[open.length - 1];
      if (!innermost) return { index: length, what: "Unexpected end of input" };
      const where = lineColumnAt(text, innermost.index);
      return {
        index: length,
        what: "Unexpected end of input",
        hint: `the ${innermost.char} at line ${where.line}, column ${where.column} is not closed`,
      };
    }
    const char = text[i];
    switch (state) {
      case "firstValue":
        if (char === "]") {
          open.pop();
          i += 1;
          state = "afterValue";
          continue;
        }
        state = "value";
        continue;
      case "valueAfterComma":
        if (char === "]") {
          return { index: i, what: `Unexpected ${describeCharAt(text, i)}`, hint: "trailing commas are not allowed in JSON" };
        }
        state = "value";
        continue;
      case "value": {
        if (char === "{" || char === "[") {
          open.push({ char, index: i });
          i += 1;
          state = char === "{" ? "firstKey" : "firstValue";
          continue;
        }
        const scanned = char === "\"" ? scanString(text, i)
          : char === "-" || DIGIT.test(char) ? scanNumber(text, i)
          : char in LITERALS ? scanLiteral(text, i, LITERALS[char])
          : { index: i, what: `Unexpected ${describeCharAt(text, i)}`, hint: valueHint(text, i) };
        if ("what" in scanned) return scanned;
        i = scanned.end;
        state = "afterValue";
        continue;
      }
      case "firstKey":
      case "key": {
        if (char === "\"") {
          const scanned = scanString(text, i);
          if ("what" in scanned) return scanned;
          i = scanned.end;
          state = "colon";
          continue;
        }
        if (char === "}") {
          if (state === "firstKey") {
            open.pop();
            i += 1;
            state = "afterValue";
            continue;
          }
          return { index: i, what: `Unexpected ${describeCharAt(text, i)}`, hint: "trailing commas are not allowed in JSON" };
        }
        const what = state === "firstKey" ? "Expected a property name or '}'" : "Expected a property name";
        return { index: i, what, hint: keyHint(text, i) };
      }
      case "colon":
        if (char === ":") {
          i += 1;
          state = "value";
          continue;
        }
        return { index: i, what: "Expected ':' after the property name" };
      case "afterValue": {
        const container = open[open.length - 1];
        if (!container) {
          return { index: i, what: `Unexpected ${describeCharAt(text, i)} after the end of the JSON value` };
        }
        if (char === ",") {
          i += 1;
          state = container.char === "{" ? "key" : "valueAfterComma";
          continue;
        }
        if (char === CLOSER[container.char]) {
          open.pop();
          i += 1;
          continue;
        }
        const what = container.char === "{"
          ? "Expected ',' or '}' after a property value"
          : "Expected ',' or ']' after an array element";
        const hint = VALUE_START.test(char) ? "is a comma missing?" : undefined;
        return { index: i, what, hint };
      }
      default:
        throw new Error(`unreachable JSON scanner state ${state}`);
    }
  }
}

/** @param {number} code */
function isJsonWhitespace(code) {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

/**
 * @param {string} text
 * @param {number} index
 * @returns {string | undefined}
 */
function valueHint(text, index) {
  const char = text[index];
  if (char === "'") return "JSON strings use double quotes";
  if (char === "/") return "JSON does not allow comments";
  if (char === "\uFEFF" && index === 0) return "a byte order mark; remove it";
  return undefined;
}

/**
 * @param {string} text
 * @param {number} index
 * @returns {string | undefined}
 */
function keyHint(text, index) {
  const char = text[index];
  if (char === "'") return "JSON property names use double quotes";
  if (char === "/") return "JSON does not allow comments";
  if (/[A-Za-z_$]/.test(char)) return "property names must be in double quotes";
  return undefined;
}

/**
 * @param {string} text
 * @param {number} start index of the opening quote
 * @returns {ScanError | {end: number}}
 */
function scanString(text, start) {
  const unterminated = { index: start, what: "Unterminated string" };
  let i = start + 1;
  for (;;) {
    if (i >= text.length) return unterminated;
    const code = text.charCodeAt(i);
    if (code === 0x22) return { end: i + 1 };
    if (code === 0x5c) {
      if (i + 1 >= text.length) return unterminated;
      const escaped = text[i + 1];
      if (SIMPLE_ESCAPES.includes(escaped)) {
        i += 2;
      } else if (escaped === "u") {
        if (!HEX4.test(text.slice(i + 2, i + 6))) {
          return { index: i, what: "Invalid \\u escape in string", hint: "\\u takes exactly 4 hex digits" };
        }
        i += 6;
      } else {
        const shown = describeCharAt(text, i + 1).replace(/^token /, "\\");
        return { index: i, what: `Invalid escape ${shown} in string`, hint: "valid escapes: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX" };
      }
    } else if (code === 0x0a || code === 0x0d) {
      return { ...unterminated, hint: "a string cannot span lines; write line breaks as \\n" };
    } else if (code < 0x20) {
      return { index: i, what: `Unescaped ${describeCharAt(text, i)} in string`, hint: "control characters must be escaped, e.g. \\t" };
    } else {
      i += 1;
    }
  }
}

/**
 * @param {string} text
 * @param {number} start
 * @returns {ScanError | {end: number}}
 */
function scanNumber(text, start) {
  let i = start;
  const digits = () => {
    while (i < text.length && DIGIT.test(text[i])) i += 1;
  };
  if (text[i] === "-") i += 1;
  if (text[i] === "0") {
    i += 1;
    if (i < text.length && DIGIT.test(text[i])) {
      return { index: i, what: "Unexpected digit after a leading 0", hint: "JSON numbers cannot have leading zeros" };
    }
  } else if (i < text.length && DIGIT.test(text[i])) {
    digits();
  } else {
    return { index: i, what: "No number after the minus sign" };
  }
  if (text[i] === ".") {
    i += 1;
    if (!(i < text.length && DIGIT.test(text[i]))) return { index: i, what: "Missing digits after the decimal point" };
    digits();
  }
  if (text[i] === "e" || text[i] === "E") {
    i += 1;
    if (text[i] === "+" || text[i] === "-") i += 1;
    if (!(i < text.length && DIGIT.test(text[i]))) return { index: i, what: "Missing digits in the exponent" };
    digits();
  }
  return { end: i };
}

/**
 * @param {string} text
 * @param {number} start
 * @param {string} word true, false or null
 * @returns {ScanError | {end: number}}
 */
function scanLiteral(text, start, word) {
  for (let k = 0; k < word.length; k += 1) {
    const i = start + k;
    if (i >= text.length) return { index: i, what: "Unexpected end of input" };
    if (text[i] !== word[k]) {
      return { index: i, what: `Unexpected ${describeCharAt(text, i)}`, hint: `expected ${word}` };
    }
  }
  return { end: start + word.length };
}

/**
 * The error to report from the engine's own JSON.parse message, for when the scanner cannot
 * place it: "... in JSON at position N" and "... (line L column C)" (V8), "... at line L
 * column C of the JSON data" (Firefox); anything else is put on line 1 without a column.
 * @param {string} engineMessage
 * @param {string} text
 * @returns {FormatError}
 */
export function engineJsonError(engineMessage, text) {
  let line = 1;
  /** @type {number | null} */
  let column = null;
  const lineColumn = /\(line (\d+) column (\d+)\)|at line (\d+) column (\d+)/.exec(engineMessage);
  const position = /at position (\d+)/.exec(engineMessage);
  if (lineColumn) {
    line = Number(lineColumn[1] ?? lineColumn[3]);
    column = Number(lineColumn[2] ?? lineColumn[4]);
  } else if (position) {
    ({ line, column } = lineColumnAt(text, Number(position[1])));
  }
  const words = engineMessage
    .replace(/^JSON\.parse: /, "")
    .replace(/,? ".*" is not valid JSON$/s, "")
    .replace(/ in JSON at position \d+.*$/s, "")
    .replace(/ \(line \d+ column \d+\)/, "")
    .replace(/ at line \d+ column \d+ of the JSON data$/, "")
    .trim();
  const what = words ? words.charAt(0).toUpperCase() + words.slice(1) : "Invalid JSON";
  const message = column === null ? `${what} (the browser did not say where)` : `${what} at line ${line}, column ${column}`;
  return { line, column, message };
}

// Display only: past this size the indented copy is not worth building (deep nesting can make
// indentation grow quadratically), and the original is shown instead.
const PRETTY_MIN_BUDGET = 1 << 20;
const PRETTY_GROWTH = 8;

/**
 * Re-indent valid JSON with 2 spaces, the layout of JSON.stringify(value, null, 2), but token
 * by token: numbers, string escapes and duplicate keys stay exactly as written (parse and
 * stringify would round 12345678901234567890, turn 1.0 into 1 and drop duplicate keys; a
 * secret's display must not show a value the secret does not hold). Invalid JSON, or JSON
 * whose indented form would be huge, is returned unchanged.
 * @param {string} text
 * @returns {string}
 */
export function prettyJson(text) {
  try {
    JSON.parse(text);
  } catch {
    return text;
  }
  const budget = Math.max(PRETTY_MIN_BUDGET, text.length * PRETTY_GROWTH);
  /** @type {string[]} */
  const parts = [];
  let size = 0;
  let depth = 0;
  const emit = (/** @type {string} */ part) => {
    parts.push(part);
    size += part.length;
  };
  const newline = () => emit(`\n${"  ".repeat(depth)}`);
  const skipWhitespace = (/** @type {number} */ from) => {
    let at = from;
    while (at < text.length && isJsonWhitespace(text.charCodeAt(at))) at += 1;
    return at;
  };
  let i = skipWhitespace(0);
  while (i < text.length) {
    if (size > budget) return text;
    const char = text[i];
    if (char === "{" || char === "[") {
      const next = skipWhitespace(i + 1);
      if (text[next] === CLOSER[char]) {
        emit(char + CLOSER[char]);
        i = next + 1;
      } else {
        emit(char);
        depth += 1;
        newline();
        i += 1;
      }
    } else if (char === "}" || char === "]") {
      depth -= 1;
      newline();
      emit(char);
      i += 1;
    } else if (char === ",") {
      emit(",");
      newline();
      i += 1;
    } else if (char === ":") {
      emit(": ");
      i += 1;
    } else if (char === "\"") {
      let end = i + 1;
      while (text[end] !== "\"") end += text[end] === "\\" ? 2 : 1;
      emit(text.slice(i, end + 1));
      i = end + 1;
    } else {
      let end = i + 1;
      while (end < text.length && /[^\s,:{}[\]]/.test(text[end])) end += 1;
      emit(text.slice(i, end));
      i = end;
    }
    i = skipWhitespace(i);
  }
  return size > budget ? text : parts.join("");
}
