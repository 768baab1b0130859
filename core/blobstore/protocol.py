"""The blob store contract shared by every backend (docs/ARCHITECTURE.md).

Blobs are opaque ciphertext: a store never interprets, logs or echoes their bytes, and its
error messages name the operation and key only.

Big files (up to 1 GiB) arrive as multipart uploads of ~8 MiB parts. With S3 the browser
PUTs each part straight to a presigned URL and GETs the blob from one, so the api never
carries the bytes; the local store returns no URLs and the api carries them instead.
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

    def open_range(self, key: str, start: int, end: int | None) -> Iterator[bytes]:
        """Stream bytes ``start`` to ``end`` inclusive (``end=None``: to the end), in chunks
        of about ``READ_CHUNK_SIZE`` bytes, for HTTP Range requests.

        As with HTTP, an ``end`` past the last byte is clamped to it. ``ValueError`` for a
        negative ``start``, an ``end`` before ``start``, or a ``start`` at or past the
        blob's size (an empty blob has no satisfiable range); the api answers 416 for it.
        Like ``open``, ``BlobNotFound`` and the range errors are raised at call time,
        before any iteration.
        """
        ...

    def presign_get(self, key: str, expires_seconds: int) -> str | None:
        """A URL the browser can GET the blob from directly, honouring Range headers, valid
        for ``expires_seconds`` (1 second to 7 days); ``None`` if the store has no such URLs
        and the api must stream the blob itself. Existence is not checked: a URL for a
        missing blob answers 404 when used.
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

    # --- multipart uploads ------------------------------------------------------------
    # An upload id is only meaningful with the key it was started for, and is never taken
    # from users: a malformed one raises ``ValueError``. A well-formed id of an upload that
    # was completed, aborted or never started raises ``BlobStoreError``.

    def start_multipart(self, key: str) -> str:
        """Begin a multipart upload of the blob ``key`` and return its upload id.

        Nothing is visible under ``key`` until ``complete_multipart``. Unfinished uploads
        live under the key's own prefix, so ``delete_prefix`` removes them.
        """
        ...

    def upload_part(
        self, key: str, upload_id: str, part_number: int, chunks: Iterable[bytes], *,
        offset: int,
    ) -> int:
        """Store part ``part_number`` (1 to 10,000) of the upload from ``chunks``, consumed
        as a stream, and return its size in bytes.

        ``offset`` is where the part starts in the finished blob (the sizes of the parts
        before it, added up), so that a store can put the bytes in place as they arrive
        rather than copy every part again at completion; the local store does (and refuses,
        with ``ValueError``, a stored part sent again at another offset), S3 needs no
        offsets. Getting offsets right is the caller's job: bytes sent at a wrong offset may
        already have overwritten other parts when completion refuses the upload. Uploading a
        part number again replaces that part (clients retry). A failure leaves the previous
        version of the part, or none; an exception raised by ``chunks`` propagates
        unchanged, a storage failure raises ``BlobStoreError``.
        """
        ...

    def presign_part(
        self, key: str, upload_id: str, part_number: int, expires_seconds: int
    ) -> str | None:
        """A URL the browser can PUT part ``part_number``'s bytes to, valid for
        ``expires_seconds`` (1 second to 7 days); ``None`` if the store has no such URLs
        and the api must carry the part through ``upload_part``. The upload's existence is
        not checked here: a PUT to an unknown upload fails when made.
        """
        ...

    def uploaded_parts(self, key: str, upload_id: str) -> list[tuple[int, int]]:
        """``(part number, size in bytes)`` of every part received so far, ascending by
        part number, so a client can resume an interrupted upload."""
        ...

    def complete_multipart(self, key: str, upload_id: str, part_count: int) -> int:
        """Assemble parts 1 to ``part_count`` into the blob ``key`` and return its size.

        Atomic like ``put``: readers see the previous blob (or none) or the whole new one.
        A missing part, or a part numbered beyond ``part_count``, raises ``BlobStoreError``
        naming the part, and then nothing becomes visible and the upload stays open, so
        the part can be sent and completion retried (or the upload aborted). The backend
        may impose a minimum part size (S3: 5 MiB for every part but the last), and a store
        that places parts by offset refuses parts that do not follow one another (a gap or
        an overlap), both reported as ``BlobStoreError`` too. Once complete, the upload id
        is no longer valid.
        """
        ...

    def abort_multipart(self, key: str, upload_id: str) -> None:
        """Discard an unfinished upload and all its parts; idempotent, so aborting an
        upload that is gone (aborted, completed, never started) is not an error."""
        ...

    def check_ready(self) -> None:
        """Raise ``BlobStoreError`` unless the store is reachable and usable for writes."""
        ...
