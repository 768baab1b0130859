"""Multipart uploads for the local blob store, written in place.

An upload of ``dir/name`` lives in ``dir/.~parts/name/<upload id>/``: inside the blob's own
directory, so ``delete_prefix`` of an abandoned secret takes its unfinished uploads with it,
and below a name containing "~", which no key can contain, so nothing in it can be mistaken
for a blob. It holds

- ``stream``, the blob-to-be: each part is written straight to its offset in it, so that
  completing an upload moves no bytes, it renames the file into place (copying the parts
  into a new file at completion took seconds for a 1 GiB upload, and twice the disk space);
- per stored part ``n``, a marker file ``<n:05>`` holding the part's offset and size, written
  once the part's bytes are on disk: a part without a readable marker was never stored,
  however far its bytes got.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from core.blobstore.local_files import (
    MISSING_ERRORS,
    PARTIAL_PREFIX,
    PARTIAL_SUFFIX,
    make_directories,
    sync_directory,
    write_atomically,
)
from core.blobstore.rules import (
    check_parts_complete,
    validate_offset,
    validate_part_count,
    validate_part_number,
)
from core.errors import BlobStoreError

PARTS_DIRECTORY = ".~parts"
STREAM_NAME = "stream"
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
_PART_NAME = re.compile(r"[0-9]{5}")
_MARKER = re.compile(r"([0-9]+) ([0-9]+)")
# Renaming an upload away before deleting it makes it unknown at once, so a part arriving
# mid-removal fails cleanly instead of re-populating a half-deleted directory.
_DISCARDED_PREFIX = ".~discarded-"
# A concurrent complete or abort may remove the then-empty shared directories between our
# creating them and creating the upload's own directory inside them.
_START_ATTEMPTS = 3
_COPY_CHUNK_SIZE = 1024 * 1024
_STORE = "local blob store"
# fdatasync skips the timestamps fsync would write too; macOS has only fsync.
_datasync: Callable[[int], None] = getattr(os, "fdatasync", os.fsync)

_log = logging.getLogger(__name__)


class LocalUploads:
    """The multipart half of :class:`core.blobstore.local.LocalBlobStore`."""

    def __init__(self, root: Path, blob_path: Callable[[str], Path]) -> None:
        self._root = root
        # Validates the key and keeps it inside the root; shared with the blob store.
        self._blob_path = blob_path

    def start(self, key: str) -> str:
        upload_id = secrets.token_hex(16)
        upload_dir = self._upload_dir(key, upload_id)
        for _ in range(_START_ATTEMPTS):
            make_directories(self._root, upload_dir.parent, key)
            try:
                upload_dir.mkdir(mode=0o700)
            except FileNotFoundError:
                continue
            except OSError as error:
                raise BlobStoreError(f"{_STORE}: cannot start an upload of {key!r}") from error
            try:
                os.close(os.open(upload_dir / STREAM_NAME,
                                 os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except OSError as error:
                shutil.rmtree(upload_dir, ignore_errors=True)
                raise BlobStoreError(f"{_STORE}: cannot start an upload of {key!r}") from error
            return upload_id
        raise BlobStoreError(f"{_STORE}: cannot start an upload of {key!r}: directory removed")

    def upload_part(
        self, key: str, upload_id: str, part_number: int, chunks: Iterable[bytes], offset: int
    ) -> int:
        validate_part_number(part_number)
        validate_offset(offset)
        upload_dir = self._existing_upload_dir(key, upload_id)
        if _read_marker(upload_dir / _part_name(part_number)) is None:
            return self._write_part(key, upload_dir, part_number, chunks, offset)
        return self._replace_part(key, upload_dir, part_number, chunks, offset)

    def check_part(self, key: str, upload_id: str, part_number: int) -> None:
        """Validate the arguments of a part request without touching the disk."""
        validate_part_number(part_number)
        self._upload_dir(key, upload_id)

    def uploaded_parts(self, key: str, upload_id: str) -> list[tuple[int, int]]:
        stored = self._stored_parts(key, self._existing_upload_dir(key, upload_id))
        return [(number, size) for number, (_, size) in sorted(stored.items())]

    def complete(self, key: str, upload_id: str, part_count: int) -> int:
        validate_part_count(part_count)
        upload_dir = self._existing_upload_dir(key, upload_id)
        stored = self._stored_parts(key, upload_dir)
        check_parts_complete(_STORE, key, stored, part_count)
        end = 0
        for number in range(1, part_count + 1):
            offset, size = stored[number]
            if offset != end:
                raise BlobStoreError(
                    f"{_STORE}: cannot complete the upload of {key!r}: part {number} starts "
                    f"at byte {offset}, but the parts before it end at byte {end}")
            end += size
        blob = self._blob_path(key)
        make_directories(self._root, blob.parent, key)
        stream_path = upload_dir / STREAM_NAME
        try:
            descriptor = os.open(stream_path, os.O_WRONLY)
            try:
                # Bytes beyond the last part (a longer earlier version of it) are not the blob's.
                os.ftruncate(descriptor, end)
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
            # rename() is atomic: readers see the previous blob, or this one whole.
            stream_path.replace(blob)
            sync_directory(blob.parent)
        except MISSING_ERRORS:
            raise _no_such_upload(key) from None
        except OSError as error:
            raise BlobStoreError(f"{_STORE}: cannot complete the upload of {key!r}") from error
        try:
            self._discard(upload_dir)
        except OSError:
            # The blob is complete; leftover markers go with the secret's delete_prefix.
            _log.warning("could not remove the parts of the completed upload of blob %r",
                         key, exc_info=True)
        return end

    def abort(self, key: str, upload_id: str) -> None:
        upload_dir = self._upload_dir(key, upload_id)
        try:
            self._discard(upload_dir)
        except MISSING_ERRORS:
            return  # never started, or already completed or aborted
        except OSError as error:
            raise BlobStoreError(f"{_STORE}: cannot abort the upload of {key!r}") from error

    # --- helpers ---------------------------------------------------------------------
    def _write_part(
        self, key: str, upload_dir: Path, part_number: int, chunks: Iterable[bytes],
        offset: int,
    ) -> int:
        """A part not stored before: its bytes go straight into place, then its marker."""
        descriptor = self._open_stream(key, upload_dir)
        try:
            size = _write_at(key, descriptor, chunks, offset)
            _sync(key, descriptor)
        finally:
            os.close(descriptor)
        _write_marker(key, upload_dir, part_number, offset, size)
        return size

    def _replace_part(
        self, key: str, upload_dir: Path, part_number: int, chunks: Iterable[bytes],
        offset: int,
    ) -> int:
        """A retried part: received aside first, so that a retry that fails on the way in
        leaves the stored version, as S3 does; then copied into place."""
        try:
            aside_descriptor, aside_name = tempfile.mkstemp(
                prefix=PARTIAL_PREFIX, suffix=PARTIAL_SUFFIX, dir=upload_dir)
        except MISSING_ERRORS:
            raise _no_such_upload(key) from None
        except OSError as error:
            raise BlobStoreError(f"{_STORE}: cannot write a part of {key!r}") from error
        try:
            size = _write_at(key, aside_descriptor, chunks, 0)
            marker = upload_dir / _part_name(part_number)
            # From here until the new marker exists, the part is absent, never half old.
            marker.unlink(missing_ok=True)
            descriptor = self._open_stream(key, upload_dir)
            try:
                _copy_range(key, aside_descriptor, descriptor, size, offset)
                _sync(key, descriptor)
            finally:
                os.close(descriptor)
        finally:
            os.close(aside_descriptor)
            Path(aside_name).unlink(missing_ok=True)
        _write_marker(key, upload_dir, part_number, offset, size)
        return size

    @staticmethod
    def _open_stream(key: str, upload_dir: Path) -> int:
        try:
            return os.open(upload_dir / STREAM_NAME, os.O_WRONLY)
        except MISSING_ERRORS:
            raise _no_such_upload(key) from None
        except OSError as error:
            raise BlobStoreError(f"{_STORE}: cannot write a part of {key!r}") from error

    @staticmethod
    def _stored_parts(key: str, upload_dir: Path) -> dict[int, tuple[int, int]]:
        """Part number -> (offset, size) of every stored part."""
        stored: dict[int, tuple[int, int]] = {}
        try:
            for entry in upload_dir.iterdir():
                if _PART_NAME.fullmatch(entry.name):
                    marker = _read_marker(entry)
                    if marker is not None:
                        stored[int(entry.name)] = marker
        except MISSING_ERRORS:
            raise _no_such_upload(key) from None
        except OSError as error:
            raise BlobStoreError(f"{_STORE}: cannot list the parts of {key!r}") from error
        return stored

    def _upload_dir(self, key: str, upload_id: str) -> Path:
        blob = self._blob_path(key)
        if not isinstance(upload_id, str) or _UPLOAD_ID.fullmatch(upload_id) is None:
            # Upload ids come from start(), never from users, so this is a bug.
            raise ValueError(f"invalid upload id for blob {key!r}")
        return blob.parent / PARTS_DIRECTORY / blob.name / upload_id

    def _existing_upload_dir(self, key: str, upload_id: str) -> Path:
        upload_dir = self._upload_dir(key, upload_id)
        if not (upload_dir / STREAM_NAME).is_file():
            raise _no_such_upload(key)
        return upload_dir

    @staticmethod
    def _discard(upload_dir: Path) -> None:
        discarded = upload_dir.with_name(_DISCARDED_PREFIX + upload_dir.name)
        upload_dir.rename(discarded)
        shutil.rmtree(discarded)
        sync_directory(upload_dir.parent)
        # The blob's and the directory's shared parts folders, when no other upload uses
        # them; a concurrent start() recreates them if it loses that race.
        for shared in (upload_dir.parent, upload_dir.parent.parent):
            try:
                shared.rmdir()
            except OSError:
                return


def _part_name(part_number: int) -> str:
    return f"{part_number:05d}"


def _read_marker(path: Path) -> tuple[int, int] | None:
    """(offset, size) from a part's marker; None when there is none (or a torn one)."""
    try:
        found = _MARKER.fullmatch(path.read_text(encoding="ascii"))
    except (OSError, UnicodeDecodeError):
        return None
    return None if found is None else (int(found[1]), int(found[2]))


def _write_marker(key: str, upload_dir: Path, part_number: int, offset: int, size: int) -> None:
    try:
        write_atomically(key, upload_dir / _part_name(part_number),
                         [f"{offset} {size}".encode("ascii")])
    except BlobStoreError:
        if not upload_dir.is_dir():
            raise _no_such_upload(key) from None  # aborted while the part was arriving
        raise


def _write_at(key: str, descriptor: int, chunks: Iterable[bytes], offset: int) -> int:
    """Write ``chunks`` from ``offset`` on; exceptions raised by the caller's iterator
    propagate unchanged, only our own I/O failures become BlobStoreError."""
    written = 0
    for chunk in chunks:
        view = memoryview(chunk)
        try:
            while view:
                count = os.pwrite(descriptor, view, offset + written)
                view = view[count:]
                written += count
        except OSError as error:
            raise BlobStoreError(f"{_STORE}: cannot write a part of {key!r}") from error
    return written


def _copy_range(key: str, source: int, target: int, size: int, offset: int) -> None:
    copied = 0
    try:
        while copied < size:
            chunk = os.pread(source, min(_COPY_CHUNK_SIZE, size - copied), copied)
            if not chunk:
                raise BlobStoreError(f"{_STORE}: a part of {key!r} shrank while being stored")
            _write_at(key, target, [chunk], offset + copied)
            copied += len(chunk)
    except OSError as error:
        raise BlobStoreError(f"{_STORE}: cannot write a part of {key!r}") from error


def _sync(key: str, descriptor: int) -> None:
    try:
        _datasync(descriptor)
    except OSError as error:
        raise BlobStoreError(f"{_STORE}: cannot write a part of {key!r}") from error


def _no_such_upload(key: str) -> BlobStoreError:
    return BlobStoreError(
        f"{_STORE}: no such upload of {key!r}: it was completed, aborted or never started"
    )
