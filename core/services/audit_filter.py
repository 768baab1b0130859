"""The audit filter language (docs/ARCHITECTURE.md): text -> small AST -> SQLAlchemy expression.

    activity_name starts with "paper_secret_" AND actor.user.email = "user@example.com"

Operators are ``=``, ``!=``, ``in (…)``, ``starts with``, ``contains`` and, on ``time``
only, ``<``, ``>``, ``<=``, ``>=``; conditions combine with NOT > AND > OR and parentheses.
The syntax lives in :mod:`core.services.audit_filter_grammar`.

Meaning, the same on SQLite and PostgreSQL:

* Two-valued logic: a condition on a NULL column is false, except ``!=`` which is true, so
  ``NOT (x = "a")`` selects exactly what ``x != "a"`` selects.
* ``starts with`` is case-sensitive like ``=``; ``contains`` ignores case (SQLite folds
  ASCII letters only); in both, ``%`` and ``_`` are data, never wildcards.
* Emails are stored lower-case, so values are lowered; a valid share code is normalized
  (``abcd efgh jkmn`` finds ``ABCD-EFGH-JKMN``).
* Time values are ISO 8601; without an offset they are UTC. A date alone stands for that
  whole UTC day: ``time <= "2026-11-26"`` includes the 26th, ``time > "2026-11-26"``
  starts on the 27th, ``time = "2026-11-26"`` is the whole day.

Only bound parameters reach SQL: values are never formatted into statement text.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cipherslip_crypto.sharecode import normalize_share_code
from lark import Token, Tree
from sqlalchemy import Column, ColumnElement, and_, false, func, inspect, not_, or_, true

from core.db.models import AuditEvent
from core.errors import InvalidShareCode
from core.services.audit import FAILURE, SUCCESS
from core.services.audit_filter_grammar import (
    MAX_FILTER_LENGTH,
    FilterError,
    decode_string,
    parse_tree,
)

__all__ = [
    "FIELDS",
    "MAX_FILTER_LENGTH",
    "MAX_IN_VALUES",
    "MAX_NESTING",
    "And",
    "Condition",
    "Filter",
    "FilterError",
    "MatchAll",
    "Not",
    "Operator",
    "Or",
    "compile_filter",
    "filter_clause",
    "format_filter",
    "parse_filter",
]

MAX_IN_VALUES = 100
MAX_NESTING = 50

# Filter field -> AuditEvent attribute, in the order help text lists them.
_FIELD_COLUMNS: dict[str, str] = {
    "activity_name": "activity_name",
    "actor.user.email": "actor_email",
    "actor.user.uid": "actor_uid",
    "src_endpoint.ip": "src_ip",
    "http_request.user_agent": "user_agent",
    "secret.id": "secret_id",
    "secret.share_code": "share_code",
    "secret.mode": "mode",
    "secret.type": "secret_type",
    "status": "status",
    "status_detail": "status_detail",
    "time": "time",
}
FIELDS: tuple[str, ...] = tuple(_FIELD_COLUMNS)
TIME_FIELD = "time"
_LOWER_CASE_FIELDS = frozenset({"actor.user.email", "secret.mode", "secret.type"})
_STATUSES = {status.lower(): status for status in (SUCCESS, FAILURE)}
_TIME_EXAMPLE = '"2026-11-26T12:00:00Z"'


class Operator(enum.StrEnum):
    EQUALS = "="
    NOT_EQUALS = "!="
    IN = "in"
    STARTS_WITH = "starts with"
    CONTAINS = "contains"
    LESS = "<"
    GREATER = ">"
    LESS_OR_EQUAL = "<="
    GREATER_OR_EQUAL = ">="


_ORDERING = frozenset({Operator.LESS, Operator.GREATER, Operator.LESS_OR_EQUAL,
                       Operator.GREATER_OR_EQUAL})
_TEXT_ONLY = frozenset({Operator.STARTS_WITH, Operator.CONTAINS})
_OPERATOR_BY_RULE = {"starts_with": Operator.STARTS_WITH, "contains": Operator.CONTAINS,
                     "membership": Operator.IN}


# Positions are for error messages; two filters that differ only in spacing are equal.
@dataclasses.dataclass(frozen=True)
class Condition:
    """``field operator value``; ``in`` has 1..100 values, every other operator one."""

    field: str
    operator: Operator
    values: tuple[str, ...]
    position: int = dataclasses.field(default=0, compare=False)


@dataclasses.dataclass(frozen=True)
class And:
    operands: tuple[Filter, ...]


@dataclasses.dataclass(frozen=True)
class Or:
    operands: tuple[Filter, ...]


@dataclasses.dataclass(frozen=True)
class Not:
    operand: Filter
    position: int = dataclasses.field(default=0, compare=False)


@dataclasses.dataclass(frozen=True)
class MatchAll:
    """The empty filter."""


Filter = Condition | And | Or | Not | MatchAll


def filter_clause(text: str) -> ColumnElement[bool]:
    """A WHERE clause over :class:`AuditEvent` for ``text``, or a :class:`FilterError`."""
    return compile_filter(parse_filter(text))


def parse_filter(text: str) -> Filter:
    """The AST of ``text`` (blank means :class:`MatchAll`), or a :class:`FilterError`."""
    if len(text) <= MAX_FILTER_LENGTH and not text.strip():
        return MatchAll()
    try:
        return _from_tree(parse_tree(text), 1)
    except RecursionError:  # MAX_NESTING should prevent it; never let it escape as a 500
        raise _too_deep(0) from None


def compile_filter(node: Filter) -> ColumnElement[bool]:
    """A boolean SQL expression over :class:`AuditEvent` columns; values are bound."""
    try:
        return _compile(node)
    except RecursionError:  # only a hand-built AST gets here; parse_filter limits nesting
        raise _too_deep(0) from None


def format_filter(node: Filter) -> str:
    """Canonical text of ``node``; ``parse_filter(format_filter(node)) == node``."""
    return _format(node, 0)


# --- tree -> AST ---------------------------------------------------------------------------
def _from_tree(tree: Tree[Token] | Token, depth: int) -> Filter:
    assert isinstance(tree, Tree), tree  # the grammar never yields a bare token as a filter
    position = tree.meta.start_pos
    if depth > MAX_NESTING:
        raise _too_deep(position)
    children = tree.children
    if tree.data == "disjunction":
        return Or(tuple(_from_tree(child, depth + 1) for child in children))
    if tree.data == "conjunction":
        return And(tuple(_from_tree(child, depth + 1) for child in children))
    if tree.data == "negation":
        return Not(_from_tree(children[1], depth + 1), position)
    return _condition(tree)


def _condition(tree: Tree[Token]) -> Condition:
    field_token, operator_token, *value_tokens = tree.children
    assert isinstance(field_token, Token) and isinstance(operator_token, Token)
    operator = _OPERATOR_BY_RULE.get(str(tree.data)) or Operator(str(operator_token))
    tokens = [token for token in value_tokens if isinstance(token, Token)]
    values = tuple(decode_string(str(token), token.start_pos or 0) for token in tokens)
    _check(str(field_token), operator, values,
           field_position=field_token.start_pos or 0,
           operator_position=operator_token.start_pos or 0,
           value_positions=[token.start_pos or 0 for token in tokens])
    return Condition(str(field_token), operator, values, field_token.start_pos or 0)


def _check(field: str, operator: Operator, values: tuple[str, ...], *, field_position: int,
           operator_position: int, value_positions: list[int]) -> None:
    """Refuse what the grammar allows but means nothing, pointing at the culprit."""
    if field not in _FIELD_COLUMNS:
        close = difflib.get_close_matches(field, FIELDS, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise FilterError(f'unknown field "{field}" at character {field_position + 1}{hint}; '
                          f"fields are: {', '.join(FIELDS)}", field_position)
    if operator in _ORDERING and field != TIME_FIELD:
        raise FilterError(f'"{operator}" works only with time (character {operator_position + 1})',
                          operator_position)
    if operator in _TEXT_ONLY and field == TIME_FIELD:
        raise FilterError(f'"{operator}" does not work with time; use =, !=, in, <, >, <= or >= '
                          f"(character {operator_position + 1})", operator_position)
    if operator is Operator.IN and not 1 <= len(values) <= MAX_IN_VALUES:
        culprit = value_positions[MAX_IN_VALUES] if values else operator_position
        raise FilterError(f'"in" takes 1 to {MAX_IN_VALUES} values, e.g. activity_name in '
                          f'("a", "b") (character {culprit + 1})', culprit)
    if operator is not Operator.IN and len(values) != 1:
        raise FilterError(f'"{operator}" takes exactly one value (character '
                          f"{operator_position + 1})", operator_position)
    for value, position in zip(values, value_positions, strict=True):
        if "\x00" in value:
            # No event holds one, and PostgreSQL refuses to even compare with one.
            raise FilterError(f"a value cannot contain a NUL character (character "
                              f"{position + 1})", position)
    if field == TIME_FIELD:
        for value, position in zip(values, value_positions, strict=True):
            _time_range(value, position)


def _too_deep(position: int) -> FilterError:
    return FilterError(f"the filter nests more than {MAX_NESTING} levels deep "
                       f"(character {position + 1})", position)


# --- AST -> SQL ---------------------------------------------------------------------------
def _compile(node: Filter) -> ColumnElement[bool]:
    if isinstance(node, MatchAll):
        return true()
    if isinstance(node, And):
        return and_(*map(_compile, node.operands)) if node.operands else true()
    if isinstance(node, Or):
        return or_(*map(_compile, node.operands)) if node.operands else false()
    if isinstance(node, Not):
        # Every compiled condition is TRUE or FALSE, never NULL, so NOT is a complement.
        return not_(_compile(node.operand))
    return _compile_condition(node)


def _compile_condition(condition: Condition) -> ColumnElement[bool]:
    # A hand-built AST gets the same checks parse_filter applies.
    _check(condition.field, condition.operator, condition.values,
           field_position=condition.position, operator_position=condition.position,
           value_positions=[condition.position] * len(condition.values))
    column: Column[Any] = inspect(AuditEvent).columns[_FIELD_COLUMNS[condition.field]]
    if condition.field == TIME_FIELD:
        return _compile_time(column, condition)
    operator, value = condition.operator, condition.values[0]
    if operator is Operator.NOT_EQUALS:
        different = column != _normalized(condition.field, value)
        return or_(column.is_(None), different) if column.nullable else different
    if operator is Operator.EQUALS:
        matched = column == _normalized(condition.field, value)
    elif operator is Operator.IN:
        matched = column.in_([_normalized(condition.field, item) for item in condition.values])
    elif operator is Operator.STARTS_WITH:
        prefix = _normalized_prefix(condition.field, value)
        # SQLite's LIKE ignores ASCII case; comparing the leading characters keeps
        # "starts with" as exact as "=" there, while LIKE can still use an index elsewhere.
        matched = and_(column.startswith(prefix, autoescape=True),
                       func.substr(column, 1, len(prefix)) == prefix)
    else:
        matched = column.icontains(value, autoescape=True)
    return and_(column.is_not(None), matched) if column.nullable else matched


def _normalized(field: str, value: str) -> str:
    if field in _LOWER_CASE_FIELDS:
        return value.lower()
    if field == "secret.share_code":
        try:
            return normalize_share_code(value)
        except InvalidShareCode:
            return value  # not a code, so it matches nothing; still a valid filter
    if field == "status":
        return _STATUSES.get(value.lower(), value)
    return value


def _normalized_prefix(field: str, prefix: str) -> str:
    if field in _LOWER_CASE_FIELDS:
        return prefix.lower()
    if field == "secret.share_code":
        return prefix.upper()  # a partial code cannot be fully normalized
    return prefix


def _compile_time(column: Column[Any], condition: Condition) -> ColumnElement[bool]:
    ranges = [_time_range(value, condition.position) for value in condition.values]
    start, end = ranges[0]
    match condition.operator:
        case Operator.LESS:
            matched = column < start
        case Operator.GREATER_OR_EQUAL:
            matched = column >= start
        case Operator.GREATER:
            matched = column > start if end is None else column >= end
        case Operator.LESS_OR_EQUAL:
            matched = column <= start if end is None else column < end
        case Operator.NOT_EQUALS:
            different = not_(_time_equals(column, start, end))
            return or_(column.is_(None), different) if column.nullable else different
        case _:  # = and in
            matched = or_(*(_time_equals(column, *bounds) for bounds in ranges))
    return and_(column.is_not(None), matched) if column.nullable else matched


def _time_equals(column: Column[Any], start: datetime,
                 end: datetime | None) -> ColumnElement[bool]:
    return column == start if end is None else and_(column >= start, column < end)


def _time_range(value: str, position: int) -> tuple[datetime, datetime | None]:
    """``(instant, None)`` for a date-time, ``(midnight, next midnight)`` for a date (UTC)."""
    try:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            moment = datetime.fromisoformat(value)
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
            return moment.astimezone(UTC), None
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        try:
            return start, start + timedelta(days=1)
        except OverflowError:  # 9999-12-31: the day ends with the calendar
            return start, datetime.max.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise FilterError(f"time values are ISO 8601 dates, e.g. {_TIME_EXAMPLE} "
                          f"(character {position + 1})", position) from None


# --- AST -> text --------------------------------------------------------------------------
_PRECEDENCE = {Or: 1, And: 2, Not: 3}


def _format(node: Filter, outer_precedence: int) -> str:
    if isinstance(node, MatchAll):
        return ""
    if isinstance(node, Condition):
        quoted = [json.dumps(value, ensure_ascii=False) for value in node.values]
        if node.operator is Operator.IN:
            return f"{node.field} in ({', '.join(quoted)})"
        return f"{node.field} {node.operator} {quoted[0]}"
    precedence = _PRECEDENCE[type(node)]
    if isinstance(node, Not):
        text = f"NOT {_format(node.operand, precedence)}"
    else:
        joiner = " OR " if isinstance(node, Or) else " AND "
        # Equal precedence nests too: And(And(a, b), c) keeps its shape through a round trip.
        text = joiner.join(_format(operand, precedence + 1) for operand in node.operands)
    return f"({text})" if precedence < outer_precedence else text
