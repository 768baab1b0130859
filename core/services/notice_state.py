"""What a creator's notice shows about their secret, read in one place for every channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.models import AuditEvent, Secret, SecretRequest
from core.services import audit
from core.services.states import effective_status, views_left

OPEN_EVENTS = (audit.OPENED_INTERNAL, audit.OPENED_EXTERNAL)
REVOKE_EVENTS = (audit.REVOKED, audit.REVOKED_ADMIN)
OPENS_SHOWN = 10


@dataclass(frozen=True)
class Opening:
    email: str | None
    time: datetime


@dataclass(frozen=True)
class AnsweredRequest:
    """Set when the secret answers a request: the notice then follows the request, for its
    requester."""

    request_code: str
    label: str | None
    answered_by: str | None


@dataclass(frozen=True)
class NoticeState:
    """What the creator's message shows: metadata and activity, never content or keys."""

    secret_id: str
    share_code: str
    label: str | None
    audience: str
    secret_type: str
    status: str
    recipients: int
    view_limit: int | None
    views_used: int
    views_left: int | None
    expires_at: datetime
    ended_at: datetime | None
    creator_email: str
    opens: list[Opening]
    revoked_by: str | None
    answers: AnsweredRequest | None = None


def notice_state(session: Session, secret_id: str, now: datetime) -> NoticeState | None:
    secret = session.get(Secret, secret_id)
    if secret is None:
        return None
    events = session.execute(
        select(AuditEvent.activity_name, AuditEvent.actor_email, AuditEvent.time)
        .where(AuditEvent.tenant_id == secret.tenant_id, AuditEvent.secret_id == secret.id,
               AuditEvent.activity_name.in_(OPEN_EVENTS + REVOKE_EVENTS))
        .order_by(AuditEvent.id.desc())
        .limit(OPENS_SHOWN + 1)
    ).all()
    opens = [Opening(email, time) for name, email, time in events if name in OPEN_EVENTS]
    revoked_by = next((email for name, email, _ in events if name in REVOKE_EVENTS), None)
    # An answer's notice is the requester's (who asked), not the responder's.
    notified = secret.creator.email
    answers = None
    if secret.request_id is not None:
        request = session.get(SecretRequest, secret.request_id)
        if request is not None:
            notified = request.requester.email
            answers = AnsweredRequest(request.request_code, request.label,
                                      request.answered_by)
    return NoticeState(
        secret_id=secret.id, share_code=secret.share_code, label=secret.label,
        audience=secret.audience, secret_type=secret.secret_type,
        status=effective_status(secret, now), recipients=len(secret.recipients),
        view_limit=secret.view_limit, views_used=secret.views_used,
        views_left=views_left(secret), expires_at=secret.expires_at, ended_at=secret.ended_at,
        creator_email=notified, opens=opens[:OPENS_SHOWN], revoked_by=revoked_by,
        answers=answers,
    )
