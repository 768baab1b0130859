"""Status transitions and content destruction (SPEC §3).

Ending a secret clears the wrapped key and sealed metadata in the same UPDATE that sets the
terminal status (crypto-shredding is atomic with the transition); the ciphertext blob is
deleted right after commit, and a failed delete leaves ``blob_key`` set for a retry.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from core.blobstore.protocol import BlobStore
from core.clock import Clock, as_utc
from core.db.models import Secret
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

TEXT = "text"  # secret types: text formats (<= 64 KiB) and files (<= 1 GiB)
FILE = "file"
INTERNAL = "internal"  # recipients are org users, proven by SSO
EXTERNAL = "external"  # recipients are email addresses, proven by magic links

log = logging.getLogger(__name__)


def effective_status(secret: Secret, now: datetime) -> str:
    """The status as users must see it, even before the purge job has run."""
    if secret.status == ACTIVE and as_utc(secret.expires_at) <= now:
        return EXPIRED
    return secret.status


def views_left(secret: Secret) -> int | None:
    if secret.view_limit is None:
        return None
    return max(0, secret.view_limit - secret.views_used)


@dataclass(frozen=True, kw_only=True)
class Lifecycle:
    db: sessionmaker[Session]
    blob_store: BlobStore
    clock: Clock
    audit_log: AuditLog

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
        session: Session,
        secret: Secret,
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
        if ended:
            notices.touch(session, [secret.id], now)
        return ended

    def expire_if_due(self, secret: Secret) -> bool:
        """Read-time enforcement: end an overdue secret now rather than wait for the job."""
        if effective_status(secret, self.clock.now()) != EXPIRED or secret.status != ACTIVE:
            return False
        with self.db.begin() as session:
            ended = self.end(session, secret, EXPIRED)
        if ended and secret.blob_key:
            self.purge_blob(secret.id, secret.blob_key)
        return ended

    def purge_blob(self, secret_id: str, blob_key: str) -> bool:
        """Delete an ended secret's ciphertext; on failure it stays listed for a retry."""
        try:
            self.blob_store.delete(blob_key)
        except BlobStoreError:
            log.warning("ciphertext delete failed; will retry", extra={"secret_id": secret_id})
            return False
        with self.db.begin() as session:
            session.execute(
                update(Secret)
                .where(Secret.id == secret_id, Secret.blob_key == blob_key,
                       Secret.status.in_(TERMINAL))
                .values(blob_key=None)
                .execution_options(synchronize_session=False)
            )
        return True
