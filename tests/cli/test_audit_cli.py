"""`cipherslip audit verify | link | export`, run as the operator would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import delete, select, update

from core.db.engine import create_db_engine, create_session_factory
from core.db.models import AuditEvent
from core.services.audit import Actor, AuditLog
from core.services.identity import ClientInfo
from tests.support.clock import MovableClock

REPO = Path(__file__).resolve().parents[2]


def cipherslip(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("CIPHERSLIP_")}
    environment["CIPHERSLIP_DATABASE_URL"] = database_url
    return subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=REPO,
                          env=environment, capture_output=True, text=True, timeout=60,
                          check=False)


def seed(database_url: str) -> list[int]:
    engine = create_db_engine(database_url)
    db = create_session_factory(engine)
    log = AuditLog(MovableClock())
    for index, activity in enumerate(["paper_secret_created", "paper_secret_opened_internal",
                                      "paper_secret_access_denied", "paper_secret_created"]):
        with db.begin() as session:
            log.record(session, activity, tenant_id="default",
                       actor=Actor(f"user{index}@example.com"), client=ClientInfo("10.0.0.9"))
    with db() as session:
        ids = list(session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))
    engine.dispose()
    return ids


def test_verify_passes_then_fails_at_the_tampered_event(database_url: str) -> None:
    ids = seed(database_url)
    waiting = cipherslip(database_url, "audit", "verify")
    # Recorded events wait for the scheduler's sequencer: nothing is broken, 4 are pending.
    assert waiting.returncode == 0, waiting.stderr
    assert "tenant default: 0 events linked, chain intact" in waiting.stdout
    assert "4 not linked yet (oldest" in waiting.stdout

    linked = cipherslip(database_url, "audit", "link")
    assert linked.returncode == 0 and "linked 4 events" in linked.stdout, linked.stderr
    intact = cipherslip(database_url, "audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert "tenant default: 4 events linked, chain intact" in intact.stdout
    assert "none waiting to be linked" in intact.stdout

    engine = create_db_engine(database_url)
    with engine.begin() as connection:
        connection.execute(update(AuditEvent).where(AuditEvent.id == ids[2])
                           .values(actor_email="someone-else@example.com"))
    edited = cipherslip(database_url, "audit", "verify")
    assert edited.returncode == 1
    assert f"BROKEN at event #3 (id {ids[2]})" in edited.stderr and "edited" in edited.stderr

    with engine.begin() as connection:
        connection.execute(delete(AuditEvent).where(AuditEvent.id == ids[2]))
    deleted = cipherslip(database_url, "audit", "verify")
    engine.dispose()
    assert deleted.returncode == 1
    assert "BROKEN at event #3" in deleted.stderr and "missing" in deleted.stderr


def test_export_writes_matching_json_lines(database_url: str, tmp_path: Path) -> None:
    seed(database_url)
    output = tmp_path / "audit.jsonl"
    result = cipherslip(database_url, "audit", "export", "--filter",
                        'activity_name = "paper_secret_created"', "--output", str(output))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert [line["actor"]["user"]["email"] for line in lines] == [
        "user0@example.com", "user3@example.com"]
    to_stdout = cipherslip(database_url, "audit", "export", "--ip", "10.0.0.9")
    assert len(to_stdout.stdout.splitlines()) == 4


def test_export_refuses_a_malformed_filter(database_url: str) -> None:
    result = cipherslip(database_url, "audit", "export", "--filter", "activity_name ==")
    assert result.returncode == 2
    assert "character" in result.stderr
