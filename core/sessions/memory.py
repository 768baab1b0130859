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


class MemorySessionStore:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
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
        expires = self._clock.now().timestamp() + ttl_seconds
        with self._lock:
            self._sessions[storage_key(session_id)] = (expires, copy.deepcopy(state))

    def delete(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(storage_key(session_id), None)
