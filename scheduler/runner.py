"""``cipherslip scheduler``: the purge jobs on an APScheduler interval.

One pass every ``interval`` seconds (15 by default) keeps every expired secret purged within
a minute of its expiry. Passes never overlap in a process (max_instances=1), and replicas
share rows through SKIP LOCKED claims, so running two or more schedulers is safe.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler

from core.db.engine import database_unreachable
from scheduler.jobs import AuditSequencer, PurgeJobs

log = logging.getLogger(__name__)
DEFAULT_INTERVAL_SECONDS = 15
# Creator notices should reach Slack within seconds of a reveal; the query is an index probe.
NOTICE_INTERVAL_SECONDS = 2
# Audit events wait unlinked (editable without a trace) until the sequencer runs: keep it short.
SEQUENCER_INTERVAL_SECONDS = 1


def run_forever(
    jobs: PurgeJobs, interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
    notices: Callable[[], object] | None = None,
    sequencer: AuditSequencer | None = None, ready_file: Path | None = None,
) -> None:
    """Run passes until SIGTERM or SIGINT; a pass in progress is allowed to finish.
    ``ready_file`` is created once the jobs are scheduled (`cipherslip dev` waits for it)."""
    # APScheduler logs every run of every job at INFO: the sequencer alone would print two
    # lines a second. Its warnings and errors still show.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(_logged("purge", jobs.run_all), "interval", seconds=interval_seconds,
                      id="purge", max_instances=1, coalesce=True, next_run_time=datetime.now(UTC))
    if sequencer is not None:
        scheduler.add_job(_logged("audit chain", sequencer.run), "interval",
                          seconds=SEQUENCER_INTERVAL_SECONDS, id="audit_chain",
                          max_instances=1, coalesce=True, next_run_time=datetime.now(UTC))
    if notices is not None:
        scheduler.add_job(_logged("creator notices", notices), "interval",
                          seconds=NOTICE_INTERVAL_SECONDS, id="notices", max_instances=1,
                          coalesce=True)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    scheduler.start()
    log.info("scheduler started: a purge pass every %s s", interval_seconds)
    if ready_file is not None:
        ready_file.touch()
    stop.wait()
    log.info("scheduler stopping: waiting for the current pass")
    scheduler.shutdown(wait=True)


def _logged(name: str, job: Callable[[], object]) -> Callable[[], None]:
    """A job whose failure is logged by type and retried on the next tick (a database
    outage must not stop the scheduler, nor print a message that could quote data).

    A job that ticks every second would log an outage sixty times a minute: the first
    failure of a run of failures is a warning, the rest are debug, and recovery is noted."""
    failing = False

    def run() -> None:
        nonlocal failing
        try:
            job()
        except Exception as exc:
            reason = ("the database cannot be reached" if database_unreachable(exc)
                      else "an error")
            (log.debug if failing else log.warning)(
                "%s job failed (%s: %s), retrying on the next tick", name, reason,
                type(exc).__name__)
            failing = True
            return
        if failing:
            log.info("%s job works again", name)
            failing = False

    return run
