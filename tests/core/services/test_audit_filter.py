"""The audit filter language: the documented examples, semantics on both databases, errors.

Expected results are computed in Python from the recorded events (through the exported
OCSF shape, so the field -> column mapping is checked too), never hard-coded id lists.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cipherslip_crypto.sharecode import share_code_from_bits
from sqlalchemy import ColumnElement, Engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from core.clock import as_utc
from core.db.engine import create_db_engine, create_session_factory
from core.db.models import AuditEvent, Secret
from core.errors import InvalidInput
from core.services import audit
from core.services.audit import Actor, AuditLog, to_ocsf
from core.services.audit_filter import (
    FIELDS,
    MAX_IN_VALUES,
    And,
    Condition,
    Filter,
    FilterError,
    MatchAll,
    Not,
    Operator,
    Or,
    compile_filter,
    filter_clause,
    format_filter,
    parse_filter,
)
from core.services.audit_filter_grammar import filter_parser
from core.services.identity import ClientInfo
from tests.support.clock import MovableClock

START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
STEP = timedelta(hours=3)  # event 12 lands exactly on 2026-11-26T00:00:00Z
TENANT = "default"

Event = AuditEvent
Predicate = Callable[[Event], bool]


def _secret(number: int, audience: str, secret_type: str) -> Secret:
    # Transient: AuditLog.record only reads these attributes.
    return Secret(id=f"00000000-0000-4000-8000-{number:012d}",
                  share_code=share_code_from_bits(0x0123456789ABCDE * number % (1 << 60)),
                  audience=audience, secret_type=secret_type)


INTERNAL_TEXT = _secret(1, "internal", "text")
EXTERNAL_FILE = _secret(2, "external", "file")
EXTERNAL_TEXT = _secret(3, "external", "text")
INTERNAL_FILE = _secret(4, "internal", "file")

ALICE = Actor("alice@example.com", "u-alice")
BOB = Actor("bob@example.com", "u-bob")
CAROL = Actor("carol@example.org", "u-carol")
USER = Actor("user@example.com", "u-user")
ADMIN = Actor("admin@example.com", "u-admin")
GUEST = Actor("ext@partner.test")
GUEST_2 = Actor("ext2@partner.test")
NOBODY = Actor(None)

FIREFOX = ClientInfo("10.0.0.1", "Mozilla/5.0 (X11; Linux) Firefox/120.0")
FIREFOX_2 = ClientInfo("10.0.0.2", "Mozilla/5.0 (X11; Linux) Firefox/120.0")
CURL = ClientInfo("203.0.113.5", "curl/8.5.0")
SAFARI = ClientInfo("198.51.100.7", "Mozilla/5.0 (Macintosh) Safari/605.1.15")
SCRAPER = ClientInfo("192.0.2.66", None)
SLACKBOT = ClientInfo("2001:db8::1", "Slackbot 1.0 (50%_off)")
BOBBY_TABLES = ClientInfo("10.0.0.3", "Robert'); DROP TABLE audit_events;--")
NOWHERE = ClientInfo(None, None)

# (activity, actor, client, secret, status, status_detail); one event every STEP.
EVENTS: list[tuple[str, Actor, ClientInfo, Secret | None, str, str | None]] = [
    (audit.SECRET_CREATED, ALICE, FIREFOX, INTERNAL_TEXT, "Success", None),
    (audit.OPENED_INTERNAL, BOB, FIREFOX_2, INTERNAL_TEXT, "Success", None),
    (audit.ACCESS_DENIED, CAROL, CURL, INTERNAL_TEXT, "Failure", "not_a_recipient"),
    (audit.SECRET_CREATED, USER, FIREFOX, EXTERNAL_FILE, "Success", None),
    (audit.MAGIC_LINK_CREATED, GUEST, SAFARI, EXTERNAL_FILE, "Success", None),
    (audit.OPENED_EXTERNAL, GUEST, SAFARI, EXTERNAL_FILE, "Success", None),
    (audit.FILE_DOWNLOADED, GUEST, SAFARI, EXTERNAL_FILE, "Success", None),
    (audit.ACCESS_DENIED, NOBODY, SCRAPER, EXTERNAL_FILE, "Failure", "magic_link_expired"),
    (audit.REVOKED, USER, FIREFOX, EXTERNAL_FILE, "Success", None),
    (audit.SECRET_CREATED, ALICE, FIREFOX, EXTERNAL_TEXT, "Success", None),
    (audit.MAGIC_LINK_CREATED, GUEST_2, SAFARI, EXTERNAL_TEXT, "Success", None),
    (audit.ACCESS_DENIED, NOBODY, SCRAPER, None, "Failure", "rate_limited"),
    (audit.OPENED_EXTERNAL, GUEST_2, SAFARI, EXTERNAL_TEXT, "Success", None),  # midnight
    (audit.REVOKED_ADMIN, ADMIN, FIREFOX, EXTERNAL_TEXT, "Success", None),
    (audit.SECRET_CREATED, USER, FIREFOX, INTERNAL_FILE, "Success", None),
    (audit.OPENED_INTERNAL, ALICE, SLACKBOT, INTERNAL_FILE, "Success", None),
    (audit.FILE_DOWNLOADED, ALICE, SLACKBOT, INTERNAL_FILE, "Success", None),
    (audit.ACCESS_DENIED, BOB, CURL, INTERNAL_FILE, "Failure", "quota_100%_used"),
    # Not a documented event name: "paper_secret_" must not match it through LIKE's "_" wildcard.
    ("paperXsecretYopened", BOB, FIREFOX, None, "Success", None),
    (audit.ACCESS_DENIED, USER, BOBBY_TABLES, INTERNAL_TEXT, "Failure", "not_a_recipient"),
    (audit.OPENED_INTERNAL, USER, FIREFOX, INTERNAL_TEXT, "Success", "via \\slack\\ /path"),
    (audit.ACCESS_DENIED, NOBODY, NOWHERE, None, "Failure", None),
]


@dataclasses.dataclass
class AuditDatabase:
    engine: Engine
    sessions: sessionmaker[Session]
    events: list[Event]

    def matching(self, text: str) -> set[int]:
        with self.sessions() as session:
            return set(session.scalars(select(AuditEvent.id).where(filter_clause(text))))

    def expected(self, predicate: Predicate) -> set[int]:
        return {row.id for row in self.events if predicate(row)}

    @property
    def all_ids(self) -> set[int]:
        return {row.id for row in self.events}

    def row_count(self) -> int:
        with self.sessions() as session:
            return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


@pytest.fixture
def audit_db(database_url: str) -> Iterator[AuditDatabase]:
    engine = create_db_engine(database_url)
    sessions = create_session_factory(engine)
    clock = MovableClock(START)
    log = AuditLog(clock)
    with sessions.begin() as session:
        for activity, actor, client, secret, status, detail in EVENTS:
            log.record(session, activity, tenant_id=TENANT, actor=actor, client=client,
                       secret=secret, status=status, status_detail=detail)
            clock.advance(STEP)
    with sessions() as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    yield AuditDatabase(engine, sessions, events)
    engine.dispose()


def field_value(row: Event, field: str) -> Any:
    """A field read from the exported OCSF document, independently of the filter's mapping."""
    node: Any = to_ocsf(row)
    for part in field.split("."):
        node = node[part]
    return node


def field_equals(field: str, value: object) -> Predicate:
    return lambda row: field_value(row, field) == value


def when(row: Event) -> datetime:
    return as_utc(row.time)


def check(db: AuditDatabase, cases: list[tuple[str, Predicate]]) -> None:
    """Run every case and report all mismatches at once."""
    mismatches = []
    for text, predicate in cases:
        want, got = db.expected(predicate), db.matching(text)
        if want != got:
            mismatches.append(
                (text, f"missing {sorted(want - got)}", f"extra {sorted(got - want)}"))
    assert mismatches == []


def at_utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


# --- the documented examples ----------------------------------------------------------------------
def test_spec_examples_select_exactly_the_documented_events(audit_db: AuditDatabase) -> None:
    check(audit_db, [
        ('activity_name starts with "paper_secret_"',
         lambda e: e.activity_name.startswith("paper_secret_")),
        ('activity_name in ("paper_secret_opened", "paper_secret_opened_internal")',
         lambda e: e.activity_name in {audit.OPENED_EXTERNAL, audit.OPENED_INTERNAL}),
        ('activity_name = "paper_secret_access_denied"',
         lambda e: e.activity_name == audit.ACCESS_DENIED),
        ('activity_name starts with "paper_secret_" AND actor.user.email = "user@example.com"',
         lambda e: e.activity_name.startswith("paper_secret_")
         and e.actor_email == "user@example.com"),
        # "External activity only" (docs/reference seed).
        ('activity_name in ("paper_secret_opened", "paper_secret_magic_link_created")',
         lambda e: e.activity_name in {audit.OPENED_EXTERNAL, audit.MAGIC_LINK_CREATED}),
    ])
    # The fixture really exercises each example: none is vacuous or everything.
    denied = audit_db.matching('activity_name = "paper_secret_access_denied"')
    assert 0 < len(denied) < len(audit_db.events)
    assert audit_db.matching('activity_name starts with "paper_secret_"') != audit_db.all_ids


def test_every_field_maps_to_its_exported_value(audit_db: AuditDatabase) -> None:
    cases: list[tuple[str, Predicate]] = []
    for field in FIELDS:
        if field == "time":
            continue
        values = {field_value(row, field) for row in audit_db.events} - {None}
        assert len(values) >= 2, field  # the fixture varies every field
        for value in sorted(values):
            cases.append((f"{field} = {json.dumps(value)}", field_equals(field, value)))
    check(audit_db, cases)


# --- boolean structure ---------------------------------------------------------------------
def test_and_or_not_parentheses_and_precedence(audit_db: AuditDatabase) -> None:
    def denied(e: Event) -> bool:
        return e.activity_name == audit.ACCESS_DENIED

    def alice(e: Event) -> bool:
        return e.actor_email == "alice@example.com"

    def external(e: Event) -> bool:
        return e.mode == "external"

    check(audit_db, [
        ('activity_name = "paper_secret_access_denied" OR actor.user.email = "alice@example.com"',
         lambda e: denied(e) or alice(e)),
        ('activity_name = "paper_secret_access_denied" AND secret.mode = "external"',
         lambda e: denied(e) and external(e)),
        ('NOT activity_name = "paper_secret_access_denied"', lambda e: not denied(e)),
        # AND binds tighter than OR ...
        ('actor.user.email = "alice@example.com" OR activity_name = "paper_secret_access_denied"'
         ' AND secret.mode = "external"', lambda e: alice(e) or (denied(e) and external(e))),
        # ... unless parentheses say otherwise.
        ('(actor.user.email = "alice@example.com" OR activity_name = "paper_secret_access_denied")'
         ' AND secret.mode = "external"', lambda e: (alice(e) or denied(e)) and external(e)),
        # NOT binds tighter than AND.
        ('NOT secret.mode = "external" AND activity_name = "paper_secret_access_denied"',
         lambda e: not external(e) and denied(e)),
        ('NOT (secret.mode = "external" AND activity_name = "paper_secret_access_denied")',
         lambda e: not (external(e) and denied(e))),
        ('NOT NOT secret.mode = "external"', external),
        ('((((secret.mode = "external"))))', external),
        ('secret.mode = "external" OR NOT secret.mode = "external"', lambda e: True),
        ('secret.mode = "external" AND NOT secret.mode = "external"', lambda e: False),
        ('actor.user.email = "alice@example.com" OR actor.user.email = "bob@example.com" OR '
         'actor.user.email = "carol@example.org"',
         lambda e: e.actor_email in {"alice@example.com", "bob@example.com",
                                     "carol@example.org"}),
    ])


def test_not_is_the_exact_complement_even_on_null_columns(audit_db: AuditDatabase) -> None:
    """Two-valued logic: ``NOT (f op v)`` and ``f != v`` never lose rows to NULL."""
    everything = audit_db.all_ids
    for field in FIELDS:
        if field == "time":
            continue
        value = next(field_value(row, field) for row in audit_db.events
                     if field_value(row, field) is not None)
        quoted = json.dumps(value)
        for condition in (f"{field} = {quoted}", f"{field} in ({quoted}, \"zzz\")",
                          f"{field} starts with {quoted[:4]}\"", f"{field} contains {quoted}"):
            selected = audit_db.matching(condition)
            assert audit_db.matching(f"NOT ({condition})") == everything - selected, condition
        equal = audit_db.matching(f"{field} = {quoted}")
        assert audit_db.matching(f"{field} != {quoted}") == everything - equal, field


def test_not_equal_includes_events_without_that_field(audit_db: AuditDatabase) -> None:
    check(audit_db, [
        ('actor.user.email != "alice@example.com"', lambda e: e.actor_email != "alice@example.com"),
        ('src_endpoint.ip != "192.0.2.66"', lambda e: e.src_ip != "192.0.2.66"),
        ('secret.mode != "internal"', lambda e: e.mode != "internal"),
        ('actor.user.email = "alice@example.com"', lambda e: e.actor_email == "alice@example.com"),
        ('actor.user.email starts with ""', lambda e: e.actor_email is not None),
        ('NOT actor.user.email starts with ""', lambda e: e.actor_email is None),
        ('status_detail contains ""', lambda e: e.status_detail is not None),
    ])
    assert any(row.actor_email is None for row in audit_db.events)


# --- text operators --------------------------------------------------------------------------
def test_starts_with_and_contains_treat_wildcards_as_data(audit_db: AuditDatabase) -> None:
    check(audit_db, [
        ('activity_name starts with "paper_secret_"',
         lambda e: e.activity_name.startswith("paper_secret_")),
        ('activity_name starts with "paper"', lambda e: e.activity_name.startswith("paper")),
        ('activity_name starts with "PAPER_"', lambda e: False),  # case-sensitive, like =
        ('activity_name starts with "%"', lambda e: False),
        ('activity_name starts with "_"', lambda e: False),
        ('activity_name contains "_opened"', lambda e: "_opened" in e.activity_name),
        ('activity_name contains "X"', lambda e: "x" in e.activity_name.lower()),
        ('activity_name contains "OPENED"', lambda e: "opened" in e.activity_name),
        ('http_request.user_agent contains "50%_off"',
         lambda e: "50%_off" in (e.user_agent or "")),
        ('http_request.user_agent contains "%"', lambda e: "%" in (e.user_agent or "")),
        ('http_request.user_agent contains "firefox"',
         lambda e: "firefox" in (e.user_agent or "").lower()),
        ('status_detail contains "100%_"', lambda e: "100%_" in (e.status_detail or "")),
        ('status_detail contains "_"', lambda e: "_" in (e.status_detail or "")),
        # The LIKE escape character and backslashes are data too.
        ('status_detail contains "/path"', lambda e: "/path" in (e.status_detail or "")),
        ('status_detail contains "\\\\slack\\\\"',
         lambda e: "\\slack\\" in (e.status_detail or "")),
        ('status_detail starts with "via \\\\"',
         lambda e: (e.status_detail or "").startswith("via \\")),
        ('src_endpoint.ip starts with "10.0.0."', lambda e: (e.src_ip or "").startswith("10.0.0.")),
        ('actor.user.email contains "EXAMPLE.COM"',
         lambda e: "example.com" in (e.actor_email or "")),
    ])


def test_emails_share_codes_and_statuses_are_normalized(audit_db: AuditDatabase) -> None:
    code = EXTERNAL_FILE.share_code
    sloppy = code.replace("-", " ").lower().replace("0", "o").replace("1", "l")
    check(audit_db, [
        ('actor.user.email = "User@Example.COM"', lambda e: e.actor_email == "user@example.com"),
        ('actor.user.email in ("ALICE@example.com", "Bob@Example.com")',
         lambda e: e.actor_email in {"alice@example.com", "bob@example.com"}),
        ('actor.user.email starts with "ALICE@"',
         lambda e: (e.actor_email or "").startswith("alice@")),
        (f'secret.share_code = "{sloppy}"', lambda e: e.share_code == code),
        (f'secret.share_code = "{code}"', lambda e: e.share_code == code),
        (f'secret.share_code starts with "{code[:6].lower()}"',
         lambda e: (e.share_code or "").startswith(code[:6])),
        ('secret.share_code = "not-a-code"', lambda e: False),
        ('status = "failure"', lambda e: e.status == "Failure"),
        ('status != "SUCCESS"', lambda e: e.status != "Success"),
        ('secret.mode = "External"', lambda e: e.mode == "external"),
        ('secret.type in ("FILE")', lambda e: e.secret_type == "file"),
    ])


# --- time -------------------------------------------------------------------------------------
def test_time_ranges_with_instants_and_dates(audit_db: AuditDatabase) -> None:
    midnight = at_utc(2026, 11, 26)
    assert any(when(row) == midnight for row in audit_db.events)  # the boundary is exercised
    third = audit_db.events[2]
    check(audit_db, [
        ('time < "2026-11-26T00:00:00Z"', lambda e: when(e) < midnight),
        ('time <= "2026-11-26T00:00:00Z"', lambda e: when(e) <= midnight),
        ('time > "2026-11-26T00:00:00Z"', lambda e: when(e) > midnight),
        ('time >= "2026-11-26T00:00:00Z"', lambda e: when(e) >= midnight),
        # Naive means UTC; an offset is converted.
        ('time >= "2026-11-26T00:00:00"', lambda e: when(e) >= midnight),
        ('time >= "2026-11-26T01:00:00+01:00"', lambda e: when(e) >= midnight),
        ('time < "2026-11-25T23:00:00-01:00"', lambda e: when(e) < midnight),
        # A date is its whole UTC day.
        ('time < "2026-11-26"', lambda e: when(e) < midnight),
        ('time >= "2026-11-26"', lambda e: when(e) >= midnight),
        ('time <= "2026-11-25"', lambda e: when(e) < midnight),
        ('time > "2026-11-25"', lambda e: when(e) >= midnight),
        ('time = "2026-11-25"', lambda e: when(e).date().isoformat() == "2026-11-25"),
        ('time != "2026-11-25"', lambda e: when(e).date().isoformat() != "2026-11-25"),
        ('time in ("2026-11-24", "2026-11-26")',
         lambda e: when(e).date().isoformat() in {"2026-11-24", "2026-11-26"}),
        (f'time = "{when(third).isoformat()}"', lambda e: e.id == third.id),
        ('time >= "2026-11-25T06:00:00Z" AND time < "2026-11-26T06:00:00Z"',
         lambda e: at_utc(2026, 11, 25, 6) <= when(e) < at_utc(2026, 11, 26, 6)),
        ('time > "2026-11-25T06:00:00Z" AND activity_name = "paper_secret_access_denied"',
         lambda e: when(e) > at_utc(2026, 11, 25, 6) and e.activity_name == audit.ACCESS_DENIED),
        ('time > "9999-12-31"', lambda e: False),
        ('time <= "9999-12-31"', lambda e: True),
    ])


# --- syntax variants ------------------------------------------------------------------------
def test_keywords_quotes_escapes_and_whitespace(audit_db: AuditDatabase) -> None:
    def denied_external(e: Event) -> bool:
        return e.activity_name == audit.ACCESS_DENIED and e.mode == "external"

    check(audit_db, [
        ('activity_name = "paper_secret_access_denied" and secret.mode = "external"',
         denied_external),
        ('activity_name = "paper_secret_access_denied" AnD secret.mode = "external"',
         denied_external),
        ("activity_name = 'paper_secret_access_denied' AND secret.mode = 'external'",
         denied_external),
        ('activity_name STARTS WITH "paper_secret_opened"',
         lambda e: e.activity_name.startswith("paper_secret_opened")),
        ('activity_name Contains "LINK"', lambda e: "link" in e.activity_name),
        ('activity_name IN ("paper_secret_revoked")',
         lambda e: e.activity_name == audit.REVOKED),
        ('not activity_name in ("paper_secret_revoked") or status = "Failure"',
         lambda e: e.activity_name != audit.REVOKED or e.status == "Failure"),
        # JSON-style escapes in both quote styles.
        ('activity_name = "paper\\u005fsecret\\u005Frevoked"',
         lambda e: e.activity_name == audit.REVOKED),
        ("http_request.user_agent = 'Robert\\'); DROP TABLE audit_events;--'",
         lambda e: e.user_agent == BOBBY_TABLES.user_agent),
        ('http_request.user_agent = "Robert\'); DROP TABLE audit_events;--"',
         lambda e: e.user_agent == BOBBY_TABLES.user_agent),
        ('status_detail = "via \\\\slack\\\\ \\/path"',
         lambda e: e.status_detail == "via \\slack\\ /path"),
        # Any whitespace, including newlines and a pasted non-breaking space; none needed.
        ('\n  activity_name\t=\u00a0"paper_secret_revoked"\r\n',
         lambda e: e.activity_name == audit.REVOKED),
        ('(activity_name="paper_secret_revoked")OR(status="Failure")',
         lambda e: e.activity_name == audit.REVOKED or e.status == "Failure"),
        ("", lambda e: True),
        ("   \n\t", lambda e: True),
    ])


# --- injection ----------------------------------------------------------------------------
INJECTIONS = [
    'actor.user.email = "x\' OR \'1\'=\'1"',
    'activity_name = "\\"; DROP TABLE audit_events; --"',
    "activity_name = 'x\\' OR 1=1 --'",
    'activity_name in ("a\'); DROP TABLE audit_events; --", "b")',
    'status_detail starts with "\'; DELETE FROM audit_events; --"',
    'actor.user.email contains "\' OR \'1\'=\'1"',
    'src_endpoint.ip != "x\' OR \'1\'=\'1" AND src_endpoint.ip = "\' OR 1=1 --"',
    'time < "2026-11-26\'; DROP TABLE audit_events; --" OR status = "x"',
]


@pytest.mark.parametrize("text", INJECTIONS[:-1])
def test_injection_attempts_are_plain_data(audit_db: AuditDatabase, text: str) -> None:
    before = audit_db.row_count()
    assert audit_db.matching(text) == set()
    assert audit_db.row_count() == before == len(EVENTS)


def test_injection_through_a_time_value_is_refused_before_sql() -> None:
    with pytest.raises(FilterError, match="ISO 8601"):
        filter_clause(INJECTIONS[-1])


@pytest.mark.parametrize("text", INJECTIONS[:-1])
def test_compiled_sql_carries_values_as_bound_parameters(text: str) -> None:
    for dialect_sql in compiled_sql(filter_clause(text)):
        for fragment in ("DROP", "DELETE", "1'='1", "1=1", "' OR"):
            assert fragment not in dialect_sql, (text, dialect_sql)


def compiled_sql(clause: ColumnElement[bool]) -> list[str]:
    return [str(clause.compile()),
            str(clause.compile(dialect=make_url("sqlite://").get_dialect()())),
            str(clause.compile(dialect=make_url("postgresql+psycopg://").get_dialect()()))]


def test_every_operator_binds_its_value() -> None:
    secret_value = "s3cr3t-v4lue"
    for text in [f'status_detail = "{secret_value}"', f'status_detail != "{secret_value}"',
                 f'status_detail in ("{secret_value}", "other-{secret_value}")',
                 f'status_detail starts with "{secret_value}"',
                 f'status_detail contains "{secret_value}"']:
        clause = filter_clause(text)
        for dialect_sql in compiled_sql(clause):
            assert secret_value not in dialect_sql, dialect_sql
        assert secret_value in json.dumps(clause.compile().params)
    for text in ['time < "2026-11-26T12:34:56Z"', 'time = "2026-11-26"']:
        for dialect_sql in compiled_sql(filter_clause(text)):
            assert "2026" not in dialect_sql


# --- errors ---------------------------------------------------------------------------------
FIELD_LIST = ", ".join(FIELDS)

# (filter, 0-based position, exact message)
MALFORMED: list[tuple[str, int, str]] = [
    ('activity_name = paper_secret_opened', 16,
     "expected a value in double quotes at character 17, found paper_secret_opened"),
    ("activity_name =", 15, "unexpected end of filter: expected a value in double quotes"),
    ('activity_name "paper_secret_opened"', 14,
     "expected an operator (=, !=, in, starts with, contains, <, >, <=, >=) at character 15, "
     'found "paper_secret_opened"'),
    ('actor.email = "x@example.com"', 0,
     'unknown field "actor.email" at character 1 (did you mean actor.user.email?); '
     f"fields are: {FIELD_LIST}"),
    ('status = "x" AND nonsense = "y"', 17,
     f'unknown field "nonsense" at character 18; fields are: {FIELD_LIST}'),
    ('activity_name like "paper%"', 14,
     'unknown operator "like" at character 15; operators are: '
     "=, !=, in, starts with, contains, <, >, <=, >="),
    ('activity_name ~ "x"', 14,
     'unknown operator "~" at character 15; operators are: '
     "=, !=, in, starts with, contains, <, >, <=, >="),
    ('activity_name not in ("a")', 14,
     'unknown operator "not" at character 15; write NOT before the whole condition, '
     'e.g. NOT activity_name in ("a")'),
    ('activity_name starts "paper"', 21,
     'expected "with" (as in starts with) at character 22, found "paper"'),
    ('activity_name < "paper"', 14, '"<" works only with time (character 15)'),
    ('status >= "Success"', 7, '">=" works only with time (character 8)'),
    ('time contains "2026"', 5,
     '"contains" does not work with time; use =, !=, in, <, >, <= or >= (character 6)'),
    ('time > "yesterday"', 7,
     'time values are ISO 8601 dates, e.g. "2026-11-26T12:00:00Z" (character 8)'),
    ('time > "2026-11-26" AND time < "2026-13-01"', 31,
     'time values are ISO 8601 dates, e.g. "2026-11-26T12:00:00Z" (character 32)'),
    ('time in ("2026-11-26", "26/11/2026")', 23,
     'time values are ISO 8601 dates, e.g. "2026-11-26T12:00:00Z" (character 24)'),
    ('activity_name = "paper_secret_opened', 16, "unterminated string starting at character 17"),
    ("activity_name = 'paper_secret_opened", 16, "unterminated string starting at character 17"),
    ('activity_name = "ends with a backslash\\"', 16,
     "unterminated string starting at character 17"),
    ('(activity_name = "a" OR status = "Failure"', 0,
     'unexpected end of filter: expected ")" to close the "(" at character 1'),
    ('status = "x" AND ((activity_name = "(a)") OR (status = "y"', 45,
     'unexpected end of filter: expected ")" to close the "(" at character 46'),
    ('activity_name = "a")', 19, 'unmatched ")" at character 20'),
    ('activity_name = "a" status = "Failure"', 20,
     "expected AND, OR or the end of the filter at character 21, found status"),
    ('activity_name = "a" && status = "Failure"', 20,
     'expected AND, OR or the end of the filter at character 21, found "&&"'),
    ('(activity_name = "a" status = "b")', 21,
     'expected AND, OR or ")" at character 22, found status'),
    ("activity_name in ()", 14,
     '"in" takes 1 to 100 values, e.g. activity_name in ("a", "b") (character 15)'),
    ('activity_name in ("a",)', 22,
     'expected a value in double quotes at character 23, found ")"'),
    ('activity_name in ("a" "b")', 22, 'expected "," or ")" at character 23, found "b"'),
    ('activity_name in (', 18,
     'unexpected end of filter: expected a value in double quotes or ")"'),
    ('activity_name in ("a"', 17,
     'unexpected end of filter: expected ")" to close the "(" at character 18'),
    ('activity_name in "a"', 17, 'expected "(" at character 18, found "a"'),
    ('activity_name = "a" AND', 23,
     'unexpected end of filter: expected a field name, NOT or "("'),
    ('activity_name = "a" OR OR status = "b"', 23,
     'expected a field name, NOT or "(" at character 24, found OR'),
    ('AND activity_name = "a"', 0,
     'expected a field name, NOT or "(" at character 1, found AND'),
    ('"paper_secret_opened"', 0,
     'a value needs a field and an operator before it, e.g. activity_name = '
     '"paper_secret_opened" (character 1)'),
    ("NOT", 3, 'unexpected end of filter: expected a field name, NOT or "("'),
    ("()", 1, 'expected a field name, NOT or "(" at character 2, found ")"'),
    ("activity_name", 13,
     "unexpected end of filter: expected an operator "
     "(=, !=, in, starts with, contains, <, >, <=, >=)"),
    ('activity_name == "a"', 15,
     'expected a value in double quotes at character 16, found "="'),
    ('activity_name = 42', 16, 'expected a value in double quotes at character 17, found "42"'),
    ('activity_name = "a\\q"', 18,
     'invalid escape "\\q" in a value; use \\" \\\\ \\n \\t or \\uXXXX (character 19)'),
    ('activity_name = "a\\u12"', 18,
     '"\\u" takes four hex digits, e.g. \\u00e9 (character 19)'),
    ('activity_name = "\\ud83d"', 17,
     '"\\ud83d" is half of a surrogate pair; write the character itself or both halves '
     "(character 18)"),
    ('activity_name = "a\\u0000"', 18, "values cannot contain the NUL character (character 19)"),
    ('activity_name = "a\x00"', 18, "values cannot contain the NUL character (character 19)"),
    ('activity_name = "a" | b', 20,
     'expected AND, OR or the end of the filter at character 21, found "|"'),
]


@pytest.mark.parametrize(("text", "position", "message"), MALFORMED,
                         ids=[case[0][:40] for case in MALFORMED])
def test_malformed_filters_say_what_was_expected_and_where(
    text: str, position: int, message: str,
) -> None:
    with pytest.raises(FilterError) as raised:
        filter_clause(text)
    error = raised.value
    assert (error.position, error.message) == (position, message)
    assert str(error) == message
    assert error.field == "filter"
    assert isinstance(error, InvalidInput)
    assert 0 <= error.position <= len(text)


def test_malformed_filters_never_reach_the_database(audit_db: AuditDatabase) -> None:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(audit_db.engine, "before_cursor_execute", count)
    try:
        for text, _position, _message in MALFORMED:
            with pytest.raises(FilterError):
                filter_clause(text)
        # Parsing and compiling a valid filter does not touch the database either.
        filter_clause('activity_name starts with "paper_secret_" AND time > "2026-11-26"')
        assert statements == []
        audit_db.matching('status = "Failure"')
        assert len(statements) >= 1  # the listener does see real queries
    finally:
        event.remove(audit_db.engine, "before_cursor_execute", count)


def test_limits_on_length_values_and_nesting() -> None:
    longest = 'status_detail = "' + "x" * 1_982 + '"'
    assert len(longest) == 2_000
    assert parse_filter(longest) == Condition("status_detail", Operator.EQUALS, ("x" * 1_982,))
    with pytest.raises(FilterError) as raised:
        parse_filter(longest + " ")
    assert raised.value.position == 2_000
    assert raised.value.message == "a filter is at most 2,000 characters; this one has 2,001"

    many = ", ".join(f'"v{index}"' for index in range(MAX_IN_VALUES))
    largest = parse_filter(f"status_detail in ({many})")
    assert isinstance(largest, Condition) and len(largest.values) == MAX_IN_VALUES
    too_many = f'status_detail in ({many}, "one more")'
    with pytest.raises(FilterError) as raised:
        parse_filter(too_many)
    assert raised.value.position == too_many.index('"one more"')
    assert raised.value.message.startswith('"in" takes 1 to 100 values')

    # Parentheses alone do not nest the AST; NOT and alternating AND/OR do.
    assert parse_filter("(" * 900 + 'status = "x"' + ")" * 900) == Condition(
        "status", Operator.EQUALS, ("x",))
    with pytest.raises(FilterError) as raised:
        parse_filter("NOT " * 400 + 'status = "x"')
    assert raised.value.message == "the filter nests more than 50 levels deep (character 201)"
    with pytest.raises(FilterError, match="nests more than 50 levels"):
        parse_filter('status = "x" AND (status = "y" OR (' * 30 + 'status = "z"' + "))" * 30)


def test_absurdly_deep_hand_built_ast_is_a_filter_error() -> None:
    node: Filter = Condition("status", Operator.EQUALS, ("Success",))
    for _ in range(50_000):
        node = Not(node)
    with pytest.raises(FilterError, match="nests more than"):
        compile_filter(node)


def test_hand_built_ast_gets_the_same_checks() -> None:
    cases: list[tuple[Filter, str]] = [
        (Condition("nope", Operator.EQUALS, ("x",), 3), 'unknown field "nope" at character 4'),
        (Condition("status", Operator.LESS, ("x",), 3), '"<" works only with time (character 4)'),
        (Condition("time", Operator.GREATER, ("soon",), 3),
         'time values are ISO 8601 dates, e.g. "2026-11-26T12:00:00Z" (character 4)'),
        (Condition("status", Operator.EQUALS, ("a", "b"), 3),
         '"=" takes exactly one value (character 4)'),
        (Condition("status", Operator.IN, (), 3), '"in" takes 1 to 100 values'),
    ]
    for node, message in cases:
        with pytest.raises(FilterError) as raised:
            compile_filter(node)
        assert raised.value.message.startswith(message)
        assert raised.value.position == 3


# --- the AST --------------------------------------------------------------------------------
def test_ast_shape_follows_precedence() -> None:
    a = Condition("status", Operator.EQUALS, ("a",))
    b = Condition("status_detail", Operator.STARTS_WITH, ("b",))
    c = Condition("activity_name", Operator.IN, ("c", "d"))
    assert parse_filter('status = "a" OR status_detail starts with "b" AND NOT '
                        'activity_name in ("c", "d")') == Or((a, And((b, Not(c)))))
    assert parse_filter('(status = "a" OR status_detail starts with "b") and not '
                        "activity_name IN ('c','d')") == And((Or((a, b)), Not(c)))
    assert parse_filter('NOT NOT status = "a"') == Not(Not(a))
    assert parse_filter("") == parse_filter(" \n ") == MatchAll()
    # Positions are kept for messages but do not affect equality.
    spaced = parse_filter('   status   =   "a"')
    assert spaced == a and isinstance(spaced, Condition) and spaced.position == 3


@pytest.mark.parametrize("text", [
    'activity_name starts with "paper_secret_" AND actor.user.email = "user@example.com"',
    'NOT (status = "a" OR status = "b") AND (time >= "2026-11-26" OR secret.mode != "x")',
    '(status = "a" AND status = "b") AND status = "c"',
    'status_detail = "quote \\" backslash \\\\ newline \\n tab \\t é 😀 \\u0001"',
    "NOT NOT NOT status_detail contains 'it\\'s 50%_off'",
])
def test_format_filter_round_trips(text: str) -> None:
    parsed = parse_filter(text)
    assert parse_filter(format_filter(parsed)) == parsed


def test_public_names() -> None:
    assert FIELDS == ("activity_name", "actor.user.email", "actor.user.uid", "src_endpoint.ip",
                      "http_request.user_agent", "secret.id", "secret.share_code",
                      "secret.mode", "secret.type", "status", "status_detail", "time")
    assert filter_parser() is filter_parser()  # built once
    assert str(filter_clause("").compile()) == "true"
    assert issubclass(FilterError, InvalidInput)
