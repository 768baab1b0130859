"""What the api needs from its cache: sessions, rate limits, replay protection, one-use tokens.

Every backend raises ``core.errors.CacheUnavailable`` (and nothing else) when it cannot answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class RateDecision:
    retry_after: int  # 0 when the attempt is within the limit, else seconds to wait
    first_refusal: bool  # this attempt crossed the limit: audit it, not the flood after it

    @property
    def allowed(self) -> bool:
        return self.retry_after == 0


class SessionStore(Protocol):
    def load(self, session_id: str) -> dict[str, Any] | None:
        """The session's state, or None if unknown or expired."""
        ...

    async def load_async(self, session_id: str) -> dict[str, Any] | None:
        """``load`` for the event loop: every request loads its session, and handing that to
        a worker thread costs more than the load."""
        ...

    def save(self, session_id: str, state: dict[str, Any], ttl_seconds: int) -> None:
        """Store (or replace) the state, which must be JSON-serializable (lists come back
        for tuples); it expires ``ttl_seconds`` (at least 1) from now."""
        ...

    def delete(self, session_id: str) -> None:
        """Forget the session; unknown ids are ignored."""
        ...


@dataclass(frozen=True)
class RateHit:
    """One attempt to count: under ``key``, at most ``limit`` per window."""

    key: str
    limit: int
    window_seconds: int


class RateLimiter(Protocol):
    def hit(self, key: str, *, limit: int, window_seconds: int) -> RateDecision:
        """Count one attempt under ``key`` (refused attempts count too) and decide on it.

        Windows are fixed and aligned to multiples of ``window_seconds`` since the epoch.
        """
        ...

    def hit_all(self, hits: Sequence[RateHit]) -> list[RateDecision]:
        """Count one attempt under each of ``hits`` (as ``hit`` does, in one round trip to
        the backend) and decide on each, in order."""
        ...


class ReplayCache(Protocol):
    def first_use(self, key: str, ttl_seconds: int) -> bool:
        """True only the first time ``key`` is seen within ``ttl_seconds`` (at least 1);
        every later call in that time is False. Checking and recording are one atomic step."""
        ...


class TokenStore(Protocol):
    def put(self, key: str, value: str, ttl_seconds: int) -> None:
        """Store (or replace) ``value`` under ``key`` for ``ttl_seconds`` (at least 1)."""
        ...

    def take(self, key: str) -> str | None:
        """The value, removed in the same atomic step: of concurrent takers only one gets it.
        None if unknown, expired or already taken."""
        ...

    def peek(self, key: str) -> str | None:
        """The value without using it up, or None."""
        ...


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Cache:
    """The four stores of one backend, sharing its connection."""

    sessions: SessionStore
    rate_limiter: RateLimiter
    replay_cache: ReplayCache
    tokens: TokenStore
    # The backend's own round trip and cleanup; in-process stores have neither.
    probe: Callable[[], None] = field(default=_nothing)
    release: Callable[[], None] = field(default=_nothing)

    def check_ready(self) -> None:
        """Return if the backend answers; raise ``CacheUnavailable`` if not."""
        self.probe()

    def close(self) -> None:
        """Release the backend's connections; the stores must not be used afterwards."""
        self.release()
