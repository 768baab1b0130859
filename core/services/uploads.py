"""How a file's CSL1 stream is cut into upload parts, known to the server and the browser.

Parts follow record boundaries: 128 sealed records (~8 MiB) each, the 32-byte header riding
in part 1. From the declared plaintext size alone, both sides know how many parts there are
and exactly how large each one is, so the server can refuse any part that does not fit.
"""

from __future__ import annotations

from dataclasses import dataclass

from cipherslip_crypto import csl1

FILE_MAX_BYTES = 1 << 30  # 1 GiB of plaintext
RECORDS_PER_PART = 128
PART_BODY_BYTES = RECORDS_PER_PART * csl1.SEALED_RECORD_SIZE  # 8,390,656
FIRST_PART_BYTES = csl1.HEADER_SIZE + PART_BODY_BYTES
MAX_PART_BYTES = FIRST_PART_BYTES


@dataclass(frozen=True)
class UploadPlan:
    plaintext_size: int

    @property
    def stream_size(self) -> int:
        return csl1.stream_size(self.plaintext_size)

    @property
    def part_count(self) -> int:
        beyond_first = max(0, self.stream_size - FIRST_PART_BYTES)
        return 1 + -(-beyond_first // PART_BODY_BYTES)

    def part_offset(self, part_number: int) -> int:
        """Where part ``part_number`` (1-based) starts in the stream; ValueError outside the
        plan."""
        if not 1 <= part_number <= self.part_count:
            raise ValueError(f"this upload has parts 1 to {self.part_count}")
        return 0 if part_number == 1 else FIRST_PART_BYTES + (part_number - 2) * PART_BODY_BYTES

    def part_size(self, part_number: int) -> int:
        """Exact size of part ``part_number`` (1-based); ValueError outside the plan."""
        start = self.part_offset(part_number)
        end = FIRST_PART_BYTES + (part_number - 1) * PART_BODY_BYTES
        return min(end, self.stream_size) - start
