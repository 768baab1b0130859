// Text secret formats: validation (JSON, YAML, env), display, download names and media types.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  MAX_FILE_NAME_LENGTH,
  TEXT_FORMATS,
  fileNameFor,
  mediaTypeFor,
  prettyForDisplay,
  safeFileName,
  validateContent,
} from "../../../web/js/formats/index.js";
import { engineJsonError, findJsonError } from "../../../web/js/formats/json.js";
import { lineColumnAt } from "../../../web/js/formats/position.js";

/** The only error of an invalid validation. */
function onlyError(format, text) {
  const result = validateContent(format, text);
  assert.equal(result.ok, false, `expected ${format} to be invalid: ${JSON.stringify(text)}`);
  assert.equal(result.errors.length, 1, JSON.stringify(result.errors));
  return result.errors[0];
}

/** [line, message] of every error. */
function errorLines(format, text) {
  const result = validateContent(format, text);
  assert.equal(result.ok, false, `expected ${format} to be invalid: ${JSON.stringify(text)}`);
  return result.errors.map((error) => [error.line, error.message]);
}

function assertValid(format, text) {
  assert.deepEqual(validateContent(format, text), { ok: true }, JSON.stringify(text));
}

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("positions", () => {
  test("lines and columns are 1-based, columns count code points", () => {
    assert.deepEqual(lineColumnAt("abc", 0), { line: 1, column: 1 });
    assert.deepEqual(lineColumnAt("ab\ncd", 4), { line: 2, column: 2 });
    assert.deepEqual(lineColumnAt("ab\r\ncd", 5), { line: 2, column: 2 });
    assert.deepEqual(lineColumnAt("😀😀x", 4), { line: 1, column: 3 });
    assert.deepEqual(lineColumnAt("a\n", 2), { line: 2, column: 1 });
  });
});

describe("text", () => {
  test("is always valid", () => {
    for (const text of ["", "   ", "{", "a: [", "=oops", "\uFEFF"]) assertValid("text", text);
  });
});

describe("validateContent arguments", () => {
  test("unknown formats and non-string content are programming errors", () => {
    assert.throws(() => validateContent("file", "x"), TypeError);
    assert.throws(() => validateContent("xml", "<a/>"), TypeError);
    assert.throws(() => validateContent("json", null), TypeError);
    assert.deepEqual(TEXT_FORMATS, ["text", "json", "yaml", "env"]);
  });
});

describe("JSON validation", () => {
  test("accepts valid JSON of every shape", () => {
    for (const text of [
      "{}", "[]", "0", "-1.5e+10", "\"s\"", "true", "false", "null",
      "{\"a\": [1, 2, {\"b\": null}], \"c\": \"\\u00e9\\n\\\"\"}",
      "\n\t {\r\n  \"key\": \"value\"\r\n}\r\n",
      "{\"emoji\": \"🔑\", \"a\": {\"a\": {\"a\": []}}}",
      "[".repeat(10000) + "]".repeat(10000),
    ]) assertValid("json", text);
  });

  test("empty input is invalid", () => {
    for (const text of ["", "  \n\t\r\n"]) {
      assert.deepEqual(onlyError("json", text), { line: 1, column: null, message: "the JSON is empty" });
    }
  });

  test("a missing value in a multi-line object", () => {
    assert.deepEqual(onlyError("json", "{\n  \"a\": 1,\n  \"b\": }"),
      { line: 3, column: 8, message: "Unexpected token } at line 3, column 8" });
  });

  test("the same with CRLF line endings", () => {
    assert.deepEqual(onlyError("json", "{\r\n  \"a\": 1,\r\n  \"b\": }\r\n"),
      { line: 3, column: 8, message: "Unexpected token } at line 3, column 8" });
  });

  test("a missing comma between lines points at the next property", () => {
    assert.deepEqual(onlyError("json", "{\n  \"user\": \"app\",\n  \"password\": \"x\"\n  \"host\": \"db\"\n}"), {
      line: 4,
      column: 3,
      message: "Expected ',' or '}' after a property value at line 4, column 3 (is a comma missing?)",
    });
    assert.deepEqual(onlyError("json", "[1 2]"), {
      line: 1,
      column: 4,
      message: "Expected ',' or ']' after an array element at line 1, column 4 (is a comma missing?)",
    });
  });

  test("trailing commas", () => {
    assert.deepEqual(onlyError("json", "[\n  1,\n  2,\n]"), {
      line: 4, column: 1, message: "Unexpected token ] at line 4, column 1 (trailing commas are not allowed in JSON)",
    });
    assert.deepEqual(onlyError("json", "{\"a\": 1,}"), {
      line: 1, column: 9, message: "Unexpected token } at line 1, column 9 (trailing commas are not allowed in JSON)",
    });
  });

  test("unclosed brackets name the innermost one", () => {
    assert.deepEqual(onlyError("json", "{\n  \"a\": [1,\n    2\n"), {
      line: 4,
      column: 1,
      message: "Unexpected end of input at line 4, column 1 (the [ at line 2, column 8 is not closed)",
    });
    assert.equal(onlyError("json", "{").message,
      "Unexpected end of input at line 1, column 2 (the { at line 1, column 1 is not closed)");
    assert.equal(onlyError("json", "nul").message, "Unexpected end of input at line 1, column 4");
  });

  test("strings", () => {
    assert.deepEqual(onlyError("json", "{\n  \"a\": \"no end\n}"), {
      line: 2,
      column: 8,
      message: "Unterminated string at line 2, column 8 (a string cannot span lines; write line breaks as \\n)",
    });
    assert.equal(onlyError("json", "\"abc").message, "Unterminated string at line 1, column 1");
    assert.equal(onlyError("json", "[\"a\\qb\"]").message,
      "Invalid escape \\q in string at line 1, column 4 (valid escapes: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
    assert.equal(onlyError("json", "\"\\u12G4\"").message,
      "Invalid \\u escape in string at line 1, column 2 (\\u takes exactly 4 hex digits)");
    assert.equal(onlyError("json", "[\"a\tb\"]").message,
      "Unescaped character U+0009 in string at line 1, column 4 (control characters must be escaped, e.g. \\t)");
  });

  test("numbers", () => {
    const cases = {
      "[01]": "Unexpected digit after a leading 0 at line 1, column 3 (JSON numbers cannot have leading zeros)",
      "-": "No number after the minus sign at line 1, column 2",
      "[-x]": "No number after the minus sign at line 1, column 3",
      "1.": "Missing digits after the decimal point at line 1, column 3",
      "1.5e+": "Missing digits in the exponent at line 1, column 6",
      "+1": "Unexpected token + at line 1, column 1",
      ".5": "Unexpected token . at line 1, column 1",
      "NaN": "Unexpected token N at line 1, column 1",
    };
    for (const [text, message] of Object.entries(cases)) assert.equal(onlyError("json", text).message, message, text);
  });

  test("keys, colons, literals and what follows the value", () => {
    const cases = {
      "{a: 1}": "Expected a property name or '}' at line 1, column 2 (property names must be in double quotes)",
      "{'a': 1}": "Expected a property name or '}' at line 1, column 2 (JSON property names use double quotes)",
      "{\"a\": 1, 2}": "Expected a property name at line 1, column 10",
      "{\"a\" 1}": "Expected ':' after the property name at line 1, column 6",
      "['a']": "Unexpected token ' at line 1, column 2 (JSON strings use double quotes)",
      "// note\n{}": "Unexpected token / at line 1, column 1 (JSON does not allow comments)",
      "[tru]": "Unexpected token ] at line 1, column 5 (expected true)",
      "{\"a\": 1}\n{\"b\": 2}": "Unexpected token { after the end of the JSON value at line 2, column 1",
      "\uFEFF{}": "Unexpected character U+FEFF at line 1, column 1 (a byte order mark; remove it)",
      "[1,\u00a02]": "Unexpected character U+00A0 at line 1, column 4",
    };
    for (const [text, message] of Object.entries(cases)) assert.equal(onlyError("json", text).message, message, text);
  });

  test("columns count code points, not UTF-16 units", () => {
    assert.deepEqual(onlyError("json", "{\"🔑🔑\": x}"),
      { line: 1, column: 8, message: "Unexpected token x at line 1, column 8" }); // UTF-16 would say 10
  });

  test("deeply nested and unclosed", () => {
    const error = onlyError("json", "[".repeat(50000));
    assert.equal(error.line, 1);
    assert.equal(error.column, 50001);
    assert.match(error.message, /the \[ at line 1, column 50000 is not closed/);
  });

  test("positions agree with V8 wherever V8 gives one", () => {
    const texts = ["{", "{,}", "1.", "-", "1e", "01", "[1 2]", "{\"a\":1]", "{\"a\" 1}", "{\"a\":1}x",
      "{\"a\":1,}", "[\"\t\"]", "{\n\"a\":1\n\"b\":2}"];
    let compared = 0;
    for (const text of texts) {
      let message = "";
      try {
        JSON.parse(text);
      } catch (error) {
        message = error.message;
      }
      assert.notEqual(message, "", text);
      const position = /at position (\d+)/.exec(message);
      if (!position) continue; // this engine does not say
      compared += 1;
      assert.equal(findJsonError(text)?.index, Number(position[1]), `${JSON.stringify(text)}: ${message}`);
    }
    if (/^v20\./.test(process.version)) assert.equal(compared, texts.length);
  });

  test("the scanner and JSON.parse agree on random near-JSON", () => {
    const next = random(20240611);
    const pieces = ["{", "}", "[", "]", ",", ":", " ", "\n", "\"a\"", "\"\\n\"", "\"\\u00e9\"", "\"\\x\"", "\"",
      "0", "-", "1", "12", ".5", "e3", "E-2", "true", "fals", "null", "x", "'", "\t", "\\"];
    const seeds = ["{\"a\": [1, 2.5e3, {\"b\": null}], \"c\": \"d\"}", "[true, false, -0.5, \"\\\"\"]", "{}"];
    let valid = 0;
    for (let round = 0; round < 4000; round += 1) {
      let text;
      if (round % 2 === 0) {
        text = Array.from({ length: 1 + Math.floor(next() * 8) }, () => pieces[Math.floor(next() * pieces.length)]).join("");
      } else {
        // One random edit of a valid document.
        const seed = seeds[round % seeds.length];
        const at = Math.floor(next() * (seed.length + 1));
        const piece = pieces[Math.floor(next() * pieces.length)];
        text = next() < 0.5 ? seed.slice(0, at) + piece + seed.slice(at) : seed.slice(0, at) + seed.slice(at + 1);
      }
      let parses = true;
      try {
        JSON.parse(text);
      } catch {
        parses = false;
      }
      if (parses) valid += 1;
      assert.equal(findJsonError(text) === null, parses, JSON.stringify(text));
      if (!parses && text.trim() !== "") {
        const error = onlyError("json", text);
        assert.ok(error.column !== null && error.line >= 1, JSON.stringify(text));
      }
    }
    assert.ok(valid > 100, `only ${valid} valid samples`);
  });
});

describe("JSON errors from the engine's message (fallback)", () => {
  const text = "{\n  \"a\": 1\n  \"b\": 2\n}";
  test("V8: at position N", () => {
    assert.deepEqual(engineJsonError("Expected ',' or '}' after property value in JSON at position 13", text), {
      line: 3, column: 3, message: "Expected ',' or '}' after property value at line 3, column 3",
    });
  });
  test("newer V8: (line L column C)", () => {
    assert.deepEqual(
      engineJsonError("Expected ',' or '}' after property value in JSON at position 13 (line 3 column 3)", text),
      { line: 3, column: 3, message: "Expected ',' or '}' after property value at line 3, column 3" });
  });
  test("Firefox: at line L column C of the JSON data", () => {
    assert.deepEqual(
      engineJsonError("JSON.parse: expected ',' or '}' after property value in object at line 3 column 3 of the JSON data", text),
      { line: 3, column: 3, message: "Expected ',' or '}' after property value in object at line 3, column 3" });
  });
  test("no position: line 1, no column", () => {
    assert.deepEqual(engineJsonError("Unexpected token '}', \"{\"a\": }\" is not valid JSON", "{\"a\": }"),
      { line: 1, column: null, message: "Unexpected token '}' (the browser did not say where)" });
    assert.deepEqual(engineJsonError("JSON Parse error: Unexpected token: }", "{\"a\": }"),
      { line: 1, column: null, message: "JSON Parse error: Unexpected token: } (the browser did not say where)" });
  });
});

describe("YAML validation", () => {
  test("accepts valid YAML, multi-document streams, anchors and warnings", () => {
    for (const text of [
      "a: 1\nb:\n  - x\n  - y\nc: {d: e}\n",
      "---\nname: one\n---\nname: two\n...\n",
      "base: &base {user: app}\nprod: *base\n",
      "key: !!unknown value\n", // an unresolved tag is a warning, not an error
      "\uFEFFa: 1\r\nb: 2\r\n",
      "plain scalar",
      "- [1, 2]\n- {a: b}\n",
      "cert: |\n  -----BEGIN CERTIFICATE-----\n  MIIB\n  -----END CERTIFICATE-----\n",
    ]) assertValid("yaml", text);
  });

  test("empty and comment-only input is invalid", () => {
    for (const text of ["", "  \n\n", "\uFEFF"]) {
      assert.deepEqual(onlyError("yaml", text), { line: 1, column: null, message: "the YAML is empty" });
    }
    assert.deepEqual(onlyError("yaml", "# just a comment\n"),
      { line: 1, column: null, message: "the YAML has only comments, no content" });
  });

  test("bad indentation", () => {
    assert.deepEqual(onlyError("yaml", "db:\n  user: app\n pass: x\n"), {
      line: 3, column: 1, message: "All mapping items must start at the same column at line 3, column 1",
    });
    assert.deepEqual(onlyError("yaml", "a:\n\tb: 1\n"),
      { line: 2, column: 1, message: "Tabs are not allowed as indentation at line 2, column 1" });
  });

  test("unclosed flow sequence", () => {
    assert.deepEqual(onlyError("yaml", "hosts: [a, b\nport: 5432\n"), {
      line: 2,
      column: 1,
      message: "Flow sequence in block collection must be sufficiently indented and end with a ] at line 2, column 1",
    });
  });

  test("duplicate keys, each repetition", () => {
    assert.deepEqual(errorLines("yaml", "a: 1\nb: 2\na: 3\na: 4\n"), [
      [3, "Map keys must be unique at line 3, column 1"],
      [4, "Map keys must be unique at line 4, column 1"],
    ]);
    assert.deepEqual(errorLines("yaml", "outer:\n  k: 1\n  k: 2\n"), [[3, "Map keys must be unique at line 3, column 3"]]);
    assert.deepEqual(errorLines("yaml", "a: 1\r\nb: 2\r\na: 3\r\n"), [[3, "Map keys must be unique at line 3, column 1"]]);
  });

  test("lines count across documents", () => {
    assert.deepEqual(errorLines("yaml", "a: 1\n---\nb: 1\nc: 2\nb: 3\n"), [[5, "Map keys must be unique at line 5, column 1"]]);
  });

  test("unclosed quote", () => {
    assert.deepEqual(errorLines("yaml", "x: \"abc\ny: 1\n"), [[3, "Missing closing \"quote at line 3, column 1"]]);
  });

  test("aliases need an earlier anchor", () => {
    assert.deepEqual(errorLines("yaml", "a: *x\nb: &x 1\n"),
      [[1, "Unresolved alias *x (no anchor &x before it) at line 1, column 4"]]);
  });

  test("messages carry no code frame", () => {
    for (const error of validateContent("yaml", "a: 1\nb: [\n").errors) assert.doesNotMatch(error.message, /\n/);
  });

  test("at most 50 errors", () => {
    const text = Array.from({ length: 80 }, () => "k: v\n").join("");
    const result = validateContent("yaml", text);
    assert.equal(result.errors.length, 50);
    assert.equal(result.errors[0].line, 2);
  });
});

describe("env validation", () => {
  test("accepts the dotenv syntax", () => {
    assertValid("env", [
      "# Database",
      "",
      "DB_HOST=db.internal",
      "export DB_USER=app",
      "db_password=s3cr=t==",
      "EMPTY=",
      "SPACED = value with spaces",
      "  INDENTED=1",
    ].join("\n") + "\n");
    assertValid("env", [
      "SINGLE='single # not a comment'",
      "DOUBLE=\"double \\\" quote\"",
      "WITH_COMMENT=\"value\" # trailing comment",
      "EMPTY_QUOTED=\"\"",
      "app.name-v2=ok",
      "_LEADING=1",
      "URL=postgres://u:p@h:5432/db?sslmode=require#frag",
      "  # indented comment",
      "\t",
    ].join("\n"));
  });

  test("double-quoted values may span lines", () => {
    const text = "KEY_ID=abc\nPRIVATE_KEY=\"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----\"\nNEXT=1\n";
    assertValid("env", text);
    // Lines inside the value still count.
    assert.deepEqual(errorLines("env", `${text}KEY_ID=again\n`), [[6, "line 6: duplicate key KEY_ID (first on line 1)"]]);
  });

  test("CRLF line endings and a BOM", () => {
    assertValid("env", "\uFEFFA=1\r\nB=\"two\r\nlines\"\r\n# c\r\n\r\nC='3'\r\n");
    assert.deepEqual(errorLines("env", "\uFEFFA=1\r\noops\r\nA=2\r\n"), [
      [2, "line 2: expected KEY=value"],
      [3, "line 3: duplicate key A (first on line 1)"],
    ]);
    assert.deepEqual(errorLines("env", "\uFEFF=1\n"), [[1, "line 1: expected KEY=value (the key is missing)"]]);
  });

  test("malformed lines", () => {
    assert.deepEqual(onlyError("env", "A=1\nB=2\n\nthis is not an assignment\n"),
      { line: 4, column: null, message: "line 4: expected KEY=value" });
    assert.deepEqual(errorLines("env", "export\nexport ONLY_KEY\n=value\nMY KEY=1\n1ABC=2\nKÉY=3\n"), [
      [1, "line 1: expected KEY=value"],
      [2, "line 2: expected KEY=value"],
      [3, "line 3: expected KEY=value (the key is missing)"],
      [4, "line 4: invalid key \"MY KEY\" (a key is a letter or _, then letters, digits, _ . or -)"],
      [5, "line 5: invalid key \"1ABC\" (a key is a letter or _, then letters, digits, _ . or -)"],
      [6, "line 6: invalid key \"KÉY\" (a key is a letter or _, then letters, digits, _ . or -)"],
    ]);
  });

  test("duplicate keys name both lines; export does not make a new key; case matters", () => {
    const text = "API_KEY=1\nOTHER=2\nexport API_KEY=3\napi_key=4\n\n# again\n\n\nAPI_KEY=5\n";
    assert.deepEqual(errorLines("env", text), [
      [3, "line 3: duplicate key API_KEY (first on line 1)"],
      [9, "line 9: duplicate key API_KEY (first on line 1)"],
    ]);
    assert.equal(onlyError("env", "A=1\nB=1\n\n\n\n\n\n\nB=2\n").message, "line 9: duplicate key B (first on line 2)");
  });

  test("a single-quoted value must close on its line; checking goes on", () => {
    assert.deepEqual(errorLines("env", "A='open\nB='closed'\nbad\n"), [
      [1, "line 1: unterminated single-quoted value (no closing ' on this line)"],
      [3, "line 3: expected KEY=value"],
    ]);
  });

  test("an unclosed double quote is reported where it opens", () => {
    assert.deepEqual(errorLines("env", "A=1\nB=\"open\nC=2\nnot a line\n"), [
      [2, "line 2: unterminated double-quoted value (no closing \" before the end of the file)"],
    ]);
    assert.deepEqual(errorLines("env", "A=\"ends with an escaped quote\\\"\n"), [
      [1, "line 1: unterminated double-quoted value (no closing \" before the end of the file)"],
    ]);
  });

  test("text after the closing quote", () => {
    assert.deepEqual(errorLines("env", "A=\"x\" y\nB='z'junk\nC=\"multi\nline\" extra\n"), [
      [1, "line 1: unexpected text after the closing quote"],
      [2, "line 2: unexpected text after the closing quote"],
      [4, "line 4: unexpected text after the closing quote"],
    ]);
  });

  test("empty and comment-only files", () => {
    for (const text of ["", "\n\n  \n", "\uFEFF", "\r\n"]) {
      assert.deepEqual(onlyError("env", text), { line: 1, column: null, message: "the env file is empty" });
    }
    assert.deepEqual(onlyError("env", "# nothing here\n#A=1\n"),
      { line: 1, column: null, message: "the env file has only comments, no KEY=value lines" });
  });

  test("at most 50 errors", () => {
    const result = validateContent("env", Array.from({ length: 80 }, (_, i) => `junk ${i}`).join("\n"));
    assert.equal(result.errors.length, 50);
    assert.deepEqual(result.errors.map((error) => error.line), Array.from({ length: 50 }, (_, i) => i + 1));
  });
});

describe("prettyForDisplay", () => {
  test("indents JSON with 2 spaces", () => {
    assert.equal(prettyForDisplay("json", "{\"a\":[1,2,{}],\"b\":{\"c\":null,\"d\":[]},\"e\":\"x, y: {z}\"}"), [
      "{",
      "  \"a\": [",
      "    1,",
      "    2,",
      "    {}",
      "  ],",
      "  \"b\": {",
      "    \"c\": null,",
      "    \"d\": []",
      "  },",
      "  \"e\": \"x, y: {z}\"",
      "}",
    ].join("\n"));
  });

  test("matches JSON.stringify(value, null, 2) where that is lossless", () => {
    for (const text of ["{\"a\": [ 1 , \"\\\"]\" ], \"b\" : { } }", "  [\n]  ", "\"s\"", "42", "[[[]],[{}]]",
      "{\"user\":\"app\",\"nested\":{\"list\":[true,false,null,-1.5]}}"]) {
      assert.equal(prettyForDisplay("json", text), JSON.stringify(JSON.parse(text), null, 2), text);
    }
  });

  test("keeps numbers, escapes and duplicate keys as written", () => {
    assert.equal(prettyForDisplay("json", "{\"id\":12345678901234567890,\"v\":1.0,\"s\":\"\\u00e9\",\"id\":2}"),
      "{\n  \"id\": 12345678901234567890,\n  \"v\": 1.0,\n  \"s\": \"\\u00e9\",\n  \"id\": 2\n}");
  });

  test("leaves invalid JSON, huge indentation and other formats unchanged", () => {
    for (const text of ["{\"a\": }", "", "[1,]"]) assert.equal(prettyForDisplay("json", text), text);
    const deep = "[".repeat(5000) + "]".repeat(5000);
    assert.equal(prettyForDisplay("json", deep), deep);
    const jsonLooking = "{\"a\":1}";
    for (const format of ["text", "yaml", "env"]) assert.equal(prettyForDisplay(format, jsonLooking), jsonLooking);
    assert.throws(() => prettyForDisplay("file", jsonLooking), TypeError);
  });
});

describe("fileNameFor", () => {
  test("no label gives secret + the format's extension", () => {
    for (const label of ["", null, undefined, "   ", "...", "///", " . "]) {
      assert.equal(fileNameFor("text", label), "secret.txt", String(label));
    }
    assert.equal(fileNameFor("json", ""), "secret.json");
    assert.equal(fileNameFor("yaml", ""), "secret.yaml");
    assert.equal(fileNameFor("env", ""), "secret.env");
  });

  test("path separators and reserved characters cannot make a path", () => {
    assert.equal(fileNameFor("text", "../../etc/passwd"), "_.._etc_passwd.txt");
    assert.equal(fileNameFor("json", "prod/db\\creds"), "prod_db_creds.json");
    assert.equal(fileNameFor("text", "a<b>c:d\"e|f?g*h"), "a_b_c_d_e_f_g_h.txt");
    assert.equal(fileNameFor("text", "line\none\ttab\u0000nul"), "lineonetabnul.txt");
    assert.equal(fileNameFor("text", "  .hidden. "), "hidden.txt");
  });

  test("unicode is kept; bidi controls are not", () => {
    assert.equal(fileNameFor("env", "Clé API 🔑 – prod"), "Clé API 🔑 – prod.env");
    assert.equal(fileNameFor("text", "日本語の秘密"), "日本語の秘密.txt");
    assert.equal(fileNameFor("text", "invoice\u202Etxt.exe"), "invoicetxt.exe.txt");
  });

  test("an extension the label already has is not doubled", () => {
    assert.equal(fileNameFor("json", "config.json"), "config.json");
    assert.equal(fileNameFor("json", "CONFIG.JSON"), "CONFIG.JSON");
    assert.equal(fileNameFor("yaml", "deploy.yml"), "deploy.yml");
    assert.equal(fileNameFor("yaml", "deploy.yaml"), "deploy.yaml");
    assert.equal(fileNameFor("env", "production.env"), "production.env");
    assert.equal(fileNameFor("env", ".env"), "secret.env");
    assert.equal(fileNameFor("text", "notes.txt."), "notes.txt");
    assert.equal(fileNameFor("text", "config.json"), "config.json.txt");
    assert.equal(fileNameFor("env", "env"), "env.env");
  });

  test("Windows device names are escaped", () => {
    assert.equal(fileNameFor("text", "CON"), "_CON.txt");
    assert.equal(fileNameFor("json", "nul.json"), "_nul.json");
    assert.equal(fileNameFor("text", "console"), "console.txt");
  });

  test("at most 100 characters, extension included, without splitting characters", () => {
    const name = fileNameFor("yaml", "x".repeat(300));
    assert.equal(name, `${"x".repeat(95)}.yaml`);
    assert.equal(name.length, MAX_FILE_NAME_LENGTH);
    const emoji = fileNameFor("text", "🔑".repeat(120));
    assert.equal(emoji, `${"🔑".repeat(59)}.txt`); // 59 × 4 + 4 = 240 UTF-8 bytes
    assert.equal(fileNameFor("text", `${"a".repeat(95)}. b`), `${"a".repeat(95)}.txt`);
  });

  test("unknown formats throw", () => {
    assert.throws(() => fileNameFor("file", "x"), TypeError);
  });
});

describe("mediaTypeFor", () => {
  test("one per text format", () => {
    assert.equal(mediaTypeFor("text"), "text/plain; charset=utf-8");
    assert.equal(mediaTypeFor("json"), "application/json");
    assert.equal(mediaTypeFor("yaml"), "application/yaml");
    assert.equal(mediaTypeFor("env"), "text/plain; charset=utf-8");
    assert.throws(() => mediaTypeFor("file"), TypeError);
  });
});

describe("safeFileName", () => {
  test("keeps a normal name, Unicode included", () => {
    assert.equal(safeFileName("clé privée ✓.pem"), "clé privée ✓.pem");
    assert.equal(safeFileName("archive.tar.gz"), "archive.tar.gz");
    assert.equal(safeFileName("README"), "README");
  });
  test("takes paths, controls and bidi tricks out", () => {
    assert.equal(safeFileName("../../etc/passwd"), "_.._etc_passwd");
    assert.equal(safeFileName("C:\\Users\\me\\key.pem"), "C_Users_me_key.pem");
    assert.equal(safeFileName("invoice\u202Efdp.exe"), "invoicefdp.exe");
    assert.equal(safeFileName("a\nb\u0000c.txt"), "abc.txt");
  });
  test("never returns an empty, dot-only or device name", () => {
    for (const name of ["", "   ", "...", null, undefined, 42]) {
      assert.equal(safeFileName(/** @type {any} */ (name)), "download", String(name));
    }
    assert.equal(safeFileName(".env"), "env");
  });
  test("shortens long names but keeps the extension", () => {
    const long = `${"ä".repeat(300)}.pdf`;
    const safe = safeFileName(long);
    assert.ok(safe.endsWith(".pdf"));
    assert.ok([...safe].length <= MAX_FILE_NAME_LENGTH);
    assert.ok(new TextEncoder().encode(safe).length <= 240);
    assert.equal(safeFileName("nul.txt"), "_nul.txt");
  });
});
