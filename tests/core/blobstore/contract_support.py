"""Helpers shared by the contract suites (``test_contract*.py``) and their fixtures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from core.blobstore.local import LocalBlobStore
from core.blobstore.protocol import BlobStore

MIB = 1024 * 1024
KEY = "tenant-1/secret-1.csl1"


class StreamBrokenError(Exception):
    """Raised by a test's chunk generator to fail a write mid-way."""


@dataclass(frozen=True)
class Backend:
    store: BlobStore
    # Anything a failed or unfinished upload could leave behind that is not a blob: partial
    # files and multipart parts for the local store, multipart uploads for S3.
    debris: Callable[[], list[str]]


def local_backend(root: Path) -> Backend:
    store = LocalBlobStore(root)

    def debris() -> list[str]:
        # "~" never appears in a key, so whatever carries it is not a blob.
        return sorted(str(path.relative_to(root)) for path in root.rglob("*")
                      if "~" in path.name)

    return Backend(store, debris)


def numbered_chunks(total: int, chunk_size: int, seed: int = 0) -> Iterator[bytes]:
    # Each chunk repeats its own offset (and the seed), so reordered, duplicated or mixed-up
    # chunks would not compare equal.
    for offset in range(0, total, chunk_size):
        size = min(chunk_size, total - offset)
        pattern = seed.to_bytes(4, "big") + offset.to_bytes(8, "big")
        yield (pattern * (size // len(pattern) + 1))[:size]


def failing_after(total: int, chunk_size: int) -> Iterator[bytes]:
    yield from numbered_chunks(total, chunk_size)
    raise StreamBrokenError("the client went away")
