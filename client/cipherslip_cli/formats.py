"""Text formats checked before anything is encrypted, by the rules the browser applies
(``web/js/formats/``): the same content is accepted or refused from the web and from ``slip``.

:func:`problems` returns the errors found ("line 4: expected KEY=value"); an empty list means
the content is valid for its format.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

TEXT_FORMATS = ("text", "json", "yaml", "env")
MAX_ERRORS = 50
MEDIA_TYPES = {"text": "text/plain; charset=utf-8", "json": "application/json",
               "yaml": "application/yaml", "env": "text/plain; charset=utf-8"}


def problems(content_format: str, text: str) -> list[str]:
    if content_format == "json":
        return _json_problems(text)
    if content_format == "yaml":
        return _yaml_problems(text)
    if content_format == "env":
        return _env_problems(text)
    return []


# --- JSON (RFC 8259, what JSON.parse accepts) -------------------------------------------------
def _refuse_constant(name: str) -> Any:
    # Python reads NaN and Infinity; JSON (and every browser) does not.
    raise ValueError(f"{name} is not JSON")


def _json_problems(text: str) -> list[str]:
    if not text.strip(" \t\n\r"):
        return ["the JSON is empty"]
    try:
        json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        return [f"{error.msg} at line {error.lineno}, column {error.colno}"]
    except ValueError as error:
        return [str(error)]
    return []


# --- YAML (1.2 in the browser; the checks that matter agree) ------------------------------------
def _yaml_problems(text: str) -> list[str]:
    try:
        # Composing (nodes, not Python values) never expands aliases: no alias bombs.
        documents = [node for node in yaml.compose_all(text, Loader=yaml.SafeLoader)
                     if node is not None]
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return [f"{error.problem or error.context}{where}"]
    except yaml.YAMLError as error:
        return [str(error)]
    if not documents:
        return ["the YAML is empty" if not text.lstrip("\ufeff").strip()
                else "the YAML has only comments, no content"]
    found: list[str] = []
    seen: set[int] = set()
    pending: list[yaml.Node] = list(documents)
    while pending and len(found) < MAX_ERRORS:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[tuple[str, str]] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if (key.tag, key.value) in keys:
                        found.append(f"Map keys must be unique ({key.value!r}) at line "
                                     f"{key.start_mark.line + 1}, column "
                                     f"{key.start_mark.column + 1}")
                    keys.add((key.tag, key.value))
                pending.extend((key, value))
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
    return sorted(found)


# --- env (dotenv) --------------------------------------------------------------------------------
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_PREFIX = re.compile(r"[ \t]*(?:export[ \t]+(?=[^ \t=]))?")
_AFTER_QUOTE = re.compile(r"[ \t]*(?:#.*)?", re.DOTALL)
_IGNORED = re.compile(r"\s*(?:#.*)?", re.DOTALL)


def _env_problems(text: str) -> list[str]:
    body = text.removeprefix("\ufeff")
    if not body.strip():
        return ["the env file is empty"]
    lines = [line.removesuffix("\r") for line in body.split("\n")]
    found: list[str] = []
    first_line: dict[str, int] = {}
    index = 0
    while index < len(lines) and len(found) < MAX_ERRORS:
        line = lines[index]
        if _IGNORED.fullmatch(line):
            index += 1
            continue
        prefix = _PREFIX.match(line)
        rest = line[prefix.end() if prefix else 0:]
        equals = rest.find("=")
        key = rest[:equals].rstrip(" \t") if equals >= 0 else ""
        if equals == -1 or not key or not _KEY.fullmatch(key):
            found.append(f"line {index + 1}: " + (
                "expected KEY=value" if equals == -1
                else "expected KEY=value (the key is missing)" if not key
                else f"invalid key {json.dumps(_clip(key), ensure_ascii=False)} (a key is a "
                     "letter or _, then letters, digits, _ . or -)"))
            index += 1
            continue
        if key in first_line:
            found.append(f"line {index + 1}: duplicate key {key} (first on line "
                         f"{first_line[key]})")
        else:
            first_line[key] = index + 1
        value = rest[equals + 1:].lstrip(" \t")
        if value[:1] not in ("'", '"'):
            index += 1
            continue
        closed = _closing_quote(lines, index, value, value[0])
        if closed is None:
            found.append(f"line {index + 1}: " + (
                "unterminated single-quoted value (no closing ' on this line)"
                if value[0] == "'" else
                'unterminated double-quoted value (no closing " before the end of the file)'))
            if value[0] == '"':
                break  # it ran to the end of the file: nothing is left to check
            index += 1
            continue
        closing_line, after = closed
        if not _AFTER_QUOTE.fullmatch(after):
            found.append(f"line {closing_line + 1}: unexpected text after the closing quote")
        index = closing_line + 1
    if not found and not first_line:
        return ["the env file has only comments, no KEY=value lines"]
    return found[:MAX_ERRORS]


def _closing_quote(lines: list[str], index: int, value: str,
                   quote: str) -> tuple[int, str] | None:
    """Where a quoted value closes (its line and the text after the quote); double-quoted
    values may span lines, as PEM keys in a .env do."""
    line, text, at = index, value, 1
    while True:
        while at < len(text):
            if text[at] == "\\":
                at += 2
            elif text[at] == quote:
                return line, text[at + 1:]
            else:
                at += 1
        if quote != '"' or line + 1 >= len(lines):
            return None
        line += 1
        text, at = lines[line], 0


def _clip(key: str) -> str:
    return key[:40] + "…" if len(key) > 40 else key
