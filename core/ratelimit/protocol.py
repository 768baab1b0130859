from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class RateDecision:
    retry_after: int  # 0 when the attempt is within the limit, else seconds to wait
    first_refusal: bool  # this attempt crossed the limit: audit it, not the flood after it

    @property
    def allowed(self) -> bool:
        return self.retry_after == 0


class RateLimiter(Protocol):
    def hit(self, key: str, *, limit: int, window_seconds: int) -> RateDecision:
        """Count one attempt under ``key`` (refused attempts count too) and decide on it."""
        ...
