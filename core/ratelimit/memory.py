"""In-process rate limits: the embedded default (one process only)."""

from __future__ import annotations

import math
import threading

from core.clock import Clock
from core.ratelimit.protocol import RateDecision


class MemoryRateLimiter:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, *, limit: int, window_seconds: int) -> RateDecision:
        now = self._clock.now().timestamp()
        window_start = now - now % window_seconds
        with self._lock:
            started, count = self._windows.get(key, (window_start, 0))
            if started != window_start:
                started, count = window_start, 0
            count += 1
            self._windows[key] = (started, count)
            if len(self._windows) > 100_000:
                self._forget_before(window_start)
        if count <= limit:
            return RateDecision(retry_after=0, first_refusal=False)
        return RateDecision(retry_after=max(1, math.ceil(started + window_seconds - now)),
                            first_refusal=count == limit + 1)

    def _forget_before(self, window_start: float) -> None:
        stale = [key for key, (started, _) in self._windows.items() if started < window_start]
        for key in stale:
            del self._windows[key]
