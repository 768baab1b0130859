"""What a super admin may do in their tenant: see every secret's metadata (never content or
key material), revoke any secret, and search, page through and export the audit log."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cipherslip_crypto.sharecode import normalize_share_code
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import Clock, as_utc
from core.db.models import AuditEvent, Secret, SecretRecipient, User
from core.errors import AccessDenied, InvalidInput, InvalidShareCode, NotFound
from core.services import audit
from core.services.audit import AuditLog, actor_of, to_ocsf
from core.services.audit_filter import filter_clause
from core.services.identity import ClientInfo, Principal
from core.services.lifecycle import Lifecycle
from core.services.states import ACTIVE, EXPIRED, SecretStatus, effective_status, views_left
from core.services.users import escape_like

SECRET_STATUSES = ("all", *(status.value for status in (
    SecretStatus.ACTIVE, SecretStatus.EXPIRED, SecretStatus.BURNED, SecretStatus.REVOKED,
    SecretStatus.PENDING)))
PAGE_SIZE_MAX = 200
# Beyond these, a page number or an event id cannot name anything: refused before the
# database sees an offset or an id that overflows its integers.
PAGE_MAX = 1_000_000
EVENT_ID_MAX = 2**63 - 1
EXPORT_BATCH = 1000


@dataclass(frozen=True)
class AdminSecretRow:
    id: str
    share_code: str
    label: str | None
    status: str
    creator_email: str
    creator_name: str
    audience: str
    secret_type: str
    recipients_count: int
    views_used: int
    view_limit: int | None
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class SecretPage:
    rows: list[AdminSecretRow]
    page: int
    page_size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    next_before: int | None  # pass as ``before`` for the next (older) page


@dataclass(frozen=True, kw_only=True)
class AdminService:
    db: sessionmaker[Session]
    lifecycle: Lifecycle
    audit_log: AuditLog
    clock: Clock

    def require_admin(self, principal: Principal, client: ClientInfo) -> None:
        """Refuse (and audit) anyone but a super admin."""
        if principal.is_super_admin:
            return
        with self.db.begin() as session:
            self.audit_log.record(
                session, audit.ACCESS_DENIED, tenant_id=principal.tenant_id,
                actor=actor_of(principal), client=client, status=audit.FAILURE,
                status_detail="not_super_admin",
            )
        raise AccessDenied("only super admins can see the tenant's secrets and audit log")

    # --- secrets -----------------------------------------------------------------------
    def _status_condition(self, status: str) -> ColumnElement[bool] | None:
        now = self.clock.now()
        if status not in SECRET_STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(SECRET_STATUSES)}",
                               field="status")
        if status == "all":
            return None
        if status == ACTIVE:
            return and_(Secret.status == ACTIVE, Secret.expires_at > now)
        if status == EXPIRED:  # the purge job may not have caught up yet
            return or_(Secret.status == EXPIRED,
                       and_(Secret.status == ACTIVE, Secret.expires_at <= now))
        return Secret.status == status

    @staticmethod
    def _search_condition(search: str) -> ColumnElement[bool] | None:
        term = search.strip().lower()
        if not term:
            return None
        pattern = f"%{escape_like(term)}%"
        matches = [
            func.lower(Secret.label).like(pattern, escape="\\"),
            Secret.creator.has(User.email.like(pattern, escape="\\")),
            Secret.recipients.any(SecretRecipient.email.like(pattern, escape="\\")),
        ]
        with contextlib.suppress(InvalidShareCode):  # not a code: other fields still match
            matches.append(Secret.share_code == normalize_share_code(term))
        return or_(*matches)

    def list_secrets(
        self, admin: Principal, *, search: str = "", status: str = "all", page: int = 1,
        page_size: int = 50,
    ) -> SecretPage:
        if not 1 <= page <= PAGE_MAX:
            raise InvalidInput(f"page must be 1 to {PAGE_MAX:,}", field="page")
        if not 1 <= page_size <= PAGE_SIZE_MAX:
            raise InvalidInput(f"page_size must be 1 to {PAGE_SIZE_MAX}", field="page_size")
        conditions = [Secret.tenant_id == admin.tenant_id]
        for condition in (self._status_condition(status), self._search_condition(search)):
            if condition is not None:
                conditions.append(condition)
        recipients_count = (
            select(func.count(SecretRecipient.id))
            .where(SecretRecipient.secret_id == Secret.id).scalar_subquery()
        )
        now = self.clock.now()
        with self.db() as session:
            total = session.scalar(select(func.count()).select_from(Secret).where(*conditions))
            rows = session.execute(
                select(Secret, recipients_count).where(*conditions)
                .order_by(Secret.created_at.desc(), Secret.id)
                .offset((page - 1) * page_size).limit(page_size)
            ).all()
        return SecretPage(
            rows=[
                AdminSecretRow(
                    id=secret.id, share_code=secret.share_code, label=secret.label,
                    status=effective_status(secret, now), creator_email=secret.creator.email,
                    creator_name=secret.creator.name, audience=secret.audience,
                    secret_type=secret.secret_type, recipients_count=int(count),
                    views_used=secret.views_used, view_limit=secret.view_limit,
                    created_at=secret.created_at, expires_at=secret.expires_at,
                    ended_at=secret.ended_at,
                )
                for secret, count in rows
            ],
            page=page, page_size=page_size, total=int(total or 0),
        )

    def _tenant_secret(self, session: Session, admin: Principal, secret_id: str) -> Secret:
        secret = session.scalar(
            select(Secret).where(Secret.id == secret_id, Secret.tenant_id == admin.tenant_id)
        )
        if secret is None:
            raise NotFound("no such secret in your tenant")
        return secret

    def secret_metadata(self, admin: Principal, secret_id: str) -> dict[str, Any]:
        """Everything the server knows about a secret except what it must never show: no
        content, no key material (wrapped key, sealed metadata) and no storage locations."""
        with self.db() as session:
            secret = self._tenant_secret(session, admin, secret_id)
            content_present = secret.wrapped_key is not None and secret.blob_key is not None
            return {
                "id": secret.id,
                "tenant_id": secret.tenant_id,
                "share_code": secret.share_code,
                "status": effective_status(secret, self.clock.now()),
                "audience": secret.audience,
                "type": secret.secret_type,
                "label": secret.label,
                "creator": {"email": secret.creator.email, "name": secret.creator.name,
                            "user_id": secret.creator_id},
                "recipients": [recipient.email for recipient in secret.recipients],
                "view_limit": secret.view_limit,
                "views_used": secret.views_used,
                "views_left": views_left(secret),
                "created_at": _iso(secret.created_at),
                "activated_at": _iso(secret.activated_at),
                "expires_at": _iso(secret.expires_at),
                "ended_at": _iso(secret.ended_at),
                "content": {
                    "present": content_present,
                    "ciphertext_bytes": secret.content_size if content_present else None,
                },
            }

    def revoke(self, admin: Principal, secret_id: str, client: ClientInfo) -> None:
        with self.db() as session:
            secret = self._tenant_secret(session, admin, secret_id)
        self.lifecycle.revoke(secret, actor=actor_of(admin), client=client,
                              activity_name=audit.REVOKED_ADMIN)

    # --- audit log ---------------------------------------------------------------------
    def audit_page(
        self, admin: Principal, *, filter_text: str = "", actor: str = "", ip: str = "",
        before: int | None = None, limit: int = 50,
    ) -> AuditPage:
        if not 1 <= limit <= PAGE_SIZE_MAX:
            raise InvalidInput(f"limit must be 1 to {PAGE_SIZE_MAX}", field="limit")
        if before is not None and not 1 <= before <= EVENT_ID_MAX:
            raise InvalidInput("before must be an event id, 1 to 2^63 - 1", field="before")
        conditions = audit_conditions(admin.tenant_id, filter_text, actor, ip)
        if before is not None:
            conditions.append(AuditEvent.id < before)
        with self.db() as session:
            events = list(session.scalars(
                select(AuditEvent).where(*conditions)
                .order_by(AuditEvent.id.desc()).limit(limit + 1)
            ))
        more = len(events) > limit
        events = events[:limit]
        return AuditPage(events, events[-1].id if more else None)

    def audit_export(
        self, admin: Principal, *, filter_text: str = "", actor: str = "", ip: str = ""
    ) -> Iterator[str]:
        """JSON Lines, oldest first, streamed from the database in batches (bounded memory)."""
        return export_lines(self.db, audit_conditions(admin.tenant_id, filter_text, actor, ip))


def audit_conditions(
    tenant_id: str, filter_text: str = "", actor: str = "", ip: str = ""
) -> list[ColumnElement[bool]]:
    """The tenant's events matching a filter and the quick filters. The filter is parsed and
    checked here, before any query: a malformed one never reaches the database."""
    for field, text in (("filter", filter_text), ("actor", actor), ("ip", ip)):
        if "\x00" in text:
            # Checked before an export starts streaming: afterwards no error can be answered.
            raise InvalidInput(f"{field} cannot contain a NUL character", field=field)
    conditions = [AuditEvent.tenant_id == tenant_id, filter_clause(filter_text)]
    if actor.strip():
        conditions.append(AuditEvent.actor_email == actor.strip().lower())
    if ip.strip():
        conditions.append(AuditEvent.src_ip == ip.strip())
    return conditions


def export_lines(
    db: sessionmaker[Session], conditions: list[ColumnElement[bool]]
) -> Iterator[str]:
    # Plain rows, streamed in batches (a server-side cursor on PostgreSQL): no ORM objects
    # to track, so memory stays flat however many events match.
    with db() as session:
        rows = session.execute(
            select(AuditEvent.__table__).where(*conditions).order_by(AuditEvent.id)
            .execution_options(yield_per=EXPORT_BATCH)
        )
        for row in rows:
            yield json.dumps(to_ocsf(row), separators=(",", ":"), ensure_ascii=False) + "\n"


def _iso(moment: datetime | None) -> str | None:
    return as_utc(moment).isoformat() if moment is not None else None
