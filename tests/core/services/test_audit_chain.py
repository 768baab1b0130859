"""Tamper evidence: the per-tenant hash chain catches every edit and deletion, and concurrent
writers never fork it."""

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
from core.services.audit_chain import verify_chain
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
        event.hash = event_hash(event.prev_hash, fields_of(event))
    report = verify_chain(db, "tenant-a")
    assert report.broken_at_seq == 4 and "does not link" in (report.reason or "")


def test_deleting_the_head_row_is_noticed(db: sessionmaker[Session], chained: list[int]) -> None:
    with db.begin() as session:
        session.execute(delete(AuditChainHead).where(AuditChainHead.tenant_id == "tenant-a"))
    assert "head is missing" in (verify_chain(db, "tenant-a").reason or "")


def test_concurrent_writers_do_not_fork_the_chain(postgres_url: str) -> None:
    """On PostgreSQL writers really run in parallel (SQLite serializes them anyway)."""
    engine = create_db_engine(postgres_url)
    db = create_session_factory(engine)
    log = AuditLog(MovableClock())
    writers, per_writer = 16, 25
    barrier = threading.Barrier(writers)

    def write(writer: int) -> None:
        barrier.wait()
        for index in range(per_writer):
            record(db, log, "busy-tenant", f"w{writer}-{index}@example.com")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = verify_chain(db, "busy-tenant")
    with db() as session:
        seqs = session.scalars(select(AuditEvent.chain_seq).where(
            AuditEvent.tenant_id == "busy-tenant").order_by(AuditEvent.chain_seq)).all()
    empty_all_tables(engine)
    engine.dispose()
    assert report.ok, report.reason
    assert list(seqs) == list(range(1, writers * per_writer + 1))
