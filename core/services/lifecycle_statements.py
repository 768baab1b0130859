"""The statements of a secret's transitions on the hot path, built once per process.

Building a SQLAlchemy statement and computing its cache key cost more than running it, so each
is built on first use (``functools.cache``) with bound parameters; ``Lifecycle`` runs them.
"""

from __future__ import annotations

from functools import cache
from typing import Any, cast

from sqlalchemy import (
    CTE,
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

from core.db.models import Secret
from core.services import notices
from core.services.audit import AUDIT_EVENTS
from core.services.states import ACTIVE, BURNED, FILE, PENDING, TERMINAL

# Parameters are named unlike any column of the tables involved: SQLAlchemy adds a SET for
# every parameter named after a column of an UPDATE, nested ones included.
_SECRETS = cast(Table, Secret.__table__)


@cache
def activate_statement() -> Update:
    secrets = _SECRETS.c
    return (
        update(_SECRETS)
        .where(secrets.id == bindparam("target_id"), secrets.tenant_id == bindparam("tenant"),
               secrets.creator_id == bindparam("creator"), secrets.status == PENDING,
               secrets.created_at > bindparam("created_after"))
        .values(status=ACTIVE, activated_at=bindparam("now"),
                sealed_meta=bindparam("new_sealed_meta"), key_check=bindparam("new_key_check"),
                blob_key=bindparam("new_blob_key"),
                content_size=bindparam("new_content_size"), upload_id=None)
    )


@cache
def activate_with_event_statement(event_columns: tuple[str, ...]) -> Insert:
    """``WITH activated AS (UPDATE … RETURNING) INSERT audit … FROM activated RETURNING``."""
    activated = activate_statement().returning(_SECRETS.c.id).cte("activated")
    return event_from(activated, event_columns).returning(AUDIT_EVENTS.c.id)


def event_parameters(event: dict[str, Any]) -> dict[str, Any]:
    return {f"event_{name}": value for name, value in event.items()}


def event_from(source: CTE, event_columns: tuple[str, ...]) -> Insert:
    """INSERT the event (``event_<column>`` parameters) once per row of ``source``."""
    return insert(AUDIT_EVENTS).from_select(
        list(event_columns),
        select(*(bindparam(f"event_{name}", type_=AUDIT_EVENTS.c[name].type)
                 for name in event_columns)).select_from(source),
    )


@cache
def view_statement() -> Update:
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
def view_with_event_statement(event_columns: tuple[str, ...], with_notices: bool) -> Select[
        tuple[int, str]]:
    """``WITH taken AS (UPDATE … RETURNING), INSERT audit … FROM taken[, UPDATE notices …
    IN taken] SELECT … FROM taken``: PostgreSQL runs all of it in one snapshot, and an
    autocommitted statement is atomic. The event's values are ``event_<column>``."""
    taken = view_statement().cte("taken")
    audited = event_from(taken, event_columns).cte("audited")
    statement = select(taken.c.views_used, taken.c.status).add_cte(audited)
    if with_notices:
        now = bindparam("now", type_=_SECRETS.c.ended_at.type)
        statement = statement.add_cte(
            notices.touch_statement(select(taken.c.id), now).cte("noticed"))
    return statement


@cache
def forget_blob_statement() -> Update:
    secrets = _SECRETS.c
    return (update(_SECRETS)
            .where(secrets.id == bindparam("secret_id"),
                   secrets.blob_key == bindparam("deleted_key"), secrets.status.in_(TERMINAL))
            .values(blob_key=None))



@cache
def remember_blob_statement() -> Update:
    secrets = _SECRETS.c
    return (update(_SECRETS)
            .where(secrets.id == bindparam("secret_id"), secrets.blob_key.is_(None),
                   secrets.status.in_(TERMINAL))
            .values(blob_key=bindparam("kept_key")))
