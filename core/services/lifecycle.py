"""Status transitions and content destruction: the one place a secret's status changes.

Ending a secret clears the wrapped key and sealed metadata in the same UPDATE that sets the
terminal status (crypto-shredding is atomic with the transition); the ciphertext blob is
deleted right after commit, and a failed delete leaves ``blob_key`` set for a retry.

A view is taken by one conditional UPDATE that also burns (and shreds) on the last one, so
counting is exact under concurrency; the audit event and the creator's notice change with it,
atomically: one statement on PostgreSQL (data-modifying CTEs, so a reveal pays one round trip
for all of it), one transaction on SQLite.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, exists, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.blobstore.protocol import BlobStore
from core.clock import Clock
from core.db.engine import transaction
from core.db.models import Secret
from core.errors import BlobStoreError, Conflict
from core.services import lifecycle_statements as statements
from core.services import notices
from core.services.audit import AUDIT_EVENTS, AUDIT_INSERT, Actor, AuditLog
from core.services.identity import ClientInfo
from core.services.locations import blob_prefix
from core.services.states import (
    ACTIVE,
    BURNED,
    EXPIRED,
    PENDING,
    PENDING_TTL,
    REVOKED,
    SecretRecord,
    SecretStatus,
    effective_status,
)

log = logging.getLogger(__name__)
_SECRETS = cast(Table, Secret.__table__)


@dataclass(frozen=True)
class ViewTaken:
    views_used: int
    burned: bool


@dataclass(frozen=True, kw_only=True)
class Lifecycle:
    db: sessionmaker[Session]
    blob_store: BlobStore
    clock: Clock
    audit_log: AuditLog
    # Creator notices exist only with Slack; without it there is nothing to touch.
    notices: bool = False

    def activate(
        self, connection: Connection, *, secret_id: str, tenant_id: str, creator_id: str,
        sealed_meta: bytes, key_check: bytes, blob_key: str, content_size: int,
        event: dict[str, Any],
    ) -> datetime | None:
        """Make the creator's pending secret active with this content, and record ``event``
        (``AuditLog.values``) with it: one statement on PostgreSQL, a transaction on SQLite
        (or the caller's, with ``transaction``). The activation time, or None if the secret is
        no longer pending (or was abandoned); then nothing was written."""
        now = self.clock.now()
        activating = {
            "target_id": secret_id, "tenant": tenant_id, "creator": creator_id,
            "created_after": now - PENDING_TTL, "now": now, "new_sealed_meta": sealed_meta,
            "new_key_check": key_check, "new_blob_key": blob_key, "new_content_size": content_size,
        }
        if connection.dialect.name == "postgresql":
            activated = connection.execute(
                statements.activate_with_event_statement(tuple(event)),
                {**activating, **statements.event_parameters(event)},
            ).first() is not None
        else:
            with transaction(connection):
                activated = bool(connection.execute(statements.activate_statement(), activating)
                                 .rowcount)
                if activated:
                    connection.execute(AUDIT_INSERT, event)
        if not activated:
            return None
        self.audit_log.counted(event)
        return now

    def take_view(
        self, connection: Connection, secret_id: str, tenant_id: str, event: dict[str, Any],
    ) -> ViewTaken | None:
        """Take one view of an active secret, burning and shredding it on the last, with
        the audit ``event`` (``AuditLog.values``) and the notice touch, atomically. None if no
        view was left or it ended meanwhile (then nothing was written).

        ``connection`` comes from ``autocommit_connection``: on PostgreSQL all of it is one
        statement; on SQLite (no data-modifying CTEs), one transaction.
        """
        now = self.clock.now()
        taking = {"target_id": secret_id, "tenant": tenant_id, "now": now}
        if connection.dialect.name == "postgresql":
            row = connection.execute(
                statements.view_with_event_statement(tuple(event), self.notices),
                {**taking, **statements.event_parameters(event)},
            ).one_or_none()
        else:
            with transaction(connection):
                row = connection.execute(statements.view_statement(), taking).one_or_none()
                if row is not None:
                    connection.execute(AUDIT_INSERT, event)
                    if self.notices:
                        notices.touch(connection, [secret_id], now)
        if row is None:
            return None
        self.audit_log.counted(event)
        return ViewTaken(views_used=int(row.views_used), burned=row.status == BURNED)

    def view_recorded(self, secret_id: str, event: dict[str, Any]) -> ViewTaken | None:
        """After ``take_view`` lost its connection mid-statement, whether the view was
        committed all the same: its audit event (same secret, actor and microsecond) is the
        witness. On a fresh connection; None if it was not."""
        audit_events = AUDIT_EVENTS.c
        with self.db() as session:
            row = session.execute(
                select(_SECRETS.c.views_used, _SECRETS.c.status)
                .where(_SECRETS.c.id == secret_id,
                       exists().where(audit_events.secret_id == secret_id,
                                      audit_events.activity_name == event["activity_name"],
                                      audit_events.time == event["time"],
                                      audit_events.actor_email == event["actor_email"]))
            ).one_or_none()
        if row is None:
            return None
        self.audit_log.counted(event)
        return ViewTaken(views_used=int(row.views_used), burned=row.status == BURNED)

    def revoke(
        self, secret: Secret, *, actor: Actor, client: ClientInfo, activity_name: str
    ) -> None:
        """End an active secret now and destroy its content; the creator's and an admin's
        revoke differ only in the event they record."""
        if self.expire_if_due(secret):
            raise Conflict("this secret has already expired")
        with self.db.begin() as session:
            if not self.end(session, secret, REVOKED):
                current = session.get(Secret, secret.id)
                status = current.status if current else "gone"
                raise Conflict(f"this secret is already {status}")
            self.audit_log.record(session, activity_name, tenant_id=secret.tenant_id,
                                  actor=actor, client=client, secret=secret)
        if secret.blob_key:
            self.purge_blob(secret.id, secret.blob_key)

    def end(
        self,
        session: Session | Connection,
        secret: SecretRecord,
        new_status: str,
        *,
        from_statuses: Iterable[str] = (ACTIVE,),
    ) -> bool:
        """Move ``secret`` to a terminal status inside ``session``; False if it was not in
        ``from_statuses`` any more (someone else ended it first)."""
        now = self.clock.now()
        result = session.execute(
            update(Secret)
            .where(Secret.id == secret.id, Secret.tenant_id == secret.tenant_id,
                   Secret.status.in_(tuple(from_statuses)))
            .values(status=new_status, ended_at=now, wrapped_key=None, sealed_meta=None)
            .execution_options(synchronize_session=False)
        )
        ended = bool(result.rowcount)  # type: ignore[attr-defined]
        if ended and self.notices:
            notices.touch(session, [secret.id], now)
        return ended

    def end_claimed(self, session: Session, secret_ids: Sequence[str],
                    new_status: SecretStatus) -> None:
        """End many secrets the caller has claimed (``core.db.claims``), shredding them and
        touching their notices, in the caller's transaction. By id only: the claim holds
        these rows, and a status condition would tempt a planner with stale statistics
        into the status index, whose dead "active" entries grow with every batch."""
        if not secret_ids:
            return
        now = self.clock.now()
        session.execute(
            update(Secret)
            .where(Secret.id.in_(list(secret_ids)))
            .values(status=new_status, ended_at=now, wrapped_key=None, sealed_meta=None)
            .execution_options(synchronize_session=False)
        )
        if self.notices:
            notices.touch(session, secret_ids, now)

    def discard_abandoned(self, session: Session, secrets: Sequence[tuple[str, str]]) -> tuple[
            list[str], int]:
        """Remove pending secrets never completed, (id, tenant) pairs the caller claimed:
        every upload under their prefix, then the rows (recipients and links go with them).
        Returns the ids removed and how many failed (those rows stay for a retry)."""
        removed, failed = [], 0
        for secret_id, tenant_id in secrets:
            try:
                self.blob_store.delete_prefix(blob_prefix(tenant_id, secret_id))
            except BlobStoreError:
                failed += 1
                continue
            removed.append(secret_id)
        if removed:
            session.execute(delete(Secret).where(Secret.id.in_(removed),
                                                 Secret.status == PENDING))
        return removed, failed

    def purge_blobs(
        self, blobs: Sequence[tuple[str, str | None]], *, session: Session | None = None
    ) -> int:
        """Delete ended secrets' ciphertext and forget the keys of those deleted in one
        UPDATE (in ``session`` if given); a failed delete keeps its key for the next try.
        Returns how many failed."""
        deleted, failed = [], 0
        for secret_id, blob_key in blobs:
            if blob_key is None:
                continue
            try:
                self.blob_store.delete(blob_key)
            except BlobStoreError:
                failed += 1
                continue
            deleted.append(secret_id)
        if deleted:
            # Only ids: these rows ended already (the planner note of end_claimed applies).
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

    def expire_if_due(
        self, secret: SecretRecord, connection: Connection | None = None
    ) -> bool:
        """Read-time enforcement: end an overdue secret now rather than wait for the job
        (on ``connection``, an autocommit one, if the caller holds one)."""
        if effective_status(secret, self.clock.now()) != EXPIRED or secret.status != ACTIVE:
            return False
        if connection is not None:
            with transaction(connection):
                ended = self.end(connection, secret, EXPIRED)
        else:
            with self.db.begin() as session:
                ended = self.end(session, secret, EXPIRED)
        if ended and secret.blob_key:
            self.purge_blob(secret.id, secret.blob_key, connection)
        return ended

    def discard_burned_text(
        self, secret_id: str, blob_key: str, connection: Connection | None = None
    ) -> bool:
        """Delete the ciphertext of a text whose last view forgot its key (``take_view``);
        if the delete fails, put the key back so that the scheduler retries it. The usual
        case costs no statement at all."""
        try:
            self.blob_store.delete(blob_key)
        except BlobStoreError:
            log.warning("ciphertext delete failed; will retry", extra={"secret_id": secret_id})
            remember = {"secret_id": secret_id, "kept_key": blob_key}
            if connection is not None:
                connection.execute(statements.remember_blob_statement(), remember)
            else:
                with self.db.begin() as session:
                    session.execute(statements.remember_blob_statement(), remember)
            return False
        return True

    def purge_blob(
        self, secret_id: str, blob_key: str, connection: Connection | None = None
    ) -> bool:
        """Delete an ended secret's ciphertext; on failure it stays listed for a retry.
        Forgetting the key is one statement: on ``connection`` if given (autocommit)."""
        try:
            self.blob_store.delete(blob_key)
        except BlobStoreError:
            log.warning("ciphertext delete failed; will retry", extra={"secret_id": secret_id})
            return False
        forgotten = {"secret_id": secret_id, "deleted_key": blob_key}
        if connection is not None:
            connection.execute(statements.forget_blob_statement(), forgotten)
        else:
            with self.db.begin() as session:
                session.execute(statements.forget_blob_statement(), forgotten)
        return True
