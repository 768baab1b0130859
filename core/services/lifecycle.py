"""Status transitions and content destruction (SPEC §3): the one place a secret's status changes.

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
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import (
    Connection,
    Table,
    and_,
    case,
    insert,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from core.blobstore.protocol import BlobStore
from core.clock import Clock, as_utc
from core.db.engine import transaction
from core.db.models import AuditEvent, Secret
from core.errors import BlobStoreError, Conflict
from core.services import notices
from core.services.audit import Actor, AuditLog
from core.services.identity import ClientInfo

ACTIVE = "active"
PENDING = "pending"
EXPIRED = "expired"
BURNED = "burned"
REVOKED = "revoked"
TERMINAL = (EXPIRED, BURNED, REVOKED)
# A pending secret must be completed within this time or it is abandoned (and removed).
PENDING_TTL = timedelta(hours=1)

TEXT = "text"  # secret types: text formats (<= 64 KiB) and files (<= 1 GiB)
FILE = "file"
INTERNAL = "internal"  # recipients are org users, proven by SSO
EXTERNAL = "external"  # recipients are email addresses, proven by magic links

log = logging.getLogger(__name__)
_AUDIT_EVENTS: Table = AuditEvent.__table__  # type: ignore[assignment]


class SecretState(Protocol):
    """What status and views are computed from (a ``Secret`` row or a lighter query result)."""

    @property
    def status(self) -> str: ...
    @property
    def expires_at(self) -> datetime: ...
    @property
    def view_limit(self) -> int | None: ...
    @property
    def views_used(self) -> int: ...


class SecretRecord(SecretState, Protocol):
    @property
    def id(self) -> str: ...
    @property
    def tenant_id(self) -> str: ...
    @property
    def blob_key(self) -> str | None: ...


def effective_status(secret: SecretState, now: datetime) -> str:
    """The status as users must see it, even before the purge job has run."""
    if secret.status == ACTIVE and as_utc(secret.expires_at) <= now:
        return EXPIRED
    return secret.status


def views_left(secret: SecretState) -> int | None:
    if secret.view_limit is None:
        return None
    return max(0, secret.view_limit - secret.views_used)


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
        self, session: Session, *, secret_id: str, tenant_id: str, creator_id: str,
        sealed_meta: bytes, blob_key: str, content_size: int,
    ) -> datetime | None:
        """Make the creator's pending secret active with this content, inside ``session``;
        the activation time, or None if it is no longer pending (or was abandoned)."""
        now = self.clock.now()
        activated = session.execute(
            update(Secret)
            .where(Secret.id == secret_id, Secret.tenant_id == tenant_id,
                   Secret.creator_id == creator_id, Secret.status == PENDING,
                   Secret.created_at > now - PENDING_TTL)
            .values(status=ACTIVE, activated_at=now, sealed_meta=sealed_meta,
                    blob_key=blob_key, content_size=content_size, upload_id=None)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        return now if activated else None

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
        last_view = and_(Secret.view_limit.is_not(None),
                         Secret.views_used + 1 >= Secret.view_limit)
        take = (
            update(Secret)
            .where(
                Secret.id == secret_id, Secret.tenant_id == tenant_id,
                Secret.status == ACTIVE, Secret.expires_at > now,
                or_(Secret.view_limit.is_(None), Secret.views_used < Secret.view_limit),
            )
            # SET expressions see the row as it was, so the last view burns atomically.
            .values(
                views_used=Secret.views_used + 1,
                status=case((last_view, BURNED), else_=Secret.status),
                ended_at=case((last_view, now), else_=Secret.ended_at),
                wrapped_key=case((last_view, null()), else_=Secret.wrapped_key),
                sealed_meta=case((last_view, null()), else_=Secret.sealed_meta),
            )
            .returning(Secret.id, Secret.views_used, Secret.status)
            .execution_options(synchronize_session=False)
        )
        if connection.dialect.name == "postgresql":
            row = connection.execute(self._in_one_statement(take, event, now)).one_or_none()
        else:
            with transaction(connection):
                row = connection.execute(take).one_or_none()
                if row is not None:
                    connection.execute(insert(AuditEvent).values(event))
                    if self.notices:
                        notices.touch(connection, [secret_id], now)
        if row is None:
            return None
        self.audit_log.counted(event)
        return ViewTaken(views_used=int(row.views_used), burned=row.status == BURNED)

    def _in_one_statement(self, take: Any, event: dict[str, Any], now: datetime) -> Any:
        """``WITH taken AS (UPDATE … RETURNING), INSERT audit … FROM taken, UPDATE notices
        … IN taken SELECT … FROM taken``: PostgreSQL runs all of it in one snapshot, and an
        autocommitted statement is atomic."""
        taken = take.cte("taken")
        audited = insert(AuditEvent).from_select(
            list(event),
            select(*(literal(value, _AUDIT_EVENTS.c[name].type).label(name)
                     for name, value in event.items())).select_from(taken),
        ).cte("audited")
        statement = select(taken.c.views_used, taken.c.status).add_cte(audited)
        if self.notices:
            touched = notices.touch_statement(select(taken.c.id), now).cte("noticed")
            statement = statement.add_cte(touched)
        return statement

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
        forget = (update(Secret)
                  .where(Secret.id == secret_id, Secret.blob_key == blob_key,
                         Secret.status.in_(TERMINAL))
                  .values(blob_key=None)
                  .execution_options(synchronize_session=False))
        if connection is not None:
            connection.execute(forget)
        else:
            with self.db.begin() as session:
                session.execute(forget)
        return True
