"""API tokens at the service level (SQLite): the format scanners can recognise, scopes, life
time, revocation, last use, and that only a hash is ever stored."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import SystemRandom
from core.db.engine import create_db_engine, create_session_factory
from core.db.models import ApiToken, AuditEvent
from core.errors import AccessDenied, InvalidInput, InvalidToken, NotFound
from core.services.api_tokens import (
    AUDIT_READ,
    READ,
    REVEAL,
    TOKEN_PREFIX,
    WRITE,
    ApiTokenService,
    new_token,
    well_formed,
)
from core.services.audit import AuditLog
from core.services.identity import BASIC, SUPER_ADMIN, ClientInfo, Principal
from tests.support.clock import MovableClock
from tests.support.databases import sqlite_database
from tests.support.seeding import seed_user

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HERE = ClientInfo(ip="198.51.100.7", user_agent="slip/1.0")


@dataclass
class World:
    db: sessionmaker[Session]
    clock: MovableClock
    tokens: ApiTokenService
    alice: Principal
    admin: Principal

    def events(self) -> list[AuditEvent]:
        with self.db() as session:
            return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with sqlite_database(tmp_path) as url:
        db = create_session_factory(create_db_engine(url))
        clock = MovableClock(START)
        alice_id = seed_user(db, "alice@example.com", START)
        admin_id = seed_user(db, "admin@example.com", START)
        tokens = ApiTokenService(db=db, clock=clock, random=SystemRandom(),
                                 audit_log=AuditLog(clock))
        yield World(db, clock, tokens,
                    Principal("default", alice_id, "alice@example.com", "Alice", BASIC),
                    Principal("default", admin_id, "admin@example.com", "Ada", SUPER_ADMIN))
        db.kw["bind"].dispose()


def test_tokens_have_a_prefix_and_a_checksum_scanners_can_check() -> None:
    token = new_token(SystemRandom())
    assert token.startswith(TOKEN_PREFIX) and len(token) == len(TOKEN_PREFIX) + 49
    assert well_formed(token)
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert not well_formed(flipped)  # a one-character typo fails the checksum
    assert not well_formed(token.replace(TOKEN_PREFIX, "ghp_"))
    assert new_token(SystemRandom()) != token


def test_a_token_acts_for_its_owner_with_its_scopes_and_only_its_hash_is_kept(
    world: World,
) -> None:
    issued = world.tokens.create(world.alice, name="  CI   deploy ", scopes=[REVEAL, WRITE],
                                 lifetime=None, client=HERE)
    assert issued.summary.name == "CI deploy"
    assert issued.summary.scopes == (WRITE, REVEAL)  # in the documented order
    assert issued.summary.expires_at == START + timedelta(days=90)
    acting = world.tokens.authenticate(issued.token, "203.0.113.9")
    assert acting.principal.email == "alice@example.com" and acting.scopes == {WRITE, REVEAL}
    assert acting.ref.name == "CI deploy"
    with world.db() as session:
        row = session.scalars(select(ApiToken)).one()
        assert issued.token.encode() not in repr(row.__dict__).encode()
        assert row.hint == issued.token[-4:] and len(row.token_hash) == 32
        assert row.last_used_ip == "203.0.113.9"
    [created] = world.events()
    assert created.activity_name == "paper_secret_api_token_created"
    assert (created.api_token_id, created.api_token_name) == (issued.summary.id, "CI deploy")
    assert created.status_detail == "secrets:write secrets:reveal"


def test_bad_requests_for_a_token_are_refused_with_the_field_named(world: World) -> None:
    with pytest.raises(InvalidInput) as unknown:
        world.tokens.create(world.alice, name="x", scopes=["secrets:everything"],
                            lifetime=None, client=HERE)
    assert unknown.value.field == "scopes"
    with pytest.raises(InvalidInput) as too_long:
        world.tokens.create(world.alice, name="x", scopes=[READ],
                            lifetime=timedelta(days=366), client=HERE)
    assert too_long.value.field == "expires_in_days"
    with pytest.raises(InvalidInput):
        world.tokens.create(world.alice, name="   ", scopes=[READ], lifetime=None, client=HERE)
    with pytest.raises(AccessDenied):  # audit:read is for super admins
        world.tokens.create(world.alice, name="x", scopes=[AUDIT_READ], lifetime=None,
                            client=HERE)
    assert world.tokens.create(world.admin, name="siem", scopes=[AUDIT_READ], lifetime=None,
                               client=HERE).summary.scopes == (AUDIT_READ,)
    assert [event.activity_name for event in world.events()] == [
        "paper_secret_api_token_created"]  # the refusals stored nothing


def test_expired_revoked_unknown_and_mistyped_tokens_are_all_just_invalid(
    world: World,
) -> None:
    short = world.tokens.create(world.alice, name="short", scopes=[READ],
                                lifetime=timedelta(hours=1), client=HERE)
    kept = world.tokens.create(world.alice, name="kept", scopes=[READ], lifetime=None,
                               client=HERE)
    world.clock.advance(timedelta(hours=1))
    for token in (short.token, new_token(SystemRandom()), kept.token[:-1] + "0", "nonsense"):
        with pytest.raises(InvalidToken):
            world.tokens.authenticate(token, None)
    world.tokens.authenticate(kept.token, None)
    world.tokens.revoke(world.alice, kept.summary.id, HERE)
    with pytest.raises(InvalidToken):
        world.tokens.authenticate(kept.token, None)
    assert world.events()[-1].activity_name == "paper_secret_api_token_revoked"
    assert world.events()[-1].api_token_name == "kept"


def test_only_the_owner_or_a_super_admin_revokes(world: World) -> None:
    issued = world.tokens.create(world.admin, name="admin's", scopes=[READ], lifetime=None,
                                 client=HERE)
    with pytest.raises(NotFound):
        world.tokens.revoke(world.alice, issued.summary.id, HERE)
    world.tokens.authenticate(issued.token, None)  # still alive
    mine = world.tokens.create(world.alice, name="mine", scopes=[READ], lifetime=None,
                               client=HERE)
    world.tokens.revoke(world.admin, mine.summary.id, HERE)  # the admin may
    [summary] = [one for one in world.tokens.list_tenant(world.admin) if one.name == "mine"]
    assert summary.state(world.clock.now()) == "revoked"
    assert summary.owner_email == "alice@example.com"
    assert [one.name for one in world.tokens.list_own(world.alice)] == ["mine"]


def test_last_use_is_written_once_a_minute_unless_the_address_changes(world: World) -> None:
    issued = world.tokens.create(world.alice, name="ci", scopes=[READ], lifetime=None,
                                 client=HERE)

    def last_used() -> tuple[datetime | None, str | None]:
        with world.db() as session:
            row = session.scalars(select(ApiToken)).one()
            return row.last_used_at, row.last_used_ip

    world.tokens.authenticate(issued.token, "192.0.2.1")
    first = last_used()
    world.clock.advance(timedelta(seconds=30))
    world.tokens.authenticate(issued.token, "192.0.2.1")
    assert last_used() == first
    world.tokens.authenticate(issued.token, "192.0.2.2")
    assert last_used()[1] == "192.0.2.2"
    world.clock.advance(timedelta(seconds=61))
    world.tokens.authenticate(issued.token, "192.0.2.2")
    used_at = last_used()[0]
    assert used_at is not None and used_at.replace(tzinfo=UTC) == world.clock.now()
