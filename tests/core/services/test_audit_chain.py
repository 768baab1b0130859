"""Tamper evidence: the per-tenant hash chain catches every edit and deletion; events are
recorded unlinked and the sequencer links them in commit order, never forking, skipping or
reordering the chain, however many writers and sequencers run at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.db.engine import create_db_engine, create_session_factory
from core.db.models import AuditChainHead, AuditEvent
from core.services.audit import Actor, AuditLog
from core.services.audit_chain import link_pending, verify_chain
from core.services.identity import ClientInfo
from tests.support.clock import MovableClock
from tests.support.databases import empty_all_tables

EVENTS = 8


@pytest.fixture
def db(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = create_db_engine(database_url)
    yield create_session_factory(engine)
    engine.dispose()


def record(db: sessionmaker[Session], log: AuditLog, tenant: str, actor: str) -> None:
    with db.begin() as session:
        log.record(session, "paper_secret_access_denied", tenant_id=tenant,
                   actor=Actor(actor, "uid-1"), client=ClientInfo("10.0.0.1", "agent"),
                   status="Failure", status_detail="not_a_recipient")


@pytest.fixture
def chained(db: sessionmaker[Session]) -> list[int]:
    clock = MovableClock()
    log = AuditLog(clock)
    for index in range(EVENTS):
        record(db, log, "tenant-a", f"user{index}@example.com")
        record(db, log, "tenant-b", f"other{index}@example.com")
        clock.advance(timedelta(seconds=1))
    assert link_pending(db) == 2 * EVENTS
    with db() as session:
        return list(session.scalars(select(AuditEvent.id).where(
            AuditEvent.tenant_id == "tenant-a").order_by(AuditEvent.chain_seq)))


def test_untouched_chains_verify(db: sessionmaker[Session], chained: list[int]) -> None:
    for tenant in ("tenant-a", "tenant-b"):
        report = verify_chain(db, tenant)
        assert report.ok and report.events == EVENTS
    assert verify_chain(db, "nobody").ok


@pytest.mark.parametrize("position", range(EVENTS))
@pytest.mark.parametrize(
    "change",
    [{"actor_email": "mallory@example.com"}, {"activity_name": "paper_secret_created"},
     {"src_ip": "1.2.3.4"}, {"status": "Success"}],
    ids=["actor", "activity", "ip", "status"],
)
def test_editing_any_event_fails_at_that_event(
    db: sessionmaker[Session], chained: list[int], position: int, change: dict[str, str]
) -> None:
    with db.begin() as session:
        session.execute(update(AuditEvent).where(AuditEvent.id == chained[position])
                        .values(**change))
    report = verify_chain(db, "tenant-a")
    assert not report.ok
    assert (report.broken_at_seq, report.broken_event_id) == (position + 1, chained[position])
    assert "edited" in (report.reason or "")
    assert verify_chain(db, "tenant-b").ok  # another tenant's chain is unaffected


@pytest.mark.parametrize("position", range(EVENTS))
def test_deleting_any_event_fails_at_that_event(
    db: sessionmaker[Session], chained: list[int], position: int
) -> None:
    with db.begin() as session:
        session.execute(delete(AuditEvent).where(AuditEvent.id == chained[position]))
    report = verify_chain(db, "tenant-a")
    assert not report.ok
    assert report.broken_at_seq == position + 1
    assert "missing" in (report.reason or "")


def test_rehashing_an_edit_without_fixing_the_next_link_fails(
    db: sessionmaker[Session], chained: list[int]
) -> None:
    from core.services.audit_chain import event_hash, fields_of

    with db.begin() as session:
        event = session.get(AuditEvent, chained[2])
        assert event is not None
        event.actor_email = "mallory@example.com"
        assert event.prev_hash is not None
        event.hash = event_hash(event.prev_hash, fields_of(event))
    report = verify_chain(db, "tenant-a")
    assert report.broken_at_seq == 4 and "does not link" in (report.reason or "")


def test_deleting_the_head_row_is_noticed(db: sessionmaker[Session], chained: list[int]) -> None:
    with db.begin() as session:
        session.execute(delete(AuditChainHead).where(AuditChainHead.tenant_id == "tenant-a"))
    assert "head is missing" in (verify_chain(db, "tenant-a").reason or "")


def test_events_wait_unlinked_until_the_sequencer_runs(db: sessionmaker[Session]) -> None:
    clock = MovableClock()
    log = AuditLog(clock)
    first_time = clock.now()
    for index in range(3):
        record(db, log, "tenant-a", f"user{index}@example.com")
        clock.advance(timedelta(seconds=5))
    waiting = verify_chain(db, "tenant-a")
    assert waiting.ok and (waiting.events, waiting.unlinked) == (0, 3)
    assert waiting.oldest_unlinked_at is not None
    assert waiting.unlinked_age_seconds(clock.now()) == 15.0
    assert (clock.now() - first_time).total_seconds() == 15.0

    assert link_pending(db, tenant_id="tenant-b") == 0  # another tenant's sequencing
    assert link_pending(db, batch_size=2) == 3  # in batches, until none is left
    linked = verify_chain(db, "tenant-a")
    assert linked.ok and (linked.events, linked.unlinked, linked.oldest_unlinked_at) == (
        3, 0, None)
    with db() as session:
        actors = session.scalars(select(AuditEvent.actor_email).where(
            AuditEvent.tenant_id == "tenant-a").order_by(AuditEvent.chain_seq)).all()
    assert actors == [f"user{index}@example.com" for index in range(3)]

    record(db, log, "tenant-a", "late@example.com")
    assert link_pending(db) == 1  # appended to the existing chain, after its head
    assert verify_chain(db, "tenant-a").events == 4


def test_unlinking_an_event_to_hide_an_edit_is_noticed(
    db: sessionmaker[Session], chained: list[int]
) -> None:
    with db.begin() as session:
        session.execute(update(AuditEvent).where(AuditEvent.id == chained[3]).values(
            actor_email="mallory@example.com", chain_seq=None, prev_hash=None, hash=None))
    link_pending(db)  # the sequencer links it again, at the end: the gap stays
    report = verify_chain(db, "tenant-a")
    assert report.broken_at_seq == 4 and "missing" in (report.reason or "")


def test_an_event_committed_late_is_linked_after_those_linked_meanwhile(
    postgres_url: str,
) -> None:
    """A transaction that recorded an event and commits after the sequencer ran is neither
    skipped nor inserted into the past: it is linked next, at the end."""
    engine = create_db_engine(postgres_url)
    db = create_session_factory(engine)
    log = AuditLog(MovableClock())
    try:
        with db.begin() as slow:
            log.record(slow, "paper_secret_access_denied", tenant_id="late",
                       actor=Actor("slow@example.com"), client=ClientInfo(None))
            slow.flush()
            record(db, log, "late", "fast@example.com")  # a smaller id waits, uncommitted
            assert link_pending(db) == 1
        assert link_pending(db) == 1
        report = verify_chain(db, "late")
        with db() as session:
            order = session.execute(select(AuditEvent.actor_email, AuditEvent.id).where(
                AuditEvent.tenant_id == "late").order_by(AuditEvent.chain_seq)).all()
    finally:
        empty_all_tables(engine)
        engine.dispose()
    assert report.ok and report.events == 2
    assert [actor for actor, _ in order] == ["fast@example.com", "slow@example.com"]
    assert order[0].id > order[1].id  # chain order is commit order, not id order


def test_concurrent_writers_and_sequencers_do_not_fork_skip_or_reorder(
    postgres_url: str,
) -> None:
    """On PostgreSQL writers and sequencers really run in parallel: 16 writers record while
    two sequencers link. Every event ends up linked exactly once, and each writer's events
    (committed one after the other) keep their order in the chain."""
    engine = create_db_engine(postgres_url)
    db = create_session_factory(engine)
    log = AuditLog(MovableClock())
    writers, per_writer = 16, 25
    barrier = threading.Barrier(writers + 2)
    writing = threading.Event()
    writing.set()

    def write(writer: int) -> None:
        barrier.wait()
        for index in range(per_writer):
            record(db, log, "busy-tenant", f"w{writer}-{index}@example.com")

    failures: list[BaseException] = []

    def sequence() -> None:
        barrier.wait()
        try:
            while writing.is_set():
                link_pending(db, batch_size=7)
        except Exception as exc:  # a sequencer must never fail for another one's sake
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    sequencers = [threading.Thread(target=sequence) for _ in range(2)]
    for thread in threads + sequencers:
        thread.start()
    for thread in threads:
        thread.join()
    writing.clear()
    for thread in sequencers:
        thread.join()
    link_pending(db)
    report = verify_chain(db, "busy-tenant")
    with db() as session:
        chain = session.execute(select(AuditEvent.chain_seq, AuditEvent.actor_email).where(
            AuditEvent.tenant_id == "busy-tenant").order_by(AuditEvent.chain_seq)).all()
    empty_all_tables(engine)
    engine.dispose()
    assert failures == []
    assert report.ok, report.reason
    assert report.unlinked == 0
    assert [seq for seq, _ in chain] == list(range(1, writers * per_writer + 1))
    for writer in range(writers):
        mine = [actor for _, actor in chain if (actor or "").startswith(f"w{writer}-")]
        assert mine == [f"w{writer}-{index}@example.com" for index in range(per_writer)]


def test_verify_never_reports_a_break_while_the_sequencer_links(postgres_url: str) -> None:
    """verify reads the head and the events in one snapshot: a sequencer linking in between
    must not look like deleted events."""
    engine = create_db_engine(postgres_url)
    db = create_session_factory(engine)
    log = AuditLog(MovableClock())
    with db.begin() as session:
        for index in range(1500):
            log.record(session, "paper_secret_access_denied", tenant_id="racing",
                       actor=Actor(f"user{index}@example.com"), client=ClientInfo(None))
    linking = threading.Event()
    linking.set()

    def sequence() -> None:
        while linking.is_set() and link_pending(db, batch_size=20):
            pass

    sequencer = threading.Thread(target=sequence)
    sequencer.start()
    try:
        reports = [verify_chain(db, "racing") for _ in range(15)]
    finally:
        linking.clear()
        sequencer.join()
        empty_all_tables(engine)
        engine.dispose()
    assert all(report.ok for report in reports), [report.reason for report in reports]
    assert all(report.events + report.unlinked == 1500 for report in reports)
