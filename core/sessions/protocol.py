from __future__ import annotations

from typing import Any, Protocol


class SessionStore(Protocol):
    def load(self, session_id: str) -> dict[str, Any] | None:
        """The session's state, or None if unknown or expired."""
        ...

    def save(self, session_id: str, state: dict[str, Any], ttl_seconds: int) -> None:
        """Store (or replace) the state; it expires ``ttl_seconds`` from now."""
        ...

    def delete(self, session_id: str) -> None:
        """Forget the session; unknown ids are ignored."""
        ...
