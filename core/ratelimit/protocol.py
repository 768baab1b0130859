from __future__ import annotations

from typing import Protocol


class RateLimiter(Protocol):
    def hit(self, key: str, *, limit: int, window_seconds: int) -> int:
        """Count one attempt under ``key``.

        Returns 0 when the attempt is within ``limit`` for the current window, otherwise
        the number of seconds until the window resets (the attempt is still counted).
        """
        ...
