"""Delivers creator notices to Slack: one DM per secret, posted once, then edited.

A scheduler job (every few seconds) and the Revoke button (at once) call it. A notice is
leased before any Slack call and settled after it with one conditional UPDATE, so no row
lock is held while Slack answers (a reveal touching the same notice never waits on Slack),
and a change made meanwhile is delivered by the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import case, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.blocks.notice import notice_blocks, notice_text
from bot.installation import Workspaces
from core.clock import Clock
from core.db.models import CreatorNotice
from core.services.notice_state import NoticeState, notice_state
from core.settings import Settings
from scheduler.jobs import JobReport

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 8
BATCH = 50
# Errors that retrying cannot fix: the notice is given up.
FINAL_ERRORS = {"users_not_found", "user_not_found", "account_inactive", "invalid_auth",
                "not_authed", "channel_not_found", "cant_update_message", "message_not_found",
                # Our message was malformed: sending it again would fail again.
                "invalid_blocks", "invalid_arguments", "msg_too_long"}
# While looking for the creator: this workspace cannot help, another one of the tenant may.
NEXT_WORKSPACE_ERRORS = {"users_not_found", "invalid_auth", "account_inactive", "not_authed",
                         "token_revoked", "team_access_not_granted"}


@dataclass(frozen=True)
class Lease:
    secret_id: str
    version: int


@dataclass(frozen=True, kw_only=True)
class CreatorNotifier:
    settings: Settings
    db: sessionmaker[Session]
    clock: Clock
    workspaces: Workspaces
    client_for: Callable[[str], WebClient] | None = None

    def _client(self, token: str) -> WebClient:
        if self.client_for is not None:
            return self.client_for(token)
        return WebClient(token=token, base_url=self.settings.slack_api_url, timeout=10)

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
        ).order_by(CreatorNotice.next_attempt_at).limit(BATCH)
        if secret_id is not None:
            query = query.where(CreatorNotice.secret_id == secret_id)
        with self.db.begin() as session:
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            leases = [Lease(row.secret_id, row.version) for row in session.execute(query)]
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
            team_id, user_id = notice.slack_team_id, notice.slack_user_id
            channel_id, message_ts = notice.channel_id, notice.message_ts
            attempts = notice.attempts
            teams: list[str | None] = (
                [team_id] if team_id else self.workspaces.teams_of_tenant(notice.tenant_id))
        try:
            delivered = self._send(state, teams, user_id, channel_id, message_ts)
        except SlackApiError as error:
            code = str(error.response.get("error", "error"))
            retry_after = error.response.headers.get("Retry-After") if error.response else None
            give_up = code in FINAL_ERRORS or attempts + 1 >= MAX_ATTEMPTS
            log.warning("creator notice not delivered (%s)%s", code,
                        "; giving up" if give_up else "; will retry",
                        extra={"secret_id": lease.secret_id})
            delay = timedelta(seconds=int(retry_after)) if retry_after else (
                timedelta(seconds=min(3600, 5 * 2 ** attempts)))
            self._settle_failure(lease, None if give_up else now + delay)
            return False
        except NoWorkspace:
            self._settle_failure(lease, None)  # nothing to deliver to; not an error
            return True
        except Exception as error:  # timeouts, refused connections: retry like an API error
            log.warning("creator notice not delivered (%s); will retry", type(error).__name__,
                        extra={"secret_id": lease.secret_id})
            self._settle_failure(lease, None if attempts + 1 >= MAX_ATTEMPTS else (
                now + timedelta(seconds=min(3600, 5 * 2 ** attempts))))
            return False
        self._settle(lease, now, delivered)
        return True

    def _send(
        self, state: NoticeState, teams: list[str | None], user_id: str | None,
        channel_id: str | None, message_ts: str | None,
    ) -> Delivered:
        """Where the message now showing ``state`` is."""
        for position, team in enumerate(teams):
            token = self.workspaces.bot_token(team)
            if token is None:
                continue
            client = self._client(token)
            recipient = user_id
            if recipient is None:
                try:
                    found = client.users_lookupByEmail(email=state.creator_email)
                except SlackApiError as error:
                    last = position == len(teams) - 1
                    if error.response.get("error") in NEXT_WORKSPACE_ERRORS and not last:
                        continue  # perhaps in another of the tenant's workspaces
                    raise
                recipient = str(found["user"]["id"])
            text, blocks = notice_text(state), notice_blocks(state, self.settings.base_url)
            if channel_id is None or message_ts is None:
                posted = client.chat_postMessage(channel=recipient, text=text, blocks=blocks,
                                                 unfurl_links=False)
                return Delivered(team, str(posted["channel"]), str(posted["ts"]), recipient)
            client.chat_update(channel=channel_id, ts=message_ts, text=text, blocks=blocks)
            return Delivered(team, channel_id, message_ts, recipient)
        raise NoWorkspace

    def _settle(self, lease: Lease, now: datetime, delivered: Delivered) -> None:
        with self.db.begin() as session:
            session.execute(
                update(CreatorNotice)
                .where(CreatorNotice.secret_id == lease.secret_id)
                .values(
                    # The workspace the DM lives in: every later edit goes there.
                    delivered_version=lease.version, attempts=0,
                    slack_team_id=delivered.team_id, slack_user_id=delivered.user_id,
                    channel_id=delivered.channel_id, message_ts=delivered.message_ts,
                    # Changed while we were talking to Slack: due again at once.
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


@dataclass(frozen=True)
class Delivered:
    """Where the message showing a notice lives."""

    team_id: str | None
    channel_id: str
    message_ts: str
    user_id: str


class NoWorkspace(Exception):
    """No installed workspace can reach this secret's creator."""
