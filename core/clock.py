"""Injectable time and randomness, so tests can move the clock and replay random choices."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time as an aware UTC datetime."""
        ...


class RandomSource(Protocol):
    def token_bytes(self, length: int) -> bytes:
        """``length`` cryptographically secure random bytes."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SystemRandom:
    def token_bytes(self, length: int) -> bytes:
        return secrets.token_bytes(length)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive; everything in Cipherslip is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
