"""The purge jobs: what makes "content is destroyed" true for secrets nobody touches again.

Every job is idempotent and crash-safe:
- a status change and the destruction of the key material commit in one UPDATE;
- ciphertext is deleted after that commit; a delete that fails leaves ``blob_key`` set, and
  the next run retries it, so nothing is ever forgotten;
- rows are claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so any number of scheduler
  replicas share the work without processing a secret twice (SQLite runs one scheduler).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from core.clock import Clock, as_utc
from core.db.claims import claim
from core.db.engine import database_unreachable
from core.db.models import MagicLink, Secret
from core.jobs import JobReport
from core.services import request_states
from core.services.audit_chain import link_pending
from core.services.downloads import DOWNLOAD_WINDOW
from core.services.lifecycle import Lifecycle
from core.services.states import ACTIVE, BURNED, EXPIRED, FILE, PENDING, PENDING_TTL, TERMINAL

log = logging.getLogger(__name__)

# Used and superseded links are useless at once; keep expired ones a day for support questions.
MAGIC_LINK_RETENTION = timedelta(days=1)


@dataclass(frozen=True, kw_only=True)
class PurgeJobs:
    db: sessionmaker[Session]
    lifecycle: Lifecycle  # every status change and content deletion goes through it
    clock: Clock
    batch_size: int = 500

    def expire_overdue(self) -> JobReport:
        """End every active secret past its expiry: status, key and metadata in one UPDATE,
        then its ciphertext."""
        report = JobReport("expire_overdue")
        # Each batch starts after the last one: rows just expired leave dead index entries
        # at the front of the range, and rescanning them every batch would be quadratic.
        after: tuple[datetime, str] | None = None
        while True:
            now = self.clock.now()
            query = (select(Secret.id, Secret.blob_key, Secret.expires_at)
                     .where(Secret.status == ACTIVE, Secret.expires_at <= now)
                     .order_by(Secret.expires_at, Secret.id))
            if after is not None:
                # The plain bound is what lets the (status, expires_at) index start there.
                query = query.where(Secret.expires_at >= after[0],
                                    tuple_(Secret.expires_at, Secret.id) > after)
            with self.db.begin() as session:
                rows = claim(session, query, self.batch_size)
                if not rows:
                    return report
                after = (rows[-1].expires_at, rows[-1].id)
                blobs = [(row.id, row.blob_key) for row in rows]
                self.lifecycle.end_claimed(session, [secret_id for secret_id, _ in blobs],
                                           EXPIRED)
            report.processed += [secret_id for secret_id, _ in blobs]
            report.failed += self.lifecycle.purge_blobs(blobs)

    def retry_blob_deletes(self) -> JobReport:
        """Delete the ciphertext of ended secrets whose earlier delete failed."""
        report = JobReport("retry_blob_deletes")
        window_closed = self.clock.now() - DOWNLOAD_WINDOW
        with self.db.begin() as session:
            blobs = [(row.id, row.blob_key) for row in claim(session, select(
                Secret.id, Secret.blob_key,
            ).where(
                Secret.status.in_(TERMINAL), Secret.blob_key.is_not(None),
                # After a file's last view its download stays open for the window.
                or_(Secret.secret_type != FILE, Secret.status != BURNED,
                    Secret.ended_at <= window_closed),
            ).order_by(Secret.ended_at), self.batch_size)]
            # Deleted while the rows are claimed: a second scheduler skips them meanwhile.
            report.failed = self.lifecycle.purge_blobs(blobs, session=session)
        report.processed = [secret_id for secret_id, _ in blobs]
        return report

    def remove_abandoned_uploads(self) -> JobReport:
        """Pending secrets never completed within an hour: their uploads, then the rows."""
        report = JobReport("remove_abandoned_uploads")
        cutoff = self.clock.now() - PENDING_TTL
        with self.db.begin() as session:
            abandoned = [(row.id, row.tenant_id) for row in claim(session, select(
                Secret.id, Secret.tenant_id,
            ).where(
                Secret.status == PENDING, Secret.created_at <= cutoff,
            ).order_by(Secret.created_at), self.batch_size)]
            report.processed, report.failed = self.lifecycle.discard_abandoned(
                session, abandoned)
        return report

    def remove_spent_magic_links(self) -> JobReport:
        report = JobReport("remove_spent_magic_links")
        now = self.clock.now()
        with self.db.begin() as session:
            removed = session.execute(
                delete(MagicLink).where(or_(
                    MagicLink.used_at.is_not(None), MagicLink.superseded_at.is_not(None),
                    MagicLink.expires_at <= now - MAGIC_LINK_RETENTION,
                )).returning(MagicLink.id)
            ).scalars().all()
        report.processed = [str(link_id) for link_id in removed]
        return report

    def close_expired_requests(self) -> JobReport:
        """Open requests nobody answered in time become expired (their page said so already);
        requests whose key check never came are dropped."""
        report = JobReport("close_expired_requests")
        with self.db() as session:
            connection = session.connection()
            closed = request_states.close_expired(connection, self.clock.now())
            session.commit()
        report.processed = [f"{closed} requests"] if closed else []
        return report

    def all_jobs(self) -> list[Callable[[], JobReport]]:
        return [self.expire_overdue, self.retry_blob_deletes, self.remove_abandoned_uploads,
                self.remove_spent_magic_links, self.close_expired_requests]

    def run_all(self) -> list[JobReport]:
        """One pass of every job; one failing job never stops the others, but a database
        outage ends the pass (raised for the caller to log once and retry)."""
        reports = []
        for job in self.all_jobs():
            try:
                report = job()
            except Exception as exc:
                if database_unreachable(exc):
                    raise  # the other jobs would fail alike; the runner logs the outage once
                log.exception("purge job %s failed: %s", job.__name__, type(exc).__name__)
                continue
            reports.append(report)
            if report.processed or report.failed:
                log.info("purge job %s: %d done, %d to retry", report.name,
                         len(report.processed), report.failed,
                         extra={"job": report.name, "done": len(report.processed),
                                "failed": report.failed})
        return reports


@dataclass(frozen=True, kw_only=True)
class AuditSequencer:
    """Links committed audit events into their tenants' hash chains (every second): the
    requests that record them take no tenant-wide lock."""

    db: sessionmaker[Session]

    def run(self) -> JobReport:
        report = JobReport("link_audit_events")
        linked = link_pending(self.db)
        if linked:
            log.debug("linked %d audit events", linked)
        report.processed = [str(linked)] if linked else []
        return report


def purge_lag_seconds(db: sessionmaker[Session], now: datetime) -> float:
    """now - the oldest expiry still waiting for its purge (0 when nothing is overdue)."""
    with db() as session:
        oldest = session.scalar(select(func.min(Secret.expires_at)).where(
            Secret.status == ACTIVE, Secret.expires_at <= now))
    return max(0.0, (now - as_utc(oldest)).total_seconds()) if oldest is not None else 0.0
