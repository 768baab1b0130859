/**
 * Env (`.env` files): validation of the dotenv syntax, line by line.
 *
 * - `KEY=value`, optionally `export KEY=value`; spaces around `=` are tolerated.
 * - Keys match [A-Za-z_][A-Za-z0-9_.-]* (lower case allowed) and must not repeat.
 * - Blank lines and lines starting with `#` are ignored.
 * - Unquoted values are anything up to the end of the line (so `=` inside is fine); `KEY=` is an
 *   empty value.
 * - Quoted values: `'...'` or `"..."`, a backslash escapes the next character (so \" does not
 *   close), and after the closing quote only spaces and a `# comment` may follow.
 *   Double-quoted values may span lines, as in dotenv (for PEM keys and certificates); an
 *   unclosed one is reported on the line where it opens. Single-quoted values must close on
 *   their own line.
 * - "\r\n" line endings are accepted and a UTF-8 byte order mark at the start is ignored.
 *
 * Errors name their line in the message ("line 4: expected KEY=value"), column is null; at
 * most MAX_ERRORS are reported.
 */

/** @typedef {import("./json.js").FormatError} FormatError */
/** @typedef {import("./json.js").Validation} Validation */

export const MAX_ERRORS = 50;
const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const PREFIX = /^[ \t]*(?:export[ \t]+(?=[^ \t=]))?/;
const AFTER_QUOTE = /^[ \t]*(?:#.*)?$/s;

/**
 * @param {string} text
 * @returns {Validation}
 */
export function validateEnv(text) {
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  if (/^\s*$/.test(body)) {
    return { ok: false, errors: [{ line: 1, column: null, message: "the env file is empty" }] };
  }
  const lines = body.split("\n").map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line));
  /** @type {FormatError[]} */
  const errors = [];
  const fail = (/** @type {number} */ index, /** @type {string} */ what) => {
    errors.push({ line: index + 1, column: null, message: `line ${index + 1}: ${what}` });
  };
  /** @type {Map<string, number>} key -> line it is first set on */
  const firstLine = new Map();
  for (let index = 0; index < lines.length && errors.length < MAX_ERRORS; index += 1) {
    const line = lines[index];
    if (/^\s*(?:#.*)?$/s.test(line)) continue;
    const rest = line.slice(/** @type {RegExpExecArray} */ (PREFIX.exec(line))[0].length);
    const equals = rest.indexOf("=");
    if (equals === -1) {
      fail(index, "expected KEY=value");
      continue;
    }
    const key = rest.slice(0, equals).replace(/[ \t]+$/, "");
    if (key === "") {
      fail(index, "expected KEY=value (the key is missing)");
      continue;
    }
    if (!KEY.test(key)) {
      fail(index, `invalid key ${JSON.stringify(clip(key))} (a key is a letter or _, then letters, digits, _ . or -)`);
      continue;
    }
    const first = firstLine.get(key);
    if (first === undefined) {
      firstLine.set(key, index + 1);
    } else {
      fail(index, `duplicate key ${key} (first on line ${first})`);
    }
    const value = rest.slice(equals + 1).replace(/^[ \t]+/, "");
    const quote = value[0];
    if (quote !== "\"" && quote !== "'") continue;
    const closed = findClosingQuote(lines, index, value, quote);
    if (!closed) {
      fail(index, quote === "'"
        ? "unterminated single-quoted value (no closing ' on this line)"
        : "unterminated double-quoted value (no closing \" before the end of the file)");
      if (quote === "\"") break; // it ran to the end of the file: there is nothing left to check
      continue;
    }
    if (!AFTER_QUOTE.test(closed.after)) fail(closed.line, "unexpected text after the closing quote");
    index = closed.line;
  }
  if (errors.length === 0 && firstLine.size === 0) {
    return { ok: false, errors: [{ line: 1, column: null, message: "the env file has only comments, no KEY=value lines" }] };
  }
  return errors.length === 0 ? { ok: true } : { ok: false, errors: errors.slice(0, MAX_ERRORS) };
}

/**
 * Where the quoted value starting at `value` (on line `index`) closes: the 0-based line and
 * the text after the closing quote, or null if it never does.
 * @param {string[]} lines
 * @param {number} index
 * @param {string} value starts with the opening quote
 * @param {string} quote
 * @returns {{line: number, after: string} | null}
 */
function findClosingQuote(lines, index, value, quote) {
  let line = index;
  let text = value;
  let at = 1;
  for (;;) {
    while (at < text.length) {
      if (text[at] === "\\") {
        at += 2;
      } else if (text[at] === quote) {
        return { line, after: text.slice(at + 1) };
      } else {
        at += 1;
      }
    }
    if (quote !== "\"" || line + 1 >= lines.length) return null;
    line += 1;
    text = lines[line];
    at = 0;
  }
}

/** @param {string} key */
function clip(key) {
  const codePoints = [...key];
  return codePoints.length > 40 ? `${codePoints.slice(0, 40).join("")}…` : key;
}
