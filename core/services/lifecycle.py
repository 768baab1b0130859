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
from functools import cache
from typing import Any, Protocol

from sqlalchemy import (
    CTE,
    Connection,
    Insert,
    Select,
    Table,
    Update,
    and_,
    bindparam,
    case,
    insert,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from core.blobstore.protocol import BlobStore
from core.clock import Clock, as_utc
from core.db.engine import transaction
from core.db.models import Secret
from core.errors import BlobStoreError, Conflict
from core.services import notices
from core.services.audit import AUDIT_EVENTS, AUDIT_INSERT, Actor, AuditLog
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
        self, connection: Connection, *, secret_id: str, tenant_id: str, creator_id: str,
        sealed_meta: bytes, blob_key: str, content_size: int, event: dict[str, Any],
    ) -> datetime | None:
        """Make the creator's pending secret active with this content, and record ``event``
        (``AuditLog.values``) with it: one statement on PostgreSQL, a transaction on SQLite
        (or the caller's, with ``transaction``). The activation time, or None if the secret is
        no longer pending (or was abandoned); then nothing was written."""
        now = self.clock.now()
        activating = {
            "target_id": secret_id, "tenant": tenant_id, "creator": creator_id,
            "created_after": now - PENDING_TTL, "now": now, "new_sealed_meta": sealed_meta,
            "new_blob_key": blob_key, "new_content_size": content_size,
        }
        if connection.dialect.name == "postgresql":
            activated = connection.execute(
                _activate_with_event_statement(tuple(event)),
                {**activating, **{f"event_{name}": value for name, value in event.items()}},
            ).first() is not None
        else:
            with transaction(connection):
                activated = bool(connection.execute(_activate_statement(), activating)
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
                _view_with_event_statement(tuple(event), self.notices),
                {**taking, **{f"event_{name}": value for name, value in event.items()}},
            ).one_or_none()
        else:
            with transaction(connection):
                row = connection.execute(_view_statement(), taking).one_or_none()
                if row is not None:
                    connection.execute(AUDIT_INSERT, event)
                    if self.notices:
                        notices.touch(connection, [secret_id], now)
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
                connection.execute(_remember_blob_statement(), remember)
            else:
                with self.db.begin() as session:
                    session.execute(_remember_blob_statement(), remember)
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
            connection.execute(_forget_blob_statement(), forgotten)
        else:
            with self.db.begin() as session:
                session.execute(_forget_blob_statement(), forgotten)
        return True


# The hot path's statements, built once per process: building a statement and computing its
# cache key cost more than executing it. Values travel as bound parameters, named unlike any
# column of the tables involved: SQLAlchemy adds a SET for every parameter named after a
# column of an UPDATE, nested ones included.
_SECRETS: Table = Secret.__table__  # type: ignore[assignment]


@cache
def _activate_statement() -> Update:
    secrets = _SECRETS.c
    return (
        update(_SECRETS)
        .where(secrets.id == bindparam("target_id"), secrets.tenant_id == bindparam("tenant"),
               secrets.creator_id == bindparam("creator"), secrets.status == PENDING,
               secrets.created_at > bindparam("created_after"))
        .values(status=ACTIVE, activated_at=bindparam("now"),
                sealed_meta=bindparam("new_sealed_meta"), blob_key=bindparam("new_blob_key"),
                content_size=bindparam("new_content_size"), upload_id=None)
    )


@cache
def _activate_with_event_statement(event_columns: tuple[str, ...]) -> Insert:
    """``WITH activated AS (UPDATE … RETURNING) INSERT audit … FROM activated RETURNING``."""
    activated = _activate_statement().returning(_SECRETS.c.id).cte("activated")
    return _event_from(activated, event_columns).returning(AUDIT_EVENTS.c.id)


def _event_from(source: CTE, event_columns: tuple[str, ...]) -> Insert:
    """INSERT the event (``event_<column>`` parameters) once per row of ``source``."""
    return insert(AUDIT_EVENTS).from_select(
        list(event_columns),
        select(*(bindparam(f"event_{name}", type_=AUDIT_EVENTS.c[name].type)
                 for name in event_columns)).select_from(source),
    )


@cache
def _view_statement() -> Update:
    """One view, if one is left: the last one burns and shreds in the same UPDATE (SET
    expressions see the row as it was)."""
    secrets = _SECRETS.c
    last_view = and_(secrets.view_limit.is_not(None),
                     secrets.views_used + 1 >= secrets.view_limit)
    now = bindparam("now", type_=secrets.ended_at.type)
    return (
        update(_SECRETS)
        .where(secrets.id == bindparam("target_id"), secrets.tenant_id == bindparam("tenant"),
               secrets.status == ACTIVE, secrets.expires_at > now,
               or_(secrets.view_limit.is_(None), secrets.views_used < secrets.view_limit))
        .values(
            views_used=secrets.views_used + 1,
            status=case((last_view, BURNED), else_=secrets.status),
            ended_at=case((last_view, now), else_=secrets.ended_at),
            wrapped_key=case((last_view, null()), else_=secrets.wrapped_key),
            sealed_meta=case((last_view, null()), else_=secrets.sealed_meta),
            # A text's ciphertext is deleted right after (``discard_burned_text``); a file's
            # stays for its download window, and the scheduler purges it.
            blob_key=case((and_(last_view, secrets.secret_type != FILE), null()),
                          else_=secrets.blob_key),
        )
        .returning(secrets.id, secrets.views_used, secrets.status)
    )


@cache
def _view_with_event_statement(event_columns: tuple[str, ...], with_notices: bool) -> Select[
        tuple[int, str]]:
    """``WITH taken AS (UPDATE … RETURNING), INSERT audit … FROM taken[, UPDATE notices …
    IN taken] SELECT … FROM taken``: PostgreSQL runs all of it in one snapshot, and an
    autocommitted statement is atomic. The event's values are ``event_<column>``."""
    taken = _view_statement().cte("taken")
    audited = _event_from(taken, event_columns).cte("audited")
    statement = select(taken.c.views_used, taken.c.status).add_cte(audited)
    if with_notices:
        now = bindparam("now", type_=_SECRETS.c.ended_at.type)
        statement = statement.add_cte(
            notices.touch_statement(select(taken.c.id), now).cte("noticed"))
    return statement


@cache
def _forget_blob_statement() -> Update:
    secrets = _SECRETS.c
    return (update(_SECRETS)
            .where(secrets.id == bindparam("secret_id"),
                   secrets.blob_key == bindparam("deleted_key"), secrets.status.in_(TERMINAL))
            .values(blob_key=None))



@cache
def _remember_blob_statement() -> Update:
    secrets = _SECRETS.c
    return (update(_SECRETS)
            .where(secrets.id == bindparam("secret_id"), secrets.blob_key.is_(None),
                   secrets.status.in_(TERMINAL))
            .values(blob_key=bindparam("kept_key")))
