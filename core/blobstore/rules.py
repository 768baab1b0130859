"""Argument rules every backend applies identically, so callers see one contract whichever
store is configured: part numbers, presign lifetimes, byte ranges and a complete upload."""

from __future__ import annotations

from collections.abc import Collection

from core.errors import BlobStoreError

# S3's limit; the local store enforces it too so an upload that works in development
# cannot fail in production.
MAX_PART_NUMBER = 10_000
# S3's largest object; no part of a blob starts beyond it.
MAX_BLOB_BYTES = 5 * 2**40
# A SigV4 presigned URL cannot outlive seven days.
MAX_PRESIGN_SECONDS = 7 * 24 * 60 * 60
# Error messages name a handful of parts, not all 10,000 of a badly broken upload.
_PARTS_NAMED_IN_ERRORS = 10


def validate_part_number(part_number: int) -> int:
    if not _is_int_between(part_number, 1, MAX_PART_NUMBER):
        raise ValueError(f"a part number is an integer from 1 to {MAX_PART_NUMBER}")
    return part_number


def validate_part_count(part_count: int) -> int:
    if not _is_int_between(part_count, 1, MAX_PART_NUMBER):
        raise ValueError(f"a part count is an integer from 1 to {MAX_PART_NUMBER}")
    return part_count


def validate_offset(offset: int) -> int:
    if not _is_int_between(offset, 0, MAX_BLOB_BYTES):
        raise ValueError(f"a part's offset is an integer from 0 to {MAX_BLOB_BYTES}")
    return offset


def validate_expiry(expires_seconds: int) -> int:
    if not _is_int_between(expires_seconds, 1, MAX_PRESIGN_SECONDS):
        raise ValueError(
            f"a presigned URL expires after 1 to {MAX_PRESIGN_SECONDS} seconds"
        )
    return expires_seconds


def validate_range(start: int, end: int | None) -> None:
    """``ValueError`` unless ``start..end`` (inclusive, ``None`` = to the end) is a range."""
    if not _is_int_between(start, 0, None):
        raise ValueError("a byte range starts at a non-negative integer offset")
    if end is not None and not _is_int_between(end, start, None):
        raise ValueError("a byte range ends at an integer offset no lower than its start")


def unsatisfiable_range(key: str, start: int) -> ValueError:
    # The API answers 416 for this, so it is a ValueError like the other bad ranges.
    return ValueError(f"byte range starting at {start} is beyond the end of blob {key!r}")


def check_parts_complete(
    store: str, key: str, received: Collection[int], part_count: int
) -> None:
    """``BlobStoreError`` naming the offending parts unless exactly 1..part_count arrived."""
    missing = [number for number in range(1, part_count + 1) if number not in received]
    if missing:
        raise BlobStoreError(
            f"{store}: cannot complete the upload of {key!r}: {_name_parts(missing)} missing"
        )
    extra = sorted(number for number in received if number > part_count)
    if extra:
        raise BlobStoreError(
            f"{store}: cannot complete the upload of {key!r} with {part_count} parts: "
            f"{_name_parts(extra)} beyond that were uploaded"
        )


def _name_parts(numbers: list[int]) -> str:
    named = ", ".join(str(number) for number in numbers[:_PARTS_NAMED_IN_ERRORS])
    if len(numbers) > _PARTS_NAMED_IN_ERRORS:
        named += f" and {len(numbers) - _PARTS_NAMED_IN_ERRORS} more"
    return f"part {named} is" if len(numbers) == 1 else f"parts {named} are"


def _is_int_between(value: object, low: int, high: int | None) -> bool:
    # bool is an int subclass, but True as a part number is certainly a bug.
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    return value >= low and (high is None or value <= high)
