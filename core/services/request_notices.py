"""Telling a requester their request closed unanswered (a request that was answered is
followed by its answer's notice instead, ``core.services.notice_state``).

One message, never edited: closing is final. Each expired request is claimed once
(``SKIP LOCKED``) and marked in the same transaction, so replicas never send it twice; a
delivery that fails for a reason worth retrying unmarks it for the next run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.clock import Clock
from core.db.claims import claim
from core.db.models import Draft, SecretRequest
from core.jobs import JobReport
from core.services.notice_outbox import DeliveryFailed, NoRecipient, NoticeAddress, NoticeSender
from core.services.notice_state import AnsweredRequest, NoticeState
from core.services.request_records import REQUEST_TYPE
from core.services.request_states import RequestStatus

log = logging.getLogger(__name__)
BATCH = 50


@dataclass(frozen=True, kw_only=True)
class RequestClosureNotices:
    db: sessionmaker[Session]
    clock: Clock
    sender: NoticeSender

    def run(self) -> JobReport:
        report = JobReport("request_closure_notices")
        for state, address in self._claim():
            try:
                self.sender.send(state, address)
            except NoRecipient:
                pass  # nothing reaches this requester: done
            except DeliveryFailed as failure:
                if not failure.final:
                    self._unmark(state.secret_id)
                log.warning("request closure notice not delivered (%s)", failure.reason,
                            extra={"request_id": state.secret_id})
                report.failed += 1
                continue
            report.processed.append(state.secret_id)
        return report

    def _claim(self) -> list[tuple[NoticeState, NoticeAddress]]:
        now = self.clock.now()
        query = select(SecretRequest.id).where(
            SecretRequest.status == RequestStatus.EXPIRED,
            SecretRequest.answer_secret_id.is_(None),
            SecretRequest.closure_notified_at.is_(None))
        with self.db.begin() as session:
            ids = [row.id for row in claim(session, query, BATCH)]
            if not ids:
                return []
            session.execute(update(SecretRequest).where(SecretRequest.id.in_(ids))
                            .values(closure_notified_at=now)
                            .execution_options(synchronize_session=False))
            # Who ran /secrets request, for requests made that way; others: found by email.
            slack_users = {row.request_id: (row.slack_team_id, row.slack_user_id)
                           for row in session.execute(
                               select(Draft.request_id, Draft.slack_team_id,
                                      Draft.slack_user_id).where(Draft.request_id.in_(ids)))}
            requests = session.scalars(select(SecretRequest).where(
                SecretRequest.id.in_(ids))).all()
            return [(_closed_state(request, now),
                     NoticeAddress(request.tenant_id,
                                   *slack_users.get(request.id, (None, None)), None, None))
                    for request in requests]

    def _unmark(self, request_id: str) -> None:
        with self.db.begin() as session:
            session.execute(update(SecretRequest).where(SecretRequest.id == request_id)
                            .values(closure_notified_at=None)
                            .execution_options(synchronize_session=False))


def _closed_state(request: SecretRequest, now: datetime) -> NoticeState:
    """What the message says: the request (its code where a secret's would be), closed with
    nobody's answer."""
    return NoticeState(
        secret_id=request.id, share_code=request.request_code, label=request.label,
        audience=request.audience, secret_type=REQUEST_TYPE, status=RequestStatus.EXPIRED,
        recipients=len(request.responders), view_limit=request.answer_view_limit,
        views_used=0, views_left=None, expires_at=request.open_until,
        ended_at=request.ended_at or now, creator_email=request.requester.email, opens=[],
        revoked_by=None,
        answers=AnsweredRequest(request.request_code, request.label, answered_by=None))
