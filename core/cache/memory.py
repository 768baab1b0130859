"""In-process stores: the embedded default. Everything is lost when the process stops, and
nothing is shared between processes, so this serves one development process only."""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from core.cache.keys import require_positive_ttl, storage_key
from core.cache.protocol import Cache, RateDecision, RateHit
from core.clock import Clock
from core.logging import warn_development_backend

log = logging.getLogger(__name__)

MAX_SESSIONS = 100_000
MAX_ENTRIES = 100_000
MAX_RATE_WINDOWS = 100_000

Value = TypeVar("Value")


def _warn_single_process(what: str) -> None:
    warn_development_backend(
        log, "%s lives in this process's memory: single process only, for development; "
        "set CIPHERSLIP_CACHE_BACKEND=redis to run more than one", what)


class _ExpiringMap(Generic[Value]):
    """Entries with a deadline on the injected clock, bounded so no caller can exhaust memory:
    when full, expired entries go first, then those closest to expiry."""

    def __init__(self, clock: Clock, max_entries: int) -> None:
        self._clock = clock
        self._max_entries = max_entries
        self._entries: dict[str, tuple[float, Value]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, *, remove: bool = False) -> Value | None:
        now = self._clock.now().timestamp()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, value = entry
            if expires <= now or remove:
                del self._entries[key]
            return value if expires > now else None

    def put(self, key: str, value: Value, ttl_seconds: int, *, only_if_absent: bool = False
            ) -> bool:
        """Store the entry; with ``only_if_absent``, only if no live entry holds ``key``."""
        require_positive_ttl(ttl_seconds)
        now = self._clock.now().timestamp()
        with self._lock:
            current = self._entries.get(key)
            if only_if_absent and current is not None and current[0] > now:
                return False
            if current is None and len(self._entries) >= self._max_entries:
                self._evict(now)
            self._entries[key] = (now + ttl_seconds, value)
            return True

    def remove(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def _evict(self, now: float) -> None:
        for key in [key for key, (expires, _) in self._entries.items() if expires <= now]:
            del self._entries[key]
        overflow = len(self._entries) - self._max_entries + 1
        if overflow > 0:
            for key, _ in sorted(self._entries.items(), key=lambda item: item[1][0])[:overflow]:
                del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)


class MemorySessionStore:
    def __init__(self, clock: Clock, max_sessions: int = MAX_SESSIONS) -> None:
        # Kept as JSON text: each load is a fresh copy, and state Redis could not store
        # fails here in development too.
        self._sessions: _ExpiringMap[str] = _ExpiringMap(clock, max_sessions)
        _warn_single_process("the session store")

    def load(self, session_id: str) -> dict[str, Any] | None:
        stored = self._sessions.get(storage_key(session_id))
        if stored is None:
            return None
        state: dict[str, Any] = json.loads(stored)
        return state

    async def load_async(self, session_id: str) -> dict[str, Any] | None:
        return self.load(session_id)  # no I/O: nothing to wait for

    def save(self, session_id: str, state: dict[str, Any], ttl_seconds: int) -> None:
        self._sessions.put(storage_key(session_id), json.dumps(state), ttl_seconds)

    def delete(self, session_id: str) -> None:
        self._sessions.remove(storage_key(session_id))

    def __len__(self) -> int:
        return len(self._sessions)


class MemoryRateLimiter:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()
        _warn_single_process("the rate limiter")

    def hit_all(self, hits: Sequence[RateHit]) -> list[RateDecision]:
        return [self.hit(one.key, limit=one.limit, window_seconds=one.window_seconds)
                for one in hits]

    def hit(self, key: str, *, limit: int, window_seconds: int) -> RateDecision:
        now = self._clock.now().timestamp()
        window_start = now - now % window_seconds
        with self._lock:
            started, count = self._windows.get(key, (window_start, 0))
            if started != window_start:
                started, count = window_start, 0
            count += 1
            self._windows[key] = (started, count)
            if len(self._windows) > MAX_RATE_WINDOWS:
                self._forget_before(window_start)
        if count <= limit:
            return RateDecision(retry_after=0, first_refusal=False)
        return RateDecision(retry_after=max(1, math.ceil(started + window_seconds - now)),
                            first_refusal=count == limit + 1)

    def _forget_before(self, window_start: float) -> None:
        stale = [key for key, (started, _) in self._windows.items() if started < window_start]
        for key in stale:
            del self._windows[key]


class MemoryReplayCache:
    def __init__(self, clock: Clock, max_entries: int = MAX_ENTRIES) -> None:
        # Bounded, so a flood can evict entries early and reopen a replay window: one more
        # reason this backend is for development only.
        self._seen: _ExpiringMap[bool] = _ExpiringMap(clock, max_entries)
        _warn_single_process("the replay cache")

    def first_use(self, key: str, ttl_seconds: int) -> bool:
        return self._seen.put(key, True, ttl_seconds, only_if_absent=True)


class MemoryTokenStore:
    def __init__(self, clock: Clock, max_entries: int = MAX_ENTRIES) -> None:
        self._tokens: _ExpiringMap[str] = _ExpiringMap(clock, max_entries)
        _warn_single_process("the token store")

    def put(self, key: str, value: str, ttl_seconds: int) -> None:
        self._tokens.put(storage_key(key), value, ttl_seconds)

    def take(self, key: str) -> str | None:
        return self._tokens.get(storage_key(key), remove=True)

    def peek(self, key: str) -> str | None:
        return self._tokens.get(storage_key(key))


def create_memory_cache(clock: Clock) -> Cache:
    return Cache(sessions=MemorySessionStore(clock), rate_limiter=MemoryRateLimiter(clock),
                 replay_cache=MemoryReplayCache(clock), tokens=MemoryTokenStore(clock))
