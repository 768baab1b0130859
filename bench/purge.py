"""How fast does the scheduler destroy expired content?

Creates N secrets (default 100,000) that expired a minute ago, each with a ciphertext blob in a
local blob store, then runs the purge job (the same `PurgeJobs.expire_overdue` the scheduler
runs) until nothing is overdue, on SQLite and on PostgreSQL. Prints purged secrets per second,
the purge lag when it started and the worst lag reached (the last secret's wait, from its
expiry to its purge).

    .venv/bin/python -m bench.purge [--secrets 100000] [--only sqlite|postgres]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from core.blobstore.local import LocalBlobStore
from core.clock import SystemClock
from core.db.engine import create_db_engine, create_session_factory
from core.db.migrate import upgrade_to_head
from core.services.audit import AuditLog
from core.services.lifecycle import Lifecycle
from scheduler.jobs import PurgeJobs, purge_lag_seconds
from tests.support.requirements import POSTGRES_URL
from tests.support.seeding import seed_secrets, seed_user

DATABASE = "cipherslip_bench_purge"


def postgres_database() -> str:
    admin_url = make_url(POSTGRES_URL)
    conninfo = f"host={admin_url.host} port={admin_url.port or 5432} user={admin_url.username} " \
               f"dbname={admin_url.database}"
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{DATABASE}"')
    return admin_url.set(database=DATABASE).render_as_string(hide_password=False)


def run(label: str, database_url: str, directory: Path, count: int) -> None:
    upgrade_to_head(database_url)
    engine = create_db_engine(database_url)
    db = create_session_factory(engine)
    clock = SystemClock()
    blobs = LocalBlobStore(directory / "blobs")
    jobs = PurgeJobs(db=db, clock=clock, batch_size=500, lifecycle=Lifecycle(
        db=db, blob_store=blobs, clock=clock, audit_log=AuditLog(clock)))
    now = datetime.now(UTC)
    creator = seed_user(db, "alice@example.com", now)
    seeding = time.perf_counter()
    seed_secrets(db, blobs, count=count, creator_id=creator, created_at=now - timedelta(days=1),
                 expires_at=now - timedelta(minutes=1), blob_bytes=200)
    seeded_in = time.perf_counter() - seeding
    lag_at_start = purge_lag_seconds(db, datetime.now(UTC))
    started = time.perf_counter()
    purged = len(jobs.expire_overdue().processed)
    took = time.perf_counter() - started
    worst_lag = lag_at_start + took  # the last secret waited the initial lag plus the run
    left = purge_lag_seconds(db, datetime.now(UTC))
    files_left = sum(1 for path in (directory / "blobs").rglob("*") if path.is_file())
    engine.dispose()
    print(f"{label:<10} {purged:>8,} purged in {took:6.1f} s = {purged / took:8,.0f} secrets/s;"
          f" lag at start {lag_at_start:5.1f} s, worst {worst_lag:5.1f} s, after {left:.0f} s;"
          f" blobs left {files_left} (seeding took {seeded_in:.0f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--secrets", type=int, default=100_000)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    args = parser.parse_args()
    for label in ("sqlite", "postgres"):
        if args.only and args.only != label:
            continue
        with tempfile.TemporaryDirectory() as directory:
            url = (f"sqlite:///{directory}/bench.db" if label == "sqlite"
                   else postgres_database())
            run(label, url, Path(directory), args.secrets)


if __name__ == "__main__":
    main()
