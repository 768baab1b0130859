"""Creator notices: the record that a secret's creator should hear about a change.

A notice is opened when a secret goes live and touched, in the same transaction, by every
change its creator cares about (a view, burn, expiry, revoke). Delivery (the Slack bot's
notifier job) is separate, so a Slack outage never slows or fails a reveal: it only delays
the message, which is retried until Slack shows the latest version.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, cast

from sqlalchemy import BindParameter, Connection, Select, Table, Update, case, insert, update
from sqlalchemy.orm import Session

from core.db.models import CreatorNotice


class NoticedSecret(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def tenant_id(self) -> str: ...


def open_notice(
    connection: Session | Connection, secret: NoticedSecret, now: datetime,
    slack_owner: tuple[str, str] | None,
) -> None:
    team_id, user_id = slack_owner or (None, None)
    connection.execute(insert(cast(Table, CreatorNotice.__table__)).values(
        secret_id=secret.id, tenant_id=secret.tenant_id, slack_team_id=team_id,
        slack_user_id=user_id, version=1, delivered_version=0, attempts=0,
        next_attempt_at=now,
    ))


def touch_statement(
    secrets: Sequence[str] | Select[tuple[str]], now: datetime | BindParameter[datetime]
) -> Update:
    """The UPDATE marking the notices of these secrets (ids, or a query of ids) as changed;
    secrets without a notice are unaffected."""
    return (
        update(CreatorNotice)
        .where(CreatorNotice.secret_id.in_(secrets if isinstance(secrets, Select)
                                           else list(secrets)))
        # A notice being delivered right now keeps its lease; the delivery sees the newer
        # version when it settles and leaves the notice due again.
        .values(version=CreatorNotice.version + 1, attempts=0,
                next_attempt_at=case((CreatorNotice.next_attempt_at > now,
                                      CreatorNotice.next_attempt_at), else_=now))
        .execution_options(synchronize_session=False)
    )


def touch(session: Session | Connection, secret_ids: Sequence[str], now: datetime) -> None:
    """Mark the notices of these secrets as changed (secrets without one are unaffected)."""
    if secret_ids:
        session.execute(touch_statement(secret_ids, now))
