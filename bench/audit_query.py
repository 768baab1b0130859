"""Audit log at scale: 1,000,000 events on PostgreSQL.

Seeds a fresh database with a realistic mix of chained events (COPY, valid hash chain), then
prints p50/p95 latency of the four documented seed filters (first page of 50, newest first,
through the same service code as the API and console), and the throughput and peak memory
of a full JSON Lines export through the real `cipherslip audit export` process.

    .venv/bin/python -m bench.audit_query [--events 1000000] [--runs 30]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from core.db.engine import create_db_engine, create_session_factory
from core.db.migrate import upgrade_to_head
from core.services.admin import AdminService
from core.services.audit import AuditLog
from core.services.audit_chain import GENESIS, event_hash
from core.services.identity import SUPER_ADMIN, Principal
from tests.support.clock import MovableClock
from tests.support.requirements import POSTGRES_URL

REPO = Path(__file__).resolve().parents[1]
DATABASE = "cipherslip_bench_audit"
TENANT = "default"
SEED_FILTERS = {
    "all paper_secret_ events": 'activity_name starts with "paper_secret_"',
    "views only": 'activity_name in ("paper_secret_opened", "paper_secret_opened_internal")',
    "access denied": 'activity_name = "paper_secret_access_denied"',
    "one user's activity": ('activity_name starts with "paper_secret_" AND '
                            'actor.user.email = "user@example.com"'),
}
ACTIVITIES = [  # (name, weight)
    ("paper_secret_created", 20), ("paper_secret_opened_internal", 30),
    ("paper_secret_opened", 10), ("paper_secret_revoked", 5),
    ("paper_secret_revoked_admin", 1), ("paper_secret_magic_link_created", 10),
    ("paper_secret_access_denied", 20), ("paper_secret_file_downloaded", 4),
]
COLUMNS = ("tenant_id", "chain_seq", "time", "activity_name", "actor_email", "actor_uid",
           "src_ip", "user_agent", "secret_id", "share_code", "mode", "secret_type", "status",
           "status_detail", "prev_hash", "hash")


def fresh_database() -> str:
    admin_url = make_url(POSTGRES_URL)
    conninfo = f"host={admin_url.host} port={admin_url.port or 5432} user={admin_url.username} " \
               f"dbname={admin_url.database}"
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{DATABASE}"')
    url = admin_url.set(database=DATABASE).render_as_string(hide_password=False)
    upgrade_to_head(url)
    return url


def seed(url: str, count: int) -> float:
    """COPY ``count`` chained events; returns seconds taken."""
    rng = random.Random(7)
    names = [name for name, _ in ACTIVITIES]
    weights = [weight for _, weight in ACTIVITIES]
    start = datetime(2026, 8, 1, tzinfo=UTC)
    started = time.perf_counter()
    prev_hash = GENESIS
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as connection, connection.cursor() as cursor:
        with cursor.copy(f"COPY audit_events ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for seq in range(1, count + 1):
                activity = rng.choices(names, weights)[0]
                user = rng.randrange(5000)
                # A few hundred events belong to the user the seed example asks about.
                email = "user@example.com" if rng.random() < 0.0002 else f"user{user}@example.com"
                secret = rng.randrange(count // 5 + 1)
                denied = activity == "paper_secret_access_denied"
                values = {
                    "tenant_id": TENANT, "chain_seq": seq,
                    "time": start + timedelta(seconds=seq * 7.7),
                    "activity_name": activity, "actor_email": email, "actor_uid": f"uid-{user}",
                    "src_ip": f"10.{user % 7}.{user % 250}.{rng.randrange(250)}",
                    "user_agent": "Mozilla/5.0 (bench)", "secret_id": f"secret-{secret:08d}",
                    "share_code": f"B{secret % 1000:03d}-0000-{secret % 10000:04d}",
                    "mode": "external" if activity in ("paper_secret_opened",
                                                       "paper_secret_magic_link_created")
                    else "internal",
                    "secret_type": "file" if secret % 5 == 0 else "text",
                    "status": "Failure" if denied else "Success",
                    "status_detail": "not_a_recipient" if denied else None,
                }
                digest = event_hash(prev_hash, values)
                copy.write_row([*values.values(), prev_hash, digest])
                prev_hash = digest
        cursor.execute("INSERT INTO audit_chain_heads (tenant_id, seq, hash) VALUES (%s, %s, %s)",
                       (TENANT, count, prev_hash))
        connection.commit()
        cursor.execute("ANALYZE audit_events")
    return time.perf_counter() - started


def time_filters(url: str, runs: int) -> dict[str, tuple[float, float, int]]:
    engine = create_db_engine(url)
    clock = MovableClock()
    admin_service = AdminService(db=create_session_factory(engine), lifecycle=None,  # type: ignore[arg-type]
                                 audit_log=AuditLog(clock), clock=clock)
    admin = Principal(TENANT, "bench", "root@example.com", "Root", role=SUPER_ADMIN)
    results = {}
    for label, filter_text in SEED_FILTERS.items():
        samples = []
        for run in range(runs + 3):
            started = time.perf_counter()
            page = admin_service.audit_page(admin, filter_text=filter_text, limit=50)
            elapsed = (time.perf_counter() - started) * 1000
            if run >= 3:  # warm-up runs fill caches, as a busy console would
                samples.append(elapsed)
        results[label] = (statistics.median(samples),
                          statistics.quantiles(samples, n=20)[18], len(page.events))
    engine.dispose()
    return results


def time_export(url: str) -> tuple[int, int, float, float]:
    """(events, bytes, seconds, peak RSS MiB) of `cipherslip audit export` as a child process."""
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("CIPHERSLIP_")}
    environment["CIPHERSLIP_DATABASE_URL"] = url
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "audit", "export", "--filter",
         SEED_FILTERS["all paper_secret_ events"]],
        cwd=REPO, env=environment, stdout=subprocess.PIPE,
    )
    assert process.stdout is not None
    events = size = 0
    for chunk in iter(lambda: process.stdout.read(1 << 20), b""):  # type: ignore[union-attr]
        size += len(chunk)
        events += chunk.count(b"\n")
    process.wait()
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return events, size, seconds, peak_kib / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    url = fresh_database()
    seconds = seed(url, args.events)
    print(f"seeded {args.events:,} chained events in {seconds:.1f} s "
          f"({args.events / seconds:,.0f} events/s)")
    print(f"\nfirst page (50 newest) per seed filter, {args.runs} runs each:")
    print(f"  {'filter':<24}{'p50 ms':>9}{'p95 ms':>9}{'rows':>6}")
    for label, (p50, p95, rows) in time_filters(url, args.runs).items():
        print(f"  {label:<24}{p50:>9.1f}{p95:>9.1f}{rows:>6}")
    events, size, seconds, peak_mib = time_export(url)
    print(f"\nJSON Lines export of every event (cipherslip audit export): {events:,} events, "
          f"{size / 2**20:,.0f} MiB in {seconds:.1f} s = {events / seconds:,.0f} events/s, "
          f"{size / 2**20 / seconds:,.1f} MiB/s; peak RSS of the exporting process "
          f"{peak_mib:,.0f} MiB")


if __name__ == "__main__":
    main()
