"""The notice outbox's rules, at the service level on SQLite: what is due, back-off, giving
up, Retry-After, and a change made while a delivery is under way. The sender here records
what it is asked to show; the Slack sender itself is tested against the fake Slack
(tests/bot/test_notifications.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.blobstore.local import LocalBlobStore
from core.db.engine import create_db_engine, create_session_factory
from core.db.models import CreatorNotice
from core.services import notices
from core.services.notice_outbox import (
    MAX_ATTEMPTS,
    Delivered,
    DeliveryFailed,
    NoRecipient,
    NoticeAddress,
    NoticeOutbox,
)
from core.services.notice_state import NoticeState
from tests.support.clock import MovableClock
from tests.support.databases import sqlite_database
from tests.support.seeding import seed_secrets, seed_user

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass
class RecordingSender:
    """Answers with ``failures`` first (one per call), then delivers."""

    failures: list[Exception] = field(default_factory=list)
    shown: list[tuple[str, NoticeAddress]] = field(default_factory=list)
    during_send: list[Callable[[], None]] = field(default_factory=list)

    def send(self, state: NoticeState, address: NoticeAddress) -> Delivered:
        self.shown.append((state.status, address))
        for action in self.during_send:
            action()
        if self.failures:
            raise self.failures.pop(0)
        return Delivered("T1", "D1", f"ts-{len(self.shown)}", "U1")


@dataclass
class World:
    db: sessionmaker[Session]
    clock: MovableClock
    sender: RecordingSender
    outbox: NoticeOutbox
    secret_id: str

    def notice(self) -> CreatorNotice:
        with self.db() as session:
            notice = session.get(CreatorNotice, self.secret_id)
            assert notice is not None
            return notice

    def touch(self) -> None:
        with self.db.begin() as session:
            notices.touch(session, [self.secret_id], self.clock.now())


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with sqlite_database(tmp_path) as url:
        db = create_session_factory(create_db_engine(url))
        clock = MovableClock(START)
        creator = seed_user(db, "alice@example.com", START)
        [secret_id] = seed_secrets(db, LocalBlobStore(tmp_path / "blobs"), count=1,
                                   creator_id=creator, created_at=START,
                                   expires_at=START + timedelta(days=1))
        with db.begin() as session:
            notices.open_notice(session, _Secret(secret_id), START, None)
        sender = RecordingSender()
        yield World(db, clock, sender, NoticeOutbox(db=db, clock=clock, sender=sender),
                    secret_id)
        db.kw["bind"].dispose()


@dataclass(frozen=True)
class _Secret:
    id: str
    tenant_id: str = "default"


def test_a_due_notice_is_delivered_once_and_then_edited_where_it_lives(world: World) -> None:
    assert world.outbox.run().processed == [world.secret_id]
    assert world.outbox.run().processed == []  # nothing new
    world.touch()
    assert world.outbox.run().processed == [world.secret_id]
    first, second = (address for _, address in world.sender.shown)
    assert (first.channel_id, first.message_ts) == (None, None)  # posted
    assert (second.team_id, second.channel_id, second.message_ts) == ("T1", "D1", "ts-1")


def test_failures_back_off_exponentially_and_honour_retry_after(world: World) -> None:
    world.sender.failures = [DeliveryFailed("timeout"), DeliveryFailed("timeout"),
                             DeliveryFailed("ratelimited", retry_after=120)]
    assert world.outbox.run().failed == 1
    waits = []
    for _ in range(3):
        due = world.notice().next_attempt_at
        assert due is not None
        waits.append(round((due.replace(tzinfo=UTC) - world.clock.now()).total_seconds()))
        world.clock.advance(timedelta(seconds=waits[-1]))
        world.outbox.run()
    assert waits == [5, 10, 120]
    assert world.notice().delivered_version == world.notice().version  # then delivered


def test_a_final_failure_or_too_many_attempts_gives_up(world: World) -> None:
    world.sender.failures = [DeliveryFailed("invalid_blocks", final=True)]
    assert world.outbox.run().failed == 1
    assert world.notice().next_attempt_at is None  # given up: never due again

    world.touch()  # a later change is tried again, and may fail MAX_ATTEMPTS times
    world.sender.failures = [DeliveryFailed("timeout")] * MAX_ATTEMPTS
    for _ in range(MAX_ATTEMPTS):
        world.clock.advance(timedelta(hours=2))
        world.outbox.run()
    assert world.notice().next_attempt_at is None
    assert world.notice().attempts == MAX_ATTEMPTS


def test_no_recipient_is_not_an_error_and_not_retried(world: World) -> None:
    world.sender.failures = [NoRecipient()]
    report = world.outbox.run()
    assert (report.processed, report.failed) == ([world.secret_id], 0)
    assert world.notice().next_attempt_at is None


def test_a_change_during_delivery_is_delivered_by_the_next_run(world: World) -> None:
    world.sender.during_send = [world.touch]  # a reveal lands while "Slack" is answering
    world.outbox.run()
    world.sender.during_send = []
    notice = world.notice()
    assert notice.delivered_version < notice.version
    assert notice.next_attempt_at is not None  # due again at once
    assert world.outbox.run().processed == [world.secret_id]
    assert world.notice().delivered_version == world.notice().version
