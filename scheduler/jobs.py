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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Select, delete, func, or_, select, tuple_, update
from sqlalchemy.orm import Session, sessionmaker

from core.blobstore.protocol import BlobStore
from core.clock import Clock, as_utc
from core.db.engine import database_unreachable
from core.db.models import MagicLink, Secret
from core.errors import BlobStoreError
from core.services import notices
from core.services.audit_chain import link_pending
from core.services.downloads import DOWNLOAD_WINDOW
from core.services.lifecycle import Lifecycle
from core.services.states import ACTIVE, BURNED, EXPIRED, FILE, PENDING, PENDING_TTL, TERMINAL

log = logging.getLogger(__name__)

# Used and superseded links are useless at once; keep expired ones a day for support questions.
MAGIC_LINK_RETENTION = timedelta(days=1)


@dataclass
class JobReport:
    name: str
    processed: list[str] = field(default_factory=list)  # ids, for logs and tests
    failed: int = 0


def claimed(
    session: Session, query: Select[*tuple[Any, ...]], batch_size: int
) -> list[Row[Any]]:
    """Rows no other scheduler holds, locked until this transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.execute(query.limit(batch_size)))


@dataclass(frozen=True, kw_only=True)
class PurgeJobs:
    db: sessionmaker[Session]
    lifecycle: Lifecycle
    blob_store: BlobStore
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
                rows = claimed(session, query, self.batch_size)
                if not rows:
                    return report
                after = (rows[-1].expires_at, rows[-1].id)
                blobs = [(row.id, row.blob_key) for row in rows]
                # By id only: the claim holds these rows (locked, or SQLite's one writer), and
                # a status condition would tempt a planner with stale statistics into the
                # status index, whose dead "active" entries grow with every batch.
                session.execute(
                    update(Secret)
                    .where(Secret.id.in_([secret_id for secret_id, _ in blobs]))
                    .values(status=EXPIRED, ended_at=now, wrapped_key=None, sealed_meta=None)
                    .execution_options(synchronize_session=False)
                )
                notices.touch(session, [secret_id for secret_id, _ in blobs], now)
            report.processed += [secret_id for secret_id, _ in blobs]
            report.failed += self._purge_blobs(blobs)

    def retry_blob_deletes(self) -> JobReport:
        """Delete the ciphertext of ended secrets whose earlier delete failed."""
        report = JobReport("retry_blob_deletes")
        window_closed = self.clock.now() - DOWNLOAD_WINDOW
        with self.db.begin() as session:
            blobs = [(row.id, row.blob_key) for row in claimed(session, select(
                Secret.id, Secret.blob_key,
            ).where(
                Secret.status.in_(TERMINAL), Secret.blob_key.is_not(None),
                # After a file's last view its download stays open for the window.
                or_(Secret.secret_type != FILE, Secret.status != BURNED,
                    Secret.ended_at <= window_closed),
            ).order_by(Secret.ended_at), self.batch_size)]
            # Deleted while the rows are claimed: a second scheduler skips them meanwhile.
            report.failed = self._purge_blobs(blobs, session=session)
        report.processed = [secret_id for secret_id, _ in blobs]
        return report

    def remove_abandoned_uploads(self) -> JobReport:
        """Pending secrets never completed within an hour: their uploads, then the rows."""
        report = JobReport("remove_abandoned_uploads")
        cutoff = self.clock.now() - PENDING_TTL
        with self.db.begin() as session:
            for row in claimed(session, select(Secret.id, Secret.tenant_id).where(
                Secret.status == PENDING, Secret.created_at <= cutoff,
            ).order_by(Secret.created_at), self.batch_size):
                try:
                    # Every upload of a secret lives under its prefix, replaced ones included.
                    self.blob_store.delete_prefix(f"{row.tenant_id}/{row.id}/")
                except BlobStoreError:
                    report.failed += 1
                    continue  # the row stays, so the next run tries again
                report.processed.append(row.id)
            # Recipients and links go with the row (ON DELETE CASCADE).
            session.execute(delete(Secret).where(Secret.id.in_(report.processed),
                                                 Secret.status == PENDING))
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

    def _purge_blobs(
        self, blobs: Sequence[tuple[str, str | None]], *, session: Session | None = None
    ) -> int:
        """Delete ended secrets' ciphertext; forget the keys of those deleted in one UPDATE
        (an ended secret's blob_key never changes again). Returns how many failed."""
        deleted, failed = [], 0
        for secret_id, blob_key in blobs:
            if blob_key is None:
                continue
            try:
                self.blob_store.delete(blob_key)
            except BlobStoreError:
                failed += 1  # blob_key stays set: the next run retries it
                continue
            deleted.append(secret_id)
        if deleted:
            # Only ids: these rows ended already, and a status condition would tempt the
            # planner into the status index, which a long purge fills with ended rows.
            forget = (update(Secret).where(Secret.id.in_(deleted))
                      .values(blob_key=None).execution_options(synchronize_session=False))
            if session is not None:
                session.execute(forget)
            else:
                with self.db.begin() as own_session:
                    own_session.execute(forget)
        if failed:
            log.warning("%d ciphertext deletes failed; they will be retried", failed)
        return failed

    def all_jobs(self) -> list[Callable[[], JobReport]]:
        return [self.expire_overdue, self.retry_blob_deletes, self.remove_abandoned_uploads,
                self.remove_spent_magic_links]

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
