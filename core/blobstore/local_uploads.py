"""Multipart uploads for the local blob store.

Part ``n`` of an upload of ``dir/name`` is the file ``dir/.~parts/name/<upload id>/<n:05>``:
inside the blob's own directory, so ``delete_prefix`` of an abandoned secret takes its
unfinished uploads with it, and below a name containing "~", which no key can contain, so a
part can never be mistaken for a blob (nor collide with one, however long the name).
"""

from __future__ import annotations

import logging
import re
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from core.blobstore.local_files import (
    MISSING_ERRORS,
    make_directories,
    sync_directory,
    write_atomically,
)
from core.blobstore.rules import check_parts_complete, validate_part_count, validate_part_number
from core.errors import BlobStoreError

PARTS_DIRECTORY = ".~parts"
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
_PART_NAME = re.compile(r"[0-9]{5}")
# Renaming an upload away before deleting it makes it unknown at once, so a part arriving
# mid-removal fails cleanly instead of re-populating a half-deleted directory.
_DISCARDED_PREFIX = ".~discarded-"
# A concurrent complete or abort may remove the then-empty shared directories between our
# creating them and creating the upload's own directory inside them.
_START_ATTEMPTS = 3
# Assembly is one sequential copy per part, so bigger reads than a download's are cheaper.
_ASSEMBLY_CHUNK_SIZE = 1024 * 1024
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
            return upload_id
        raise BlobStoreError(f"{_STORE}: cannot start an upload of {key!r}: directory removed")

    def upload_part(
        self, key: str, upload_id: str, part_number: int, chunks: Iterable[bytes]
    ) -> int:
        validate_part_number(part_number)
        upload_dir = self._existing_upload_dir(key, upload_id)
        # Written aside and renamed into place, so a retried part replaces the old one
        # atomically and an interrupted one leaves the previous version (or nothing).
        return write_atomically(key, upload_dir / _part_name(part_number), chunks)

    def check_part(self, key: str, upload_id: str, part_number: int) -> None:
        """Validate the arguments of a part request without touching the disk."""
        validate_part_number(part_number)
        self._upload_dir(key, upload_id)

    def uploaded_parts(self, key: str, upload_id: str) -> list[tuple[int, int]]:
        upload_dir = self._existing_upload_dir(key, upload_id)
        parts: list[tuple[int, int]] = []
        try:
            for entry in upload_dir.iterdir():
                # Skips the partial files of parts still being written.
                if _PART_NAME.fullmatch(entry.name) and entry.is_file():
                    parts.append((int(entry.name), entry.stat().st_size))
        except MISSING_ERRORS:
            raise _no_such_upload(key) from None
        except OSError as error:
            raise BlobStoreError(f"{_STORE}: cannot list the parts of {key!r}") from error
        return sorted(parts)

    def complete(self, key: str, upload_id: str, part_count: int) -> int:
        validate_part_count(part_count)
        upload_dir = self._existing_upload_dir(key, upload_id)
        received = {number for number, _ in self.uploaded_parts(key, upload_id)}
        check_parts_complete(_STORE, key, received, part_count)
        blob = self._blob_path(key)
        make_directories(self._root, blob.parent, key)
        # The same atomic write as put(): the blob appears whole or not at all.
        size = write_atomically(key, blob, _concatenate(key, upload_dir, part_count))
        try:
            self._discard(upload_dir)
        except OSError:
            # The blob is complete; leftover parts go with the secret's delete_prefix.
            _log.warning("could not remove the parts of the completed upload of blob %r",
                         key, exc_info=True)
        return size

    def abort(self, key: str, upload_id: str) -> None:
        upload_dir = self._upload_dir(key, upload_id)
        try:
            self._discard(upload_dir)
        except MISSING_ERRORS:
            return  # never started, or already completed or aborted
        except OSError as error:
            raise BlobStoreError(f"{_STORE}: cannot abort the upload of {key!r}") from error

    # --- helpers ---------------------------------------------------------------------
    def _upload_dir(self, key: str, upload_id: str) -> Path:
        blob = self._blob_path(key)
        if not isinstance(upload_id, str) or _UPLOAD_ID.fullmatch(upload_id) is None:
            # Upload ids come from start(), never from users, so this is a bug.
            raise ValueError(f"invalid upload id for blob {key!r}")
        return blob.parent / PARTS_DIRECTORY / blob.name / upload_id

    def _existing_upload_dir(self, key: str, upload_id: str) -> Path:
        upload_dir = self._upload_dir(key, upload_id)
        if not upload_dir.is_dir():
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


def _concatenate(key: str, upload_dir: Path, part_count: int) -> Iterator[bytes]:
    for number in range(1, part_count + 1):
        try:
            with (upload_dir / _part_name(number)).open("rb") as part:
                while chunk := part.read(_ASSEMBLY_CHUNK_SIZE):
                    yield chunk
        except MISSING_ERRORS:
            # Listed a moment ago: a concurrent abort took it.
            raise BlobStoreError(
                f"{_STORE}: cannot complete the upload of {key!r}: part {number} is missing"
            ) from None
        except OSError as error:
            raise BlobStoreError(f"{_STORE}: cannot read part {number} of {key!r}") from error


def _no_such_upload(key: str) -> BlobStoreError:
    return BlobStoreError(
        f"{_STORE}: no such upload of {key!r}: it was completed, aborted or never started"
    )
