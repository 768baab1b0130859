"""What one run of a background job did: the scheduler's passes and the notice outbox."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class JobReport:
    name: str
    processed: list[str] = field(default_factory=list)  # ids, for logs and tests
    failed: int = 0
