"""The part plan: record-aligned parts whose sizes add up to the CSL1 stream."""

from __future__ import annotations

import pytest
from cipherslip_crypto import csl1

from core.services.uploads import (
    FILE_MAX_BYTES,
    FIRST_PART_BYTES,
    PART_BODY_BYTES,
    RECORDS_PER_PART,
    UploadPlan,
)


@pytest.mark.parametrize("size", [0, 1, 65_536, RECORDS_PER_PART * 65_536,
                                  RECORDS_PER_PART * 65_536 + 1, 50 * 2**20, FILE_MAX_BYTES])
def test_parts_cover_the_stream_exactly_on_record_boundaries(size: int) -> None:
    plan = UploadPlan(size)
    sizes = [plan.part_size(n) for n in range(1, plan.part_count + 1)]
    assert sum(sizes) == csl1.stream_size(size)
    assert all(s == PART_BODY_BYTES for s in sizes[1:-1])
    assert sizes[0] == min(FIRST_PART_BYTES, csl1.stream_size(size))
    # Every part starts where the one before it ends (the local store writes it there), and
    # every part after the first on a record boundary of the stream.
    offset = 0
    for number, part in enumerate(sizes, start=1):
        assert plan.part_offset(number) == offset
        if number > 1:
            assert (offset - csl1.HEADER_SIZE) % csl1.SEALED_RECORD_SIZE == 0
        offset += part


def test_a_gibibyte_is_128_parts_of_about_8_mib() -> None:
    plan = UploadPlan(FILE_MAX_BYTES)
    assert plan.part_count == 128
    assert 8 * 2**20 < plan.part_size(2) < 8.1 * 2**20


def test_parts_outside_the_plan_are_refused() -> None:
    with pytest.raises(ValueError, match="parts 1 to 1"):
        UploadPlan(10).part_size(2)
    with pytest.raises(ValueError):
        UploadPlan(10).part_size(0)
    with pytest.raises(ValueError, match="parts 1 to 1"):
        UploadPlan(10).part_offset(2)
