"""A request's statuses and the one place that changes them (as ``Lifecycle`` is for secrets).

``pending`` (made, its key check not yet sent) → ``open`` → ``fulfilled`` (answered once) |
``expired`` (nobody answered in time) | ``cancelled`` (by the requester). Every transition is
one conditional UPDATE, so two answers, or an answer and a cancel, cannot both win.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, update

from core.clock import as_utc
from core.db.models import SecretRequest
from core.services.audit import AUDIT_INSERT


class RequestStatus(StrEnum):
    PENDING = "pending"
    OPEN = "open"
    FULFILLED = "fulfilled"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


# A request whose key check never arrives is dropped after this long.
PENDING_REQUEST_TTL = timedelta(hours=1)
_REQUESTS = cast(Table, SecretRequest.__table__)


def effective_status(status: str, open_until: datetime, now: datetime) -> RequestStatus:
    """What a request is now: an open one past its time is expired even before the scheduler
    writes so."""
    if status == RequestStatus.OPEN and as_utc(open_until) <= now:
        return RequestStatus.EXPIRED
    return RequestStatus(status)


def _transition(connection: Connection, request_id: str, *, when: Any, values: dict[str, Any],
                event: dict[str, Any] | None) -> bool:
    changed = connection.execute(
        update(_REQUESTS).where(_REQUESTS.c.id == request_id, *when).values(**values)
    ).rowcount == 1
    if changed and event is not None:
        connection.execute(AUDIT_INSERT, event)
    return changed


def confirm(connection: Connection, request_id: str, requester_id: str, *, key_check: bytes,
            now: datetime, event: dict[str, Any]) -> bool:
    """pending → open with its key check (the requester's browser made the link key)."""
    return _transition(
        connection, request_id,
        when=(_REQUESTS.c.requester_id == requester_id,
              _REQUESTS.c.status == RequestStatus.PENDING,
              _REQUESTS.c.created_at > now - PENDING_REQUEST_TTL),
        values={"status": RequestStatus.OPEN, "key_check": key_check}, event=event)


def fulfil(connection: Connection, request_id: str, *, answer_secret_id: str, answered_by: str,
           now: datetime, event: dict[str, Any]) -> bool:
    """open → fulfilled by this answer; False if it was answered, cancelled or ran out of
    time meanwhile. Run in the transaction that activates the answer."""
    return _transition(
        connection, request_id,
        when=(_REQUESTS.c.status == RequestStatus.OPEN, _REQUESTS.c.open_until > now),
        values={"status": RequestStatus.FULFILLED, "ended_at": now,
                "answer_secret_id": answer_secret_id, "answered_by": answered_by},
        event=event)


def cancel(connection: Connection, request_id: str, requester_id: str, now: datetime,
           event: dict[str, Any]) -> bool:
    return _transition(
        connection, request_id,
        when=(_REQUESTS.c.requester_id == requester_id,
              _REQUESTS.c.status == RequestStatus.OPEN, _REQUESTS.c.open_until > now),
        values={"status": RequestStatus.CANCELLED, "ended_at": now}, event=event)


def close_expired(connection: Connection, now: datetime) -> int:
    """The scheduler's sweep: open requests past their time become expired; pending ones
    never confirmed are dropped."""
    expired = connection.execute(
        update(_REQUESTS).where(_REQUESTS.c.status == RequestStatus.OPEN,
                                _REQUESTS.c.open_until <= now)
        .values(status=RequestStatus.EXPIRED, ended_at=_REQUESTS.c.open_until)).rowcount
    connection.execute(delete(_REQUESTS).where(
        _REQUESTS.c.status == RequestStatus.PENDING,
        _REQUESTS.c.created_at <= now - PENDING_REQUEST_TTL))
    return int(expired)
