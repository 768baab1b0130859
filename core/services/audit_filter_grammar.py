"""Syntax of the audit filter language: the Lark grammar and its error messages.

This module turns filter text into a Lark parse tree, or a :class:`FilterError` that says in
a user's words what was expected and where. Meaning (fields, operators per field, values)
is checked in :mod:`core.services.audit_filter`, which re-exports :class:`FilterError`.
"""

from __future__ import annotations

import functools
import re

from lark import Lark, Token, Tree, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from core.errors import InvalidInput

MAX_FILTER_LENGTH = 2_000

# Keywords are regexes with a word boundary and a higher priority than FIELD: a plain
# "or"i literal would split "ORb" into OR + b, and "android" into AND + roid.
GRAMMAR = r"""
?start: disjunction

?disjunction: conjunction (_OR conjunction)*
?conjunction: negation (_AND negation)*
?negation: NOT negation -> negation
         | atom
?atom: condition
     | _LPAR disjunction _RPAR

?condition: FIELD COMPARATOR value                  -> comparison
          | FIELD IN _LPAR [value (_COMMA value)*] _RPAR -> membership
          | FIELD STARTS _WITH value                -> starts_with
          | FIELD CONTAINS value                    -> contains
?value: DQ_STRING | SQ_STRING

COMPARATOR: "!=" | "<=" | ">=" | "=" | "<" | ">"
_OR.2: /or\b/i
_AND.2: /and\b/i
NOT.2: /not\b/i
IN.2: /in\b/i
STARTS.2: /starts\b/i
_WITH.2: /with\b/i
CONTAINS.2: /contains\b/i
// Keywords are reserved: "OR OR x" must say a field was expected, not "unknown field OR".
// Letters beyond ASCII lex as a field too, so "actór" is an unknown field, not a stray "ó".
FIELD: /(?!(?i:and|or|not|in|starts|with|contains)\b)[^\W\d]\w*(\.[^\W\d]\w*)*/
DQ_STRING: /"(?:[^"\\]|\\[\s\S])*"/
SQ_STRING: /'(?:[^'\\]|\\[\s\S])*'/
_LPAR: "("
_RPAR: ")"
_COMMA: ","

// Any Unicode space, so a filter pasted with non-breaking spaces still parses.
WS: /\s+/
%ignore WS
"""

OPERATOR_LIST = "=, !=, in, starts with, contains, <, >, <=, >="
VALUE_PHRASE = "a value in double quotes"

# Lark's terminal names in a user's words, in the order a message lists them.
_TERMINAL_PHRASES: dict[str, str] = {
    "FIELD": "a field name",
    "NOT": "NOT",
    "_LPAR": '"("',
    "COMPARATOR": f"an operator ({OPERATOR_LIST})",
    "IN": f"an operator ({OPERATOR_LIST})",
    "STARTS": f"an operator ({OPERATOR_LIST})",
    "CONTAINS": f"an operator ({OPERATOR_LIST})",
    "_WITH": '"with" (as in starts with)',
    "DQ_STRING": VALUE_PHRASE,
    "SQ_STRING": VALUE_PHRASE,
    "_COMMA": '","',
    "_AND": "AND",
    "_OR": "OR",
    "_RPAR": '")"',
    "$END": "the end of the filter",
}
_STRING_TERMINALS = frozenset({"DQ_STRING", "SQ_STRING"})
_WORD_TERMINALS = frozenset({"FIELD", "NOT", "IN", "STARTS", "CONTAINS", "_WITH", "_AND", "_OR"})
_OPERATOR_TERMINALS = frozenset({"COMPARATOR", "IN", "STARTS", "CONTAINS"})

# JSON's escapes, plus \' so single-quoted values can hold a single quote.
_SIMPLE_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "/": "/", "b": "\b", "f": "\f",
                   "n": "\n", "r": "\r", "t": "\t"}
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
_QUOTED_OR_PAREN = re.compile(r"\"(?:[^\"\\]|\\[\s\S])*\"|'(?:[^'\\]|\\[\s\S])*'|[()]")
_FOUND_TEXT = re.compile(r"[^\s\"'(),]+")
_FOUND_LIMIT = 40


class FilterError(InvalidInput):
    """A filter that cannot be parsed or compiled.

    ``position`` is the 0-based character index of the problem; messages count from 1,
    the way people count characters.
    """

    code = "invalid_filter"

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message, field="filter")
        self.position = position


@functools.cache
def filter_parser() -> Lark:
    return Lark(GRAMMAR, parser="lalr", lexer="contextual", propagate_positions=True)


def parse_tree(text: str) -> Tree[Token]:
    """The Lark tree of a non-blank filter, or a :class:`FilterError`."""
    if len(text) > MAX_FILTER_LENGTH:
        raise FilterError(
            f"a filter is at most {MAX_FILTER_LENGTH:,} characters; this one has {len(text):,}",
            MAX_FILTER_LENGTH,
        )
    try:
        return filter_parser().parse(text)
    except UnexpectedToken as error:
        raise _unexpected_token(text, error) from None
    except UnexpectedCharacters as error:
        raise _unexpected_characters(text, error) from None
    except UnexpectedInput as error:  # Lark's other syntax errors; LALR should not raise them
        position = error.pos_in_stream or 0
        raise FilterError(f"syntax error at character {position + 1}", position) from None


def decode_string(literal: str, position: int) -> str:
    """The value of a quoted token at ``position`` (quotes included), escapes resolved."""
    body = literal[1:-1]
    pieces: list[str] = []
    index = 0
    while index < len(body):
        character = body[index]
        here = position + 1 + index
        if character == "\x00":
            raise _nul_character(here)
        if "\ud800" <= character <= "\udfff":  # only reachable from already-decoded input
            raise _lone_surrogate(ord(character), here)
        if character != "\\":
            pieces.append(character)
            index += 1
            continue
        # The token's regex pairs every backslash with a following character.
        kind = body[index + 1]
        if kind != "u":
            if kind not in _SIMPLE_ESCAPES:
                raise FilterError(
                    f'invalid escape "\\{kind}" in a value; use \\" \\\\ \\n \\t or \\uXXXX '
                    f"(character {here + 1})",
                    here,
                )
            pieces.append(_SIMPLE_ESCAPES[kind])
            index += 2
            continue
        code_point = _hex_escape(body, index, here)
        index += 6
        if 0xDC00 <= code_point <= 0xDFFF:
            raise _lone_surrogate(code_point, here)
        if 0xD800 <= code_point <= 0xDBFF:
            # JSON writes characters beyond the BMP as two adjacent escapes.
            low = _hex_escape(body, index, here) if body.startswith("\\u", index) else None
            if low is None or not 0xDC00 <= low <= 0xDFFF:
                raise _lone_surrogate(code_point, here)
            code_point = 0x10000 + ((code_point - 0xD800) << 10) + (low - 0xDC00)
            index += 6
        if code_point == 0:
            raise _nul_character(here)
        pieces.append(chr(code_point))
    return "".join(pieces)


def _hex_escape(body: str, index: int, position: int) -> int:
    digits = body[index + 2 : index + 6]
    if not _HEX4.fullmatch(digits):
        raise FilterError(f'"\\u" takes four hex digits, e.g. \\u00e9 (character {position + 1})',
                          position)
    return int(digits, 16)


def _nul_character(position: int) -> FilterError:
    # PostgreSQL text cannot hold NUL; refusing it here keeps both databases alike.
    return FilterError(f"values cannot contain the NUL character (character {position + 1})",
                       position)


def _lone_surrogate(code_point: int, position: int) -> FilterError:
    return FilterError(
        f'"\\u{code_point:04x}" is half of a surrogate pair; write the character itself '
        f"or both halves (character {position + 1})",
        position,
    )


def describe_expected(terminals: set[str]) -> str:
    """``{"_AND", "_OR", "$END"}`` -> ``AND, OR or the end of the filter``."""
    phrases: list[str] = []
    for name, phrase in _TERMINAL_PHRASES.items():
        if name in terminals and phrase not in phrases:
            phrases.append(phrase)
    if not phrases:
        return "something else"
    if len(phrases) == 1:
        return phrases[0]
    return ", ".join(phrases[:-1]) + " or " + phrases[-1]


def _shown(text: str) -> str:
    return text if len(text) <= _FOUND_LIMIT else text[: _FOUND_LIMIT - 1] + "…"


def _unexpected_token(text: str, error: UnexpectedToken) -> FilterError:
    token: Token = error.token
    expected = set(error.accepts or error.expected)
    if token.type == "$END":
        if "_RPAR" in expected and not expected & _STRING_TERMINALS:
            opening = _unclosed_parenthesis(text)
            return FilterError(
                f'unexpected end of filter: expected ")" to close the "(" at character '
                f"{opening + 1}",
                opening,
            )
        return FilterError(f"unexpected end of filter: expected {describe_expected(expected)}",
                           len(text))
    position = token.start_pos if token.start_pos is not None else 0
    where = f"at character {position + 1}"
    if token.type == "_RPAR" and "$END" in expected:
        return FilterError(f'unmatched ")" {where}', position)
    if expected & _OPERATOR_TERMINALS and token.type in _WORD_TERMINALS:
        hint = ("; write NOT before the whole condition, e.g. NOT activity_name in (\"a\")"
                if token.type == "NOT" else f"; operators are: {OPERATOR_LIST}")
        return FilterError(f'unknown operator "{_shown(str(token))}" {where}{hint}', position)
    if "FIELD" in expected and token.type in _STRING_TERMINALS:
        return FilterError(
            f"a value needs a field and an operator before it, e.g. activity_name = "
            f"{_shown(str(token))} ({where.replace('at ', '')})",
            position,
        )
    found = str(token) if token.type in _STRING_TERMINALS | _WORD_TERMINALS else f'"{token}"'
    return FilterError(f"expected {describe_expected(expected)} {where}, found {_shown(found)}",
                       position)


def _unexpected_characters(text: str, error: UnexpectedCharacters) -> FilterError:
    position = error.pos_in_stream or 0
    where = f"at character {position + 1}"
    if error.char in "\"'":
        return FilterError(f"unterminated string starting {where}", position)
    expected = _accepted_after(text[:position]) or set(error.allowed or ())
    found_match = _FOUND_TEXT.match(text, position)
    found = found_match.group() if found_match else error.char
    if expected & _OPERATOR_TERMINALS:
        return FilterError(
            f'unknown operator "{_shown(found)}" {where}; operators are: {OPERATOR_LIST}',
            position,
        )
    return FilterError(
        f'expected {describe_expected(expected)} {where}, found "{_shown(found)}"', position)


def _accepted_after(prefix: str) -> set[str]:
    """Terminals the parser accepts after ``prefix`` (Lark's lexer error lists too many)."""
    try:
        interactive = filter_parser().parse_interactive(prefix)
        interactive.exhaust_lexer()
        accepted: set[str] = interactive.accepts()  # type: ignore[no-untyped-call]  # lark 1.3
        return accepted
    except UnexpectedInput:
        return set()


def _unclosed_parenthesis(text: str) -> int:
    """Position of the innermost "(" left open; quoted values may contain parentheses."""
    open_positions: list[int] = []
    for match in _QUOTED_OR_PAREN.finditer(text):
        if match.group() == "(":
            open_positions.append(match.start())
        elif match.group() == ")" and open_positions:
            open_positions.pop()
    return open_positions[-1] if open_positions else len(text)
