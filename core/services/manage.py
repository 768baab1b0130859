"""A creator's own secrets: list, inspect (with activity) and revoke."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cipherslip_crypto.sharecode import normalize_share_code
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import Clock
from core.db.models import AuditEvent, Secret
from core.errors import AccessDenied, InvalidInput, NotFound
from core.services import audit
from core.services.audit import AuditLog, actor_of
from core.services.identity import ClientInfo, Principal
from core.services.lifecycle import Lifecycle
from core.services.locations import share_url
from core.services.states import ACTIVE, PENDING, effective_status, views_left
from core.settings import Settings

LIST_FILTERS = ("active", "all")


@dataclass(frozen=True)
class SecretSummary:
    id: str
    share_code: str
    label: str | None
    status: str
    audience: str
    secret_type: str
    recipients: list[str]
    views_used: int
    view_limit: int | None
    views_left: int | None
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class SecretDetail:
    summary: SecretSummary
    share_url: str
    activity: list[AuditEvent]


@dataclass(frozen=True, kw_only=True)
class ManageService:
    settings: Settings
    db: sessionmaker[Session]
    lifecycle: Lifecycle
    audit_log: AuditLog
    clock: Clock

    def _summary(self, secret: Secret, now: datetime) -> SecretSummary:
        return SecretSummary(
            id=secret.id, share_code=secret.share_code, label=secret.label,
            status=effective_status(secret, now), audience=secret.audience,
            secret_type=secret.secret_type, recipients=[r.email for r in secret.recipients],
            views_used=secret.views_used, view_limit=secret.view_limit,
            views_left=views_left(secret), created_at=secret.created_at,
            expires_at=secret.expires_at, ended_at=secret.ended_at,
        )

    def list_own(self, principal: Principal, status_filter: str = "active") -> list[SecretSummary]:
        if status_filter not in LIST_FILTERS:
            raise InvalidInput("status must be 'active' or 'all'", field="status")
        now = self.clock.now()
        query = select(Secret).where(
            Secret.tenant_id == principal.tenant_id, Secret.creator_id == principal.user_id,
            Secret.status != PENDING,
        )
        if status_filter == ACTIVE:
            query = query.where(Secret.status == ACTIVE, Secret.expires_at > now)
        with self.db() as session:
            secrets = session.scalars(query.order_by(Secret.created_at.desc()).limit(500)).all()
            return [self._summary(secret, now) for secret in secrets]

    def _own(self, session: Session, principal: Principal, secret_id: str) -> Secret:
        secret = session.scalar(
            select(Secret).where(Secret.id == secret_id, Secret.tenant_id == principal.tenant_id,
                                 Secret.creator_id == principal.user_id,
                                 Secret.status != PENDING)
        )
        if secret is None:
            raise NotFound("no such secret of yours")
        return secret

    def detail_own(self, principal: Principal, secret_id: str) -> SecretDetail:
        with self.db() as session:
            secret = self._own(session, principal, secret_id)
            activity = session.scalars(
                select(AuditEvent)
                .where(AuditEvent.tenant_id == principal.tenant_id,
                       AuditEvent.secret_id == secret.id)
                .order_by(AuditEvent.time.desc(), AuditEvent.id.desc())
                .limit(200)
            ).all()
            return SecretDetail(
                summary=self._summary(secret, self.clock.now()),
                share_url=share_url(self.settings.base_url, secret.share_code),
                activity=list(activity),
            )

    def revoke_own(self, principal: Principal, secret_id: str, client: ClientInfo) -> None:
        with self.db() as session:
            secret = self._own(session, principal, secret_id)
        self.lifecycle.revoke(secret, actor=actor_of(principal), client=client,
                              activity_name=audit.REVOKED)

    def revoke_by_code(self, principal: Principal, share_code: str, client: ClientInfo) -> str:
        """Revoke by share code: the creator their own (``paper_secret_revoked``), a super
        admin any in the tenant (``paper_secret_revoked_admin``), anyone else is refused and
        the attempt audited. Returns the event recorded."""
        code = normalize_share_code(share_code)
        with self.db() as session:
            secret = session.scalar(select(Secret).where(
                Secret.tenant_id == principal.tenant_id, Secret.share_code == code,
                Secret.status != PENDING))
        if secret is None:
            raise NotFound(f"no secret {code} in your organization")
        if secret.creator_id == principal.user_id:
            activity = audit.REVOKED
        elif principal.is_super_admin:
            activity = audit.REVOKED_ADMIN
        else:
            with self.db.begin() as session:
                self.audit_log.record(session, audit.ACCESS_DENIED, tenant_id=principal.tenant_id,
                                      actor=actor_of(principal), client=client, secret=secret,
                                      status=audit.FAILURE, status_detail="not_creator")
            raise AccessDenied("only its creator or a super admin can revoke this secret")
        self.lifecycle.revoke(secret, actor=actor_of(principal), client=client,
                              activity_name=activity)
        return activity
