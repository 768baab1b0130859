"""The blob store contract shared by every backend (SPEC §3, §6).

Blobs are opaque ciphertext: a store never interprets, logs or echoes their bytes, and its
error messages name the operation and key only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

# Big enough that per-chunk overhead is negligible, small enough that many concurrent
# downloads stay cheap in memory.
READ_CHUNK_SIZE = 256 * 1024


class BlobStore(Protocol):
    """Keys follow :func:`core.blobstore.keys.validate_key`; an invalid key is a
    programming error and raises ``ValueError`` from every method."""

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        """Store the blob made of ``chunks`` under ``key`` and return its size in bytes.

        The chunks are consumed as a stream; the blob is never held whole in memory.
        Atomic: readers see either the previous blob (or none) or the complete new one,
        never a partial one. Overwriting an existing key replaces it. If anything fails
        mid-way nothing is left behind and the previous blob, if any, is unchanged; an
        exception raised by ``chunks`` itself propagates unchanged after that cleanup, a
        storage failure raises ``BlobStoreError``.
        """
        ...

    def open(self, key: str) -> Iterator[bytes]:
        """Stream the blob in chunks of about ``READ_CHUNK_SIZE`` bytes.

        Raises ``BlobNotFound`` at call time (before any iteration) if the key is absent,
        so callers can answer "not found" before they start a response. A storage failure
        while iterating raises ``BlobStoreError``. Close the iterator (or exhaust it) to
        release the underlying file or connection promptly.
        """
        ...

    def read(self, key: str) -> bytes:
        """Return the whole blob; meant for small blobs only. ``BlobNotFound`` if absent."""
        ...

    def size(self, key: str) -> int:
        """Return the blob's size in bytes; ``BlobNotFound`` if absent."""
        ...

    def exists(self, key: str) -> bool:
        """Tell whether a complete blob is stored under ``key``."""
        ...

    def delete(self, key: str) -> None:
        """Delete the blob; idempotent, so deleting an absent key is not an error."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Delete every blob whose key starts with ``prefix`` (a key path ending in "/"),
        and any unfinished upload under it; return how many blobs went. Idempotent."""
        ...

    def check_ready(self) -> None:
        """Raise ``BlobStoreError`` unless the store is reachable and usable for writes."""
        ...
