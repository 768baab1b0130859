"""The purge jobs, with an injected clock, a real blob store and real databases."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.blobstore.factory import create_blob_store
from core.blobstore.local import LocalBlobStore
from core.clock import as_utc
from core.db.engine import create_db_engine, create_session_factory
from core.db.models import AuditEvent, MagicLink, Secret, SecretRequest
from core.services.audit import AuditLog
from core.services.lifecycle import Lifecycle
from core.settings import Settings
from scheduler.jobs import PurgeJobs, purge_lag_seconds
from tests.support.clock import MovableClock
from tests.support.databases import empty_all_tables
from tests.support.faults import fault_proxy
from tests.support.moto import MotoServer
from tests.support.seeding import seed_secrets, seed_user

START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@dataclass
class World:
    db: sessionmaker[Session]
    blobs: LocalBlobStore
    clock: MovableClock
    jobs: PurgeJobs
    creator_id: str

    def secret(self, secret_id: str) -> Secret:
        with self.db() as session:
            secret = session.get(Secret, secret_id)
            assert secret is not None
            return secret


def build_jobs(database_url: str, blob_dir: Path, clock: MovableClock,
               batch_size: int = 500) -> tuple[PurgeJobs, sessionmaker[Session]]:
    db = create_session_factory(create_db_engine(database_url))
    blobs = LocalBlobStore(blob_dir)
    lifecycle = Lifecycle(db=db, blob_store=blobs, clock=clock, audit_log=AuditLog(clock))
    return PurgeJobs(db=db, lifecycle=lifecycle, clock=clock,
                     batch_size=batch_size), db


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    clock = MovableClock(START)
    jobs, db = build_jobs(database_url, tmp_path / "blobs", clock)
    creator = seed_user(db, "alice@example.com", START)
    yield World(db, jobs.lifecycle.blob_store, clock, jobs, creator)  # type: ignore[arg-type]
    db.kw["bind"].dispose()


def test_an_untouched_expired_secret_is_purged(world: World) -> None:
    [secret_id] = seed_secrets(world.db, world.blobs, count=1, creator_id=world.creator_id,
                               created_at=START, expires_at=START + timedelta(hours=1))
    blob_key = world.secret(secret_id).blob_key
    assert blob_key is not None and world.blobs.exists(blob_key)
    world.clock.advance(timedelta(minutes=59))
    assert world.jobs.expire_overdue().processed == []
    world.clock.advance(timedelta(minutes=1, seconds=30))
    assert purge_lag_seconds(world.db, world.clock.now()) == pytest.approx(30, abs=1)
    assert world.jobs.expire_overdue().processed == [secret_id]
    secret = world.secret(secret_id)
    assert (secret.status, secret.wrapped_key, secret.sealed_meta, secret.blob_key) == (
        "expired", None, None, None)
    assert not world.blobs.exists(blob_key)
    assert secret.label == "seeded 0" and secret.recipients  # metadata kept
    assert purge_lag_seconds(world.db, world.clock.now()) == 0
    assert world.jobs.expire_overdue().processed == []  # idempotent


def test_a_failing_blob_store_is_retried_on_the_next_run(
    database_url: str, moto: MotoServer
) -> None:
    """S3 (moto server) behind a proxy that starts answering 503 during the purge."""
    bucket = f"purge-{uuid.uuid4().hex[:12]}"
    moto.client("s3").create_bucket(Bucket=bucket)
    clock = MovableClock(START)
    with fault_proxy(moto.endpoint_url) as (proxy, proxy_url):
        settings = Settings(blob_backend="s3", s3_endpoint_url=proxy_url, s3_bucket=bucket)
        blobs = create_blob_store(settings)
        db = create_session_factory(create_db_engine(database_url))
        jobs = PurgeJobs(db=db, clock=clock, lifecycle=Lifecycle(
            db=db, blob_store=blobs, clock=clock, audit_log=AuditLog(clock)))
        creator = seed_user(db, "alice@example.com", START)
        [secret_id] = seed_secrets(db, blobs, count=1, creator_id=creator, created_at=START,
                                   expires_at=START + timedelta(hours=1))
        with db() as session:
            blob_key = session.scalar(select(Secret.blob_key).where(Secret.id == secret_id))
        assert blob_key is not None
        clock.advance(timedelta(hours=2))

        proxy.failing = True
        report = jobs.expire_overdue()
        assert (report.processed, report.failed) == ([secret_id], 1)
        with db() as session:
            secret = session.get(Secret, secret_id)
            assert secret is not None
            assert (secret.status, secret.wrapped_key) == ("expired", None)  # key gone anyway
            assert secret.blob_key == blob_key  # the delete is remembered, not forgotten
        assert jobs.retry_blob_deletes().failed == 1  # still down: still remembered

        proxy.failing = False
        assert blobs.exists(blob_key)
        assert jobs.retry_blob_deletes().processed == [secret_id]
        with db() as session:
            assert session.scalar(select(Secret.blob_key).where(Secret.id == secret_id)) is None
        assert not blobs.exists(blob_key)
        assert jobs.retry_blob_deletes().processed == []
        db.kw["bind"].dispose()


def test_abandoned_uploads_go_after_an_hour(world: World) -> None:
    pending = seed_secrets(world.db, world.blobs, count=2, creator_id=world.creator_id,
                           created_at=START, expires_at=START + timedelta(days=1),
                           status="pending")
    world.blobs.put(f"default/{pending[0]}/replaced-upload.csl1", [b"an older upload"])
    world.clock.advance(timedelta(minutes=30))
    fresh = seed_secrets(world.db, world.blobs, count=1, creator_id=world.creator_id,
                         created_at=world.clock.now(), expires_at=START + timedelta(days=1),
                         status="pending")
    world.clock.advance(timedelta(minutes=31))
    report = world.jobs.remove_abandoned_uploads()
    assert sorted(report.processed) == sorted(pending)
    with world.db() as session:
        assert session.scalars(select(Secret.id)).all() == fresh
    assert not (world.blobs.root / "default" / pending[0]).exists()
    assert (world.blobs.root / "default" / fresh[0]).exists()


def test_abandoned_file_uploads_leave_no_parts_in_s3(database_url: str, moto: MotoServer) -> None:
    """Unfinished multipart parts are invisible to listings (and billed): the job aborts them."""
    bucket = f"abandon-{uuid.uuid4().hex[:12]}"
    s3 = moto.client("s3")
    s3.create_bucket(Bucket=bucket)
    clock = MovableClock(START)
    blobs = create_blob_store(Settings(blob_backend="s3", s3_endpoint_url=moto.endpoint_url,
                                       s3_bucket=bucket))
    db = create_session_factory(create_db_engine(database_url))
    jobs = PurgeJobs(db=db, clock=clock, lifecycle=Lifecycle(
        db=db, blob_store=blobs, clock=clock, audit_log=AuditLog(clock)))
    creator = seed_user(db, "alice@example.com", START)
    [secret_id] = seed_secrets(db, blobs, count=1, creator_id=creator, created_at=START,
                               expires_at=START + timedelta(days=1), status="pending")
    blob_key = f"default/{secret_id}/file.csl1"
    upload_id = blobs.start_multipart(blob_key)
    blobs.upload_part(blob_key, upload_id, 1, [os.urandom(5 << 20)], offset=0)
    with db.begin() as session:
        secret = session.get(Secret, secret_id)
        assert secret is not None
        secret.secret_type, secret.blob_key, secret.upload_id = "file", blob_key, upload_id
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads")

    clock.advance(timedelta(minutes=61))
    assert jobs.remove_abandoned_uploads().processed == [secret_id]
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")
    assert not s3.list_objects_v2(Bucket=bucket).get("Contents")
    with db() as session:
        assert session.get(Secret, secret_id) is None
    db.kw["bind"].dispose()


def test_spent_magic_links_are_removed(world: World) -> None:
    [secret_id] = seed_secrets(world.db, world.blobs, count=1, creator_id=world.creator_id,
                               created_at=START, expires_at=START + timedelta(days=3))
    now = world.clock.now()
    links = {"used": dict(used_at=now), "superseded": dict(superseded_at=now),
             "long expired": {}, "live": {}}
    with world.db.begin() as session:
        for index, (name, fields) in enumerate(links.items()):
            created = now - timedelta(days=2) if name == "long expired" else now
            session.add(MagicLink(tenant_id="default", secret_id=secret_id, email=f"{name}@x.t",
                                  token_hash=os.urandom(32), created_at=created,
                                  expires_at=created + timedelta(minutes=15), **fields))
            assert index >= 0
    assert len(world.jobs.remove_spent_magic_links().processed) == 3
    with world.db() as session:
        assert session.scalars(select(MagicLink.email)).all() == ["live@x.t"]


def test_one_failing_job_does_not_stop_the_others(world: World) -> None:
    seed_secrets(world.db, world.blobs, count=3, creator_id=world.creator_id, created_at=START,
                 expires_at=START + timedelta(hours=1))
    world.clock.advance(timedelta(hours=2))
    shutil.rmtree(world.blobs.root)
    (world.blobs.root).write_bytes(b"the blob root is gone")
    reports = {report.name: report for report in world.jobs.run_all()}
    assert len(reports["expire_overdue"].processed) == 3
    with world.db() as session:
        assert session.scalar(select(func.count()).select_from(Secret)
                              .where(Secret.status == "expired")) == 3


def purge_in_a_process(database_url: str, blob_dir: str, now: str) -> list[str]:
    jobs, db = build_jobs(database_url, Path(blob_dir),
                          MovableClock(datetime.fromisoformat(now)), batch_size=25)
    processed = jobs.expire_overdue().processed
    db.kw["bind"].dispose()
    return processed


def test_two_schedulers_share_the_work_without_overlap(postgres_url: str, tmp_path: Path) -> None:
    clock = MovableClock(START)
    jobs, db = build_jobs(postgres_url, tmp_path / "blobs", clock)
    creator = seed_user(db, "alice@example.com", START)
    ids = seed_secrets(db, jobs.lifecycle.blob_store, count=2000, creator_id=creator,
                       created_at=START, expires_at=START + timedelta(hours=1), blob_bytes=16)
    later = (START + timedelta(hours=2)).isoformat()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        first, second = pool.map(purge_in_a_process, [postgres_url] * 2,
                                 [str(tmp_path / "blobs")] * 2, [later] * 2)
    try:
        assert set(first).isdisjoint(second), "a secret was processed twice"
        assert sorted(first + second) == sorted(ids), "a secret was missed"
        assert first and second, "both schedulers should have taken a share"
        with db() as session:
            left = session.scalar(select(func.count()).select_from(Secret).where(
                Secret.wrapped_key.is_not(None)))
            events = session.scalar(select(func.count()).select_from(AuditEvent))
        assert left == 0 and events == 0
        assert not any(path.is_file() for path in (tmp_path / "blobs").rglob("*"))
    finally:
        empty_all_tables(db.kw["bind"])
        db.kw["bind"].dispose()


def test_open_requests_past_their_time_expire_and_unconfirmed_ones_go(world: World) -> None:
    def request(code: str, status: str, open_for: timedelta) -> str:
        request_id = str(uuid.uuid4())
        with world.db.begin() as session:
            session.add(SecretRequest(
                id=request_id, tenant_id="default", request_code=code,
                requester_id=world.creator_id, audience="internal", status=status,
                created_at=START, open_until=START + open_for, answer_expires_in_seconds=3600))
        return request_id

    due = request("AAAA-AAAA-AAAA", "open", timedelta(hours=1))
    still_open = request("BBBB-BBBB-BBBB", "open", timedelta(days=2))
    unconfirmed = request("CCCC-CCCC-CCCC", "pending", timedelta(days=2))
    world.clock.advance(timedelta(hours=3))
    assert world.jobs.close_expired_requests().processed == ["1 requests"]
    with world.db() as session:
        statuses = dict(session.execute(select(SecretRequest.id, SecretRequest.status)).all())
        ended = session.get(SecretRequest, due)
        assert ended is not None and ended.ended_at is not None
        assert as_utc(ended.ended_at) == START + timedelta(hours=1)
    assert statuses == {due: "expired", still_open: "open"}
    assert unconfirmed not in statuses
    assert world.jobs.close_expired_requests().processed == []  # nothing twice
