"""The creator-notice outbox: which notices are due, who delivers each, and what happens
after a delivery succeeds or fails. How a notice is shown and sent (Slack) is a
``NoticeSender``'s business; everything else about notices lives here and in
``core.services.notices`` (open and touch, in the transactions that change a secret).

A notice is leased before any call to the sender and settled after it with one conditional
UPDATE, so no row lock is held while Slack answers (a reveal touching the same notice never
waits), and a change made meanwhile is delivered by the next run. Failures back off
exponentially (5 s, 10 s, … up to an hour, or the sender's Retry-After) and are given up after
``MAX_ATTEMPTS`` or at once when retrying cannot help.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.clock import Clock
from core.db.claims import claim
from core.db.models import CreatorNotice
from core.jobs import JobReport
from core.services.notice_state import NoticeState, notice_state

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 8
BATCH = 50
BACKOFF_START_SECONDS, BACKOFF_MAX_SECONDS = 5, 3600


@dataclass(frozen=True)
class NoticeAddress:
    """Where a notice's message is, or whom to look up when it has none yet."""

    tenant_id: str
    team_id: str | None
    user_id: str | None
    channel_id: str | None
    message_ts: str | None


@dataclass(frozen=True)
class Delivered:
    """Where the message showing a notice lives now: every later edit goes there."""

    team_id: str | None
    channel_id: str
    message_ts: str
    user_id: str


class DeliveryFailed(Exception):
    """The sender could not deliver. ``final``: retrying cannot help (the notice is given
    up); ``retry_after``: seconds the other side asked us to wait."""

    def __init__(self, reason: str, *, final: bool = False, retry_after: int | None = None):
        super().__init__(reason)
        self.reason, self.final, self.retry_after = reason, final, retry_after


class NoRecipient(Exception):
    """Nothing can reach this creator (no installed workspace): not an error, not retried."""


class NoticeSender(Protocol):
    def send(self, state: NoticeState, address: NoticeAddress) -> Delivered:
        """Post the message showing ``state``, or edit it where ``address`` says it is.
        Raises DeliveryFailed or NoRecipient."""
        ...


@dataclass(frozen=True)
class Lease:
    secret_id: str
    version: int


@dataclass(frozen=True, kw_only=True)
class NoticeOutbox:
    db: sessionmaker[Session]
    clock: Clock
    sender: NoticeSender

    def run(self) -> JobReport:
        """Deliver every notice that is due (the scheduler's job)."""
        report = JobReport("creator_notices")
        for lease in self._lease(None):
            if self._deliver(lease):
                report.processed.append(lease.secret_id)
            else:
                report.failed += 1
        return report

    def deliver_now(self, secret_id: str) -> bool:
        """Deliver one secret's notice now, if it has changes (after a Revoke button)."""
        return all(self._deliver(lease) for lease in self._lease(secret_id))

    def _lease(self, secret_id: str | None) -> list[Lease]:
        now = self.clock.now()
        query = select(CreatorNotice.secret_id, CreatorNotice.version).where(
            CreatorNotice.next_attempt_at <= now,
            CreatorNotice.version > CreatorNotice.delivered_version,
        ).order_by(CreatorNotice.next_attempt_at)
        if secret_id is not None:
            query = query.where(CreatorNotice.secret_id == secret_id)
        with self.db.begin() as session:
            leases = [Lease(row.secret_id, row.version) for row in claim(session, query, BATCH)]
            if leases:
                session.execute(
                    update(CreatorNotice)
                    .where(CreatorNotice.secret_id.in_([lease.secret_id for lease in leases]))
                    .values(next_attempt_at=now + LEASE)
                    .execution_options(synchronize_session=False)
                )
        return leases

    def _deliver(self, lease: Lease) -> bool:
        now = self.clock.now()
        with self.db() as session:
            notice = session.get(CreatorNotice, lease.secret_id)
            state = notice_state(session, lease.secret_id, now)
            if notice is None or state is None:
                return True
            address = NoticeAddress(notice.tenant_id, notice.slack_team_id,
                                    notice.slack_user_id, notice.channel_id, notice.message_ts)
            attempts = notice.attempts
        try:
            delivered = self.sender.send(state, address)
        except NoRecipient:
            self._settle_failure(lease, None)
            return True
        except DeliveryFailed as failure:
            give_up = failure.final or attempts + 1 >= MAX_ATTEMPTS
            log.warning("creator notice not delivered (%s)%s", failure.reason,
                        "; giving up" if give_up else "; will retry",
                        extra={"secret_id": lease.secret_id})
            delay = timedelta(seconds=failure.retry_after if failure.retry_after else min(
                BACKOFF_MAX_SECONDS, BACKOFF_START_SECONDS * 2 ** attempts))
            self._settle_failure(lease, None if give_up else now + delay)
            return False
        self._settle(lease, now, delivered)
        return True

    def _settle(self, lease: Lease, now: datetime, delivered: Delivered) -> None:
        with self.db.begin() as session:
            session.execute(
                update(CreatorNotice)
                .where(CreatorNotice.secret_id == lease.secret_id)
                .values(
                    delivered_version=lease.version, attempts=0,
                    slack_team_id=delivered.team_id, slack_user_id=delivered.user_id,
                    channel_id=delivered.channel_id, message_ts=delivered.message_ts,
                    # Changed while the sender was busy: due again at once.
                    next_attempt_at=case((CreatorNotice.version > lease.version, now),
                                         else_=None),
                )
                .execution_options(synchronize_session=False)
            )

    def _settle_failure(self, lease: Lease, next_attempt: datetime | None) -> None:
        with self.db.begin() as session:
            session.execute(
                update(CreatorNotice)
                .where(CreatorNotice.secret_id == lease.secret_id)
                .values(attempts=CreatorNotice.attempts + 1, next_attempt_at=next_attempt)
                .execution_options(synchronize_session=False)
            )
