"""Blobs as files below one directory: the embedded development default (docs/ARCHITECTURE.md).

Production uses S3; this backend has no replication or encryption at rest and is only as
safe as the machine it runs on, so it says so at start-up. The api carries multipart
uploads and downloads itself, so there are no presigned URLs here.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from core.blobstore.keys import validate_key, validate_prefix
from core.blobstore.local_files import (
    MISSING_ERRORS,
    NOT_A_KEY_CHARACTER,
    PARTIAL_PREFIX,
    PARTIAL_SUFFIX,
    DirectoryVanished,
    make_directories,
    stream,
    write_atomically,
)
from core.blobstore.local_uploads import LocalUploads
from core.blobstore.rules import unsatisfiable_range, validate_expiry, validate_range
from core.errors import BlobNotFound, BlobStoreError
from core.logging import warn_development_backend


class LocalBlobStore:
    """Stores each blob as a 0600 file at ``root/<key>``; directories are 0700."""

    def __init__(self, root: Path) -> None:
        try:
            if not root.exists():
                root.mkdir(mode=0o700, parents=True)
                # mkdir's mode is filtered by the umask; make the intent explicit.
                root.chmod(0o700)
            self._root = root.resolve(strict=True)
        except OSError as error:
            raise BlobStoreError(f"local blob store: cannot create root {root}") from error
        self._uploads = LocalUploads(self._root, self._path)
        warn_development_backend(
            logging.getLogger(__name__),
            "LocalBlobStore keeps blobs in %s: for development only, use the s3 blob "
            "backend in production",
            self._root,
        )

    @property
    def root(self) -> Path:
        return self._root

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        path = self._path(key)
        make_directories(self._root, path.parent, key)
        try:
            return write_atomically(key, path, chunks)
        except DirectoryVanished:
            # A delete emptied and removed the directory just now; no chunk was read yet.
            make_directories(self._root, path.parent, key)
            return write_atomically(key, path, chunks)

    def open(self, key: str) -> Iterator[bytes]:
        # Opened now so a missing blob is reported before the caller starts streaming; the
        # generator owns and closes the file.
        return stream(key, self._open_file(key))

    def open_range(self, key: str, start: int, end: int | None) -> Iterator[bytes]:
        validate_range(start, end)
        handle = self._open_file(key)
        try:
            size = os.fstat(handle.fileno()).st_size
            handle.seek(start)
        except OSError as error:
            handle.close()
            raise BlobStoreError(f"local blob store: cannot read {key!r}") from error
        if start >= size:
            handle.close()
            raise unsatisfiable_range(key, start)
        # Like HTTP, an end past the blob's last byte means "to the end".
        last = size - 1 if end is None else min(end, size - 1)
        return stream(key, handle, last - start + 1)

    def presign_get(self, key: str, expires_seconds: int) -> str | None:
        validate_key(key)
        validate_expiry(expires_seconds)
        return None

    def read(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except MISSING_ERRORS:
            raise BlobNotFound(f"blob {key!r} not found") from None
        except OSError as error:
            raise BlobStoreError(f"local blob store: cannot read {key!r}") from error

    def size(self, key: str) -> int:
        path = self._path(key)
        try:
            status = path.stat()
        except MISSING_ERRORS:
            raise BlobNotFound(f"blob {key!r} not found") from None
        except OSError as error:
            raise BlobStoreError(f"local blob store: cannot stat {key!r}") from error
        if not stat.S_ISREG(status.st_mode):
            raise BlobNotFound(f"blob {key!r} not found")
        return status.st_size

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except BlobNotFound:
            return False
        return True

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except MISSING_ERRORS:
            return
        except OSError as error:
            raise BlobStoreError(f"local blob store: cannot delete {key!r}") from error
        # A secret's blobs share a directory: with its last one gone, it goes too (rmdir
        # refuses a directory that is not empty; a put racing with this creates it again).
        if path.parent != self._root:
            with contextlib.suppress(OSError):
                path.parent.rmdir()

    def delete_prefix(self, prefix: str) -> int:
        validate_prefix(prefix)
        directory = self._path(prefix[:-1])
        if not directory.is_dir():
            return 0
        deleted = 0
        try:
            # Partial files of interrupted writes and unfinished multipart uploads go too:
            # the prefix is gone. Only paths free of "~" are blobs worth counting.
            for path in sorted(directory.rglob("*"), reverse=True):
                if path.is_dir():
                    path.rmdir()
                else:
                    path.unlink()
                    relative = path.relative_to(directory).as_posix()
                    deleted += NOT_A_KEY_CHARACTER not in relative
            directory.rmdir()
        except MISSING_ERRORS:
            pass  # a concurrent cleanup got there first
        except OSError as error:
            raise BlobStoreError(f"local blob store: cannot delete {prefix!r}") from error
        return deleted

    # --- multipart uploads: see core.blobstore.local_uploads ---------------------------
    def start_multipart(self, key: str) -> str:
        return self._uploads.start(key)

    def upload_part(
        self, key: str, upload_id: str, part_number: int, chunks: Iterable[bytes], *,
        offset: int,
    ) -> int:
        return self._uploads.upload_part(key, upload_id, part_number, chunks, offset)

    def presign_part(
        self, key: str, upload_id: str, part_number: int, expires_seconds: int
    ) -> str | None:
        self._uploads.check_part(key, upload_id, part_number)
        validate_expiry(expires_seconds)
        return None

    def uploaded_parts(self, key: str, upload_id: str) -> list[tuple[int, int]]:
        return self._uploads.uploaded_parts(key, upload_id)

    def complete_multipart(self, key: str, upload_id: str, part_count: int) -> int:
        return self._uploads.complete(key, upload_id, part_count)

    def abort_multipart(self, key: str, upload_id: str) -> None:
        self._uploads.abort(key, upload_id)

    def check_ready(self) -> None:
        if not self._root.is_dir():
            raise BlobStoreError(f"local blob store: root {self._root} is not a directory")
        try:
            descriptor, probe_name = tempfile.mkstemp(
                prefix=PARTIAL_PREFIX, suffix=PARTIAL_SUFFIX, dir=self._root
            )
            try:
                os.write(descriptor, b"ready")
            finally:
                os.close(descriptor)
                Path(probe_name).unlink()
        except OSError as error:
            raise BlobStoreError(f"local blob store: root {self._root} is not writable") from error

    # --- helpers ---------------------------------------------------------------------
    def _path(self, key: str) -> Path:
        validate_key(key)
        # Keys cannot contain "..", but a symlink planted inside the root could still lead
        # outside it: no component of the key may be a symlink. The root itself was resolved
        # once; checking the key's few components is far cheaper than resolving every time.
        path = str(self._root)
        for segment in key.split("/"):
            path = f"{path}/{segment}"
            try:
                mode = os.lstat(path).st_mode
            except (FileNotFoundError, NotADirectoryError):
                # Nothing exists below a missing component (or a file); callers say so.
                path = f"{self._root}/{key}"
                break
            except OSError as error:
                raise BlobStoreError(f"local blob store: cannot look up {key!r}") from error
            if stat.S_ISLNK(mode):
                raise BlobStoreError(f"local blob store: key {key!r} resolves outside the root")
        return Path(path)

    def _open_file(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            return path.open("rb")
        except MISSING_ERRORS:
            raise BlobNotFound(f"blob {key!r} not found") from None
        except OSError as error:
            raise BlobStoreError(f"local blob store: cannot open {key!r}") from error
