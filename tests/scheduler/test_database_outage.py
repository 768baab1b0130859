"""``cipherslip scheduler`` outlives a PostgreSQL crash: its passes fail quietly while the
test's own cluster is down (one warning per outage, no traceback, nothing that quotes data),
and once the server is back the same process purges and links again, unrestarted."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bench.processes import process
from core.blobstore.local import LocalBlobStore
from core.db.engine import create_db_engine, create_session_factory
from core.db.models import Secret
from tests.support.pg_cluster import postgres_cluster
from tests.support.seeding import seed_secrets, seed_user


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_the_scheduler_survives_a_database_crash_and_resumes_by_itself(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    blobs = LocalBlobStore(tmp_path / "blobs")
    log = tmp_path / "scheduler.log"
    with postgres_cluster() as cluster:
        db = create_session_factory(create_db_engine(cluster.url))
        creator = seed_user(db, "alice@example.com", now)

        def expired(count: int) -> list[str]:
            return seed_secrets(db, blobs, count=count, creator_id=creator,
                                created_at=now - timedelta(hours=2),
                                expires_at=now - timedelta(hours=1))

        def still_held(ids: list[str]) -> int:
            with db() as session:
                return session.scalar(select(func.count()).select_from(Secret).where(
                    Secret.id.in_(ids), Secret.wrapped_key.is_not(None))) or 0

        environment = {
            **{name: value for name, value in os.environ.items()
               if not name.startswith("CIPHERSLIP_")},
            "CIPHERSLIP_DATA_DIR": str(tmp_path / "data"),
            "CIPHERSLIP_BLOB_DIR": str(tmp_path / "blobs"),
            "CIPHERSLIP_DATABASE_URL": cluster.url,
            "CIPHERSLIP_LOG_FORMAT": "text",
        }
        command = [sys.executable, "-m", "cli.main", "scheduler", "--interval", "0.5"]
        with process(command, environment, log) as scheduler:
            before = expired(5)
            wait_until(lambda: still_held(before) == 0)
            db.kw["bind"].dispose()

            cluster.crash()
            time.sleep(3)  # several purge passes and sequencer ticks against a dead server
            assert scheduler.poll() is None, "the scheduler exited during the outage"
            cluster.start()

            after = expired(5)
            wait_until(lambda: still_held(after) == 0)
            assert scheduler.poll() is None
            assert not any(path.is_file() for path in (tmp_path / "blobs").rglob("*"))
    output = log.read_text()
    assert "Traceback" not in output
    assert "the database cannot be reached" in output
    # One warning per job per outage, not one per tick.
    outage_lines = [line for line in output.splitlines()
                    if "cannot be reached" in line and "WARNING" in line]
    assert 1 <= len(outage_lines) <= 3, outage_lines  # purge, audit chain
    assert "purge job works again" in output
