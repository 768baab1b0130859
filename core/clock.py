"""Injectable time and randomness, so tests can move the clock and replay random choices."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from cipherslip_crypto.randomness import RandomSource, SystemRandom

__all__ = ["Clock", "RandomSource", "SystemClock", "SystemRandom", "as_utc"]


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time as an aware UTC datetime."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive; everything in Cipherslip is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
