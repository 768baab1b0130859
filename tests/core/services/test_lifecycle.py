"""The view transaction at the service level, on both databases: one view with its audit event
(and notice) atomically, the last one burning and shredding, exactness under concurrency, and
a failed delete of a burned text's ciphertext left for the scheduler to retry."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from core.blobstore.factory import create_blob_store
from core.blobstore.local import LocalBlobStore
from core.blobstore.protocol import BlobStore
from core.db.engine import autocommit_connection, create_db_engine, create_session_factory
from core.db.models import AuditEvent, CreatorNotice, Secret
from core.services import notices
from core.services.audit import Actor, AuditLog
from core.services.identity import ClientInfo
from core.services.lifecycle import Lifecycle, ViewTaken
from core.settings import Settings
from scheduler.jobs import PurgeJobs
from tests.support.clock import MovableClock
from tests.support.databases import empty_all_tables
from tests.support.faults import fault_proxy
from tests.support.moto import MotoServer
from tests.support.seeding import seed_secrets, seed_user

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass
class World:
    engine: Engine
    db: sessionmaker[Session]
    clock: MovableClock
    lifecycle: Lifecycle
    blobs: BlobStore
    creator_id: str

    def seed(self, view_limit: int | None) -> Secret:
        [secret_id] = seed_secrets(self.db, self.blobs, count=1, creator_id=self.creator_id,
                                   created_at=START, expires_at=START + timedelta(days=1))
        with self.db.begin() as session:
            secret = session.get(Secret, secret_id)
            assert secret is not None
            secret.view_limit = view_limit
            session.flush()
            session.expunge(secret)
        return secret

    def take(self, secret: Secret) -> ViewTaken | None:
        event = self.lifecycle.audit_log.values(
            "paper_secret_opened_internal", tenant_id="default",
            actor=Actor("bob@example.com", "u-bob"), client=ClientInfo("10.0.0.2", "agent"),
            secret=secret)
        with autocommit_connection(self.engine) as connection:
            return self.lifecycle.take_view(connection, secret.id, secret.tenant_id, event)

    def stored(self, secret_id: str) -> Secret:
        with self.db() as session:
            secret = session.get(Secret, secret_id)
            assert secret is not None
            session.expunge(secret)
            return secret

    def opened_events(self, secret_id: str) -> int:
        with self.db() as session:
            return int(session.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.secret_id == secret_id)) or 0)


def build_world(database_url: str, blobs: BlobStore, *, with_notices: bool) -> World:
    engine = create_db_engine(database_url)
    db = create_session_factory(engine)
    clock = MovableClock(START + timedelta(hours=1))
    lifecycle = Lifecycle(db=db, blob_store=blobs, clock=clock, audit_log=AuditLog(clock),
                          notices=with_notices)
    creator = seed_user(db, f"alice-{uuid.uuid4().hex[:6]}@example.com", START)
    return World(engine, db, clock, lifecycle, blobs, creator)


@pytest.fixture(params=[False, True], ids=["without Slack", "with Slack"])
def world(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Iterator[World]:
    built = build_world(database_url, LocalBlobStore(tmp_path / "blobs"),
                        with_notices=request.param)
    yield built
    built.engine.dispose()


def test_each_view_is_counted_with_its_event_and_the_last_one_burns(world: World) -> None:
    secret = world.seed(view_limit=2)
    if world.lifecycle.notices:
        with world.db.begin() as session:
            notices.open_notice(session, secret, START, None)
    assert world.take(secret) == ViewTaken(views_used=1, burned=False)
    kept = world.stored(secret.id)
    assert (kept.status, kept.views_used) == ("active", 1)
    assert kept.wrapped_key is not None and kept.blob_key == secret.blob_key
    assert world.take(secret) == ViewTaken(views_used=2, burned=True)
    burned = world.stored(secret.id)
    assert (burned.status, burned.wrapped_key, burned.sealed_meta) == ("burned", None, None)
    assert burned.blob_key is None  # a text's ciphertext is the caller's to delete now
    assert burned.ended_at is not None
    assert world.take(secret) is None  # nothing left: nothing written
    assert world.opened_events(secret.id) == 2
    with world.db() as session:
        notice = session.get(CreatorNotice, secret.id)
    if world.lifecycle.notices:
        assert notice is not None and notice.version == 3  # opened, then +1 per view
    else:
        assert notice is None


def test_an_expired_secret_gives_no_view(world: World) -> None:
    secret = world.seed(view_limit=None)
    world.clock.advance(timedelta(days=2))
    assert world.take(secret) is None
    assert world.opened_events(secret.id) == 0
    assert world.stored(secret.id).views_used == 0


def test_concurrent_views_are_exact(world: World) -> None:
    secret = world.seed(view_limit=7)
    with ThreadPoolExecutor(max_workers=16) as pool:
        taken = list(pool.map(lambda _: world.take(secret), range(40)))
    granted = [view for view in taken if view is not None]
    assert sorted(view.views_used for view in granted) == list(range(1, 8))
    assert [view.burned for view in granted].count(True) == 1
    assert world.opened_events(secret.id) == 7
    assert world.stored(secret.id).status == "burned"


def test_a_burned_text_whose_delete_fails_is_retried_by_the_scheduler(
    database_url: str, moto: MotoServer
) -> None:
    bucket = f"burn-{uuid.uuid4().hex[:12]}"
    moto.client("s3").create_bucket(Bucket=bucket)
    with fault_proxy(moto.endpoint_url) as (proxy, proxy_url):
        blobs = create_blob_store(Settings(blob_backend="s3", s3_endpoint_url=proxy_url,
                                           s3_bucket=bucket))
        world = build_world(database_url, blobs, with_notices=False)
        try:
            secret = world.seed(view_limit=1)
            assert secret.blob_key is not None
            assert world.take(secret) == ViewTaken(views_used=1, burned=True)
            proxy.failing = True
            with autocommit_connection(world.engine) as connection:
                assert not world.lifecycle.discard_burned_text(secret.id, secret.blob_key,
                                                               connection)
            assert world.stored(secret.id).blob_key == secret.blob_key  # remembered
            proxy.failing = False
            assert blobs.exists(secret.blob_key)
            jobs = PurgeJobs(db=world.db, lifecycle=world.lifecycle, clock=world.clock)
            assert jobs.retry_blob_deletes().processed == [secret.id]
            assert not blobs.exists(secret.blob_key)
            assert world.stored(secret.id).blob_key is None
        finally:
            empty_all_tables(world.engine)
            world.engine.dispose()
