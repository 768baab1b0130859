"""A secret's statuses, types and audiences, and what they mean at a given moment.

The values are stored in the database and compared everywhere; ``Lifecycle``
(``core.services.lifecycle``) is the one place that changes a secret's status.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from core.clock import as_utc


class SecretStatus(StrEnum):
    """Stored as its value; being a ``str``, it compares equal to the column's text."""

    PENDING = "pending"  # reserved, content not uploaded yet
    ACTIVE = "active"
    EXPIRED = "expired"
    BURNED = "burned"  # its view limit was reached
    REVOKED = "revoked"


PENDING = SecretStatus.PENDING
ACTIVE = SecretStatus.ACTIVE
EXPIRED = SecretStatus.EXPIRED
BURNED = SecretStatus.BURNED
REVOKED = SecretStatus.REVOKED
TERMINAL = (EXPIRED, BURNED, REVOKED)
# A pending secret must be completed within this time or it is abandoned (and removed).
PENDING_TTL = timedelta(hours=1)

TEXT = "text"  # secret types: text formats (<= 64 KiB) and files (<= 1 GiB)
FILE = "file"
INTERNAL = "internal"  # recipients are org users, proven by SSO
EXTERNAL = "external"  # recipients are email addresses, proven by magic links

class SecretState(Protocol):
    """What status and views are computed from (a ``Secret`` row or a lighter query result)."""

    @property
    def status(self) -> str: ...
    @property
    def expires_at(self) -> datetime: ...
    @property
    def view_limit(self) -> int | None: ...
    @property
    def views_used(self) -> int: ...


class SecretRecord(SecretState, Protocol):
    @property
    def id(self) -> str: ...
    @property
    def tenant_id(self) -> str: ...
    @property
    def blob_key(self) -> str | None: ...


def effective_status(secret: SecretState, now: datetime) -> str:
    """The status as users must see it, even before the purge job has run."""
    if secret.status == ACTIVE and as_utc(secret.expires_at) <= now:
        return EXPIRED
    return secret.status


def views_left(secret: SecretState) -> int | None:
    if secret.view_limit is None:
        return None
    return max(0, secret.view_limit - secret.views_used)
