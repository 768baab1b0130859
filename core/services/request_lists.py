"""Lists of requests: a requester's own, and an organization's for the admin console."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models import SecretRequest, User
from core.services.request_states import RequestStatus, effective_status


def summaries(db: sessionmaker[Session], now: datetime, tenant_id: str,
              *conditions: ColumnElement[bool], limit: int = 200) -> list[RequestSummary]:
    """Requests of a tenant matching ``conditions``, newest first, in one query (and one
    for their responders)."""
    with db() as session:
        rows = session.scalars(
            select(SecretRequest).join(User, User.id == SecretRequest.requester_id)
            .where(SecretRequest.tenant_id == tenant_id,
                   SecretRequest.status != RequestStatus.PENDING, *conditions)
            .order_by(SecretRequest.created_at.desc()).limit(limit)).all()
        return [RequestSummary(
            request_code=row.request_code, label=row.label,
            status=effective_status(row.status, row.open_until, now),
            requester_email=row.requester.email,
            responders=[responder.email for responder in row.responders],
            audience=row.audience, answered_by=row.answered_by,
            created_at=row.created_at, open_until=row.open_until) for row in rows]


def status_is(status: str, now: datetime) -> ColumnElement[bool]:
    """A status as the pages show it: an open request past its time reads "expired"."""
    if status == RequestStatus.OPEN:
        return and_(SecretRequest.status == status, SecretRequest.open_until > now)
    if status == RequestStatus.EXPIRED:
        return or_(SecretRequest.status == status,
                   and_(SecretRequest.status == RequestStatus.OPEN,
                        SecretRequest.open_until <= now))
    return SecretRequest.status == status


@dataclass(frozen=True)
class RequestSummary:
    request_code: str
    label: str | None
    status: RequestStatus
    requester_email: str
    responders: list[str]
    audience: str
    answered_by: str | None
    created_at: datetime
    open_until: datetime
