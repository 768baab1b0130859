"""In-process session store: the embedded default (sessions end when the process stops)."""

from __future__ import annotations

import copy
import hashlib
import threading
from typing import Any

from core.clock import Clock


def storage_key(session_id: str) -> str:
    """Stores index sessions by a hash, so a dump of the store yields no usable cookies."""
    return hashlib.sha256(session_id.encode()).hexdigest()


MAX_SESSIONS = 100_000


class MemorySessionStore:
    def __init__(self, clock: Clock, max_sessions: int = MAX_SESSIONS) -> None:
        self._clock = clock
        self._max_sessions = max_sessions
        self._sessions: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def load(self, session_id: str) -> dict[str, Any] | None:
        key = storage_key(session_id)
        with self._lock:
            entry = self._sessions.get(key)
            if entry is None:
                return None
            expires, state = entry
            if expires <= self._clock.now().timestamp():
                del self._sessions[key]
                return None
            return copy.deepcopy(state)

    def save(self, session_id: str, state: dict[str, Any], ttl_seconds: int) -> None:
        now = self._clock.now().timestamp()
        with self._lock:
            if len(self._sessions) >= self._max_sessions:
                self._evict(now)
            self._sessions[storage_key(session_id)] = (now + ttl_seconds, copy.deepcopy(state))

    def _evict(self, now: float) -> None:
        """Drop expired sessions; if still full, those closest to expiry."""
        for key in [key for key, (expires, _) in self._sessions.items() if expires <= now]:
            del self._sessions[key]
        overflow = len(self._sessions) - self._max_sessions + 1
        if overflow > 0:
            for key, _ in sorted(self._sessions.items(), key=lambda item: item[1][0])[:overflow]:
                del self._sessions[key]

    def __len__(self) -> int:
        return len(self._sessions)

    def delete(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(storage_key(session_id), None)
