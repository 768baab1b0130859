"""Multipart uploads for the local blob store, written in place.

An upload of ``dir/name`` lives in ``dir/.~parts/name/<upload id>/``: inside the blob's own
directory, so ``delete_prefix`` of an abandoned secret takes its unfinished uploads with it,
and below a name containing "~", which no key can contain, so nothing in it can be mistaken
for a blob. It holds

- ``stream``, the blob-to-be: each part is written straight to its offset in it, so that
  completing an upload moves no bytes, it renames the file into place (copying the parts
  into a new file at completion took seconds for a 1 GiB upload, and twice the disk space);
- per stored part ``n``, a marker file ``<n:05>`` holding the part's offset and size, written
  once the part's bytes are on disk: a part without a marker was never stored, however far
  its bytes got.

Part writers hold a shared ``flock`` on the stream file and completion an exclusive one, so
completion waits for parts being written, and a writer that opened the file before it was
renamed into place finds out and stops instead of changing the finished blob. Offsets are the
caller's to get right: a stored part keeps its offset, and completion refuses parts that
leave a gap or overlap, but a part sent at a wrong offset has already written its bytes there.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from core.blobstore import local_parts
from core.blobstore.local_files import (
    MISSING_ERRORS,
    PARTIAL_PREFIX,
    PARTIAL_SUFFIX,
    make_directories,
    sync_directory,
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
# Renaming an upload away before deleting it makes it unknown at once, so a part arriving
# mid-removal fails cleanly instead of re-populating a half-deleted directory.
_DISCARDED_PREFIX = ".~discarded-"
# A concurrent complete or abort may remove the then-empty shared directories between our
# creating them and creating the upload's own directory inside them.
_START_ATTEMPTS = 3
_STORE = "local blob store"

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
        stored = local_parts.read_marker(key, upload_dir / _part_name(part_number))
        if stored is None:
            return self._write_part(key, upload_dir, part_number, chunks, offset)
        if stored[0] != offset:
            raise ValueError(f"part {part_number} of {key!r} is stored at offset {stored[0]}; "
                             f"a part sent again keeps its offset (got {offset})")
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
        upload_dir = self._upload_dir(key, upload_id)
        blob = self._blob_path(key)
        # Exclusive: parts being written are waited for, and none starts until it is done.
        with self._locked_stream(key, upload_dir, fcntl.LOCK_EX) as descriptor:
            end = _end_of_tiled_parts(key, self._stored_parts(key, upload_dir), part_count)
            make_directories(self._root, blob.parent, key)
            try:
                # Bytes beyond the last part (a longer earlier version of it) are not the blob's.
                os.ftruncate(descriptor, end)
                os.fsync(descriptor)
                # rename() is atomic: readers see the previous blob, or this one whole.
                (upload_dir / STREAM_NAME).replace(blob)
            except OSError as error:
                raise BlobStoreError(
                    f"{_STORE}: cannot complete the upload of {key!r}") from error
        try:
            sync_directory(blob.parent)
        except OSError:
            # The blob is in place and readers see it; only the rename's survival of a crash
            # is in doubt, and the upload is gone, so this completion cannot be retried.
            _log.error("the directory of completed blob %r could not be synced", key,
                       exc_info=True)
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
        with self._locked_stream(key, upload_dir, fcntl.LOCK_SH) as descriptor:
            size = local_parts.write_at(key, descriptor, chunks, offset)
            local_parts.sync(key, descriptor)
            _mark_stored(key, upload_dir, part_number, offset, size)
        return size

    def _replace_part(
        self, key: str, upload_dir: Path, part_number: int, chunks: Iterable[bytes],
        offset: int,
    ) -> int:
        """A retried part: received aside first, so that a retry failing on its way in
        leaves the stored version, as on S3; then copied into place. A failure while
        copying leaves the part absent, never half old (the protocol's "or none")."""
        try:
            aside_descriptor, aside_name = tempfile.mkstemp(
                prefix=PARTIAL_PREFIX, suffix=PARTIAL_SUFFIX, dir=upload_dir)
        except MISSING_ERRORS:
            raise _no_such_upload(key) from None
        except OSError as error:
            raise BlobStoreError(f"{_STORE}: cannot write a part of {key!r}") from error
        try:
            size = local_parts.write_at(key, aside_descriptor, chunks, 0)
            with self._locked_stream(key, upload_dir, fcntl.LOCK_SH) as descriptor:
                try:
                    (upload_dir / _part_name(part_number)).unlink(missing_ok=True)
                    # The marker's removal must reach the disk before the bytes change.
                    sync_directory(upload_dir)
                except OSError as error:
                    raise BlobStoreError(
                        f"{_STORE}: cannot replace part {part_number} of {key!r}") from error
                local_parts.copy_range(key, aside_descriptor, descriptor, size, offset)
                local_parts.sync(key, descriptor)
                _mark_stored(key, upload_dir, part_number, offset, size)
        finally:
            # Cleanup failures must not hide what went wrong first.
            with suppress(OSError):
                os.close(aside_descriptor)
            with suppress(OSError):
                Path(aside_name).unlink(missing_ok=True)
        return size

    @staticmethod
    @contextmanager
    def _locked_stream(key: str, upload_dir: Path, mode: int) -> Iterator[int]:
        """The stream file, opened and locked; "no such upload" if completion renamed it
        away (or an abort removed it) while the lock was awaited."""
        stream_path = upload_dir / STREAM_NAME
        try:
            descriptor = os.open(stream_path, os.O_WRONLY)
        except MISSING_ERRORS:
            raise _no_such_upload(key) from None
        except OSError as error:
            raise BlobStoreError(f"{_STORE}: cannot open the upload of {key!r}") from error
        try:
            try:
                fcntl.flock(descriptor, mode)
                still_there = stream_path.stat().st_ino == os.fstat(descriptor).st_ino
            except MISSING_ERRORS:
                still_there = False
            except OSError as error:
                raise BlobStoreError(f"{_STORE}: cannot lock the upload of {key!r}") from error
            if not still_there:
                raise _no_such_upload(key)
            yield descriptor
        finally:
            with suppress(OSError):
                fcntl.flock(descriptor, fcntl.LOCK_UN)
            with suppress(OSError):
                os.close(descriptor)

    @staticmethod
    def _stored_parts(key: str, upload_dir: Path) -> dict[int, tuple[int, int]]:
        """Part number -> (offset, size) of every stored part."""
        stored: dict[int, tuple[int, int]] = {}
        try:
            for entry in upload_dir.iterdir():
                if _PART_NAME.fullmatch(entry.name):
                    marker = local_parts.read_marker(key, entry)
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


def _end_of_tiled_parts(key: str, stored: dict[int, tuple[int, int]], part_count: int) -> int:
    """The blob's size if parts 1..part_count follow one another from byte 0."""
    check_parts_complete(_STORE, key, stored, part_count)
    end = 0
    for number in range(1, part_count + 1):
        offset, size = stored[number]
        if offset != end:
            raise BlobStoreError(
                f"{_STORE}: cannot complete the upload of {key!r}: part {number} starts "
                f"at byte {offset}, but the parts before it end at byte {end}")
        end += size
    return end


def _mark_stored(key: str, upload_dir: Path, part_number: int, offset: int, size: int) -> None:
    try:
        local_parts.write_marker(key, upload_dir / _part_name(part_number), offset, size)
    except BlobStoreError:
        if not upload_dir.is_dir():
            raise _no_such_upload(key) from None  # aborted while the part was arriving
        raise


def _no_such_upload(key: str) -> BlobStoreError:
    return BlobStoreError(
        f"{_STORE}: no such upload of {key!r}: it was completed, aborted or never started"
    )
