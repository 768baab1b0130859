"""Where random bytes come from: injectable, so tests and vectors can be deterministic."""

from __future__ import annotations

import secrets
from typing import Protocol


class RandomSource(Protocol):
    def token_bytes(self, length: int) -> bytes:
        """``length`` cryptographically secure random bytes."""
        ...


class SystemRandom:
    def token_bytes(self, length: int) -> bytes:
        return secrets.token_bytes(length)
