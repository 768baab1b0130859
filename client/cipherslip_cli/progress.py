"""A progress line on the terminal (stderr), redrawn at most ten times a second; nothing at
all when stderr is not a terminal (a pipe, a CI log)."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

MB = 10**6


class Progress:
    def __init__(self, verb: str, total: int, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() and total > 0
        self.verb, self.total = verb, total
        self.done = 0
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._drawn_at = 0.0

    def add(self, size: int) -> None:
        with self._lock:
            self.done += size
            now = time.monotonic()
            if self.enabled and (now - self._drawn_at >= 0.1 or self.done >= self.total):
                self._drawn_at = now
                self._draw(now)

    def _draw(self, now: float) -> None:
        share = min(1.0, self.done / self.total)
        width = 30
        bar = "█" * int(share * width)
        rate = self.done / MB / max(now - self._started, 1e-6)
        self.stream.write(f"\r{self.verb} [{bar:<{width}}] {share:4.0%} "
                          f"{self.done / MB:,.0f}/{self.total / MB:,.0f} MB {rate:,.0f} MB/s")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
