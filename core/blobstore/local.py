"""Blobs as files below one directory: the embedded development default (SPEC §6).

Production uses S3; this backend has no replication or encryption at rest and is only as
safe as the machine it runs on, so it says so at start-up.
"""

from __future__ import annotations

import logging
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from core.blobstore.keys import validate_key, validate_prefix
from core.blobstore.protocol import READ_CHUNK_SIZE
from core.errors import BlobNotFound, BlobStoreError

# A blob path that is missing, or is a directory / sits below a file, holds no blob.
_MISSING_ERRORS = (FileNotFoundError, NotADirectoryError, IsADirectoryError)
# "~" can never appear in a key, so an in-progress or abandoned upload can never be
# mistaken for a blob, whatever the keys look like.
_PARTIAL_PREFIX = ".~upload-"
_PARTIAL_SUFFIX = ".partial"


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
        logging.getLogger(__name__).warning(
            "LocalBlobStore keeps blobs in %s: for development only, use the s3 blob "
            "backend in production",
            self._root,
        )

    @property
    def root(self) -> Path:
        return self._root

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        path = self._path(key)
        self._make_parents(key, path)
        try:
            descriptor, partial_name = tempfile.mkstemp(
                prefix=_PARTIAL_PREFIX, suffix=_PARTIAL_SUFFIX, dir=path.parent
            )
        except OSError as error:
            raise BlobStoreError(f"local blob store: cannot start writing {key!r}") from error
        partial = Path(partial_name)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                total = self._write_all(key, handle, chunks)
            self._publish(key, partial, path)
        except BaseException:
            # Also on KeyboardInterrupt/GeneratorExit: never leave a partial file behind.
            partial.unlink(missing_ok=True)
            raise
        return total

    def open(self, key: str) -> Iterator[bytes]:
        path = self._path(key)
        try:
            # Opened now so a missing blob is reported before the caller starts streaming;
            # the generator below owns and closes it.
            handle = path.open("rb")
        except _MISSING_ERRORS:
            raise BlobNotFound(f"blob {key!r} not found") from None
        except OSError as error:
            raise BlobStoreError(f"local blob store: cannot open {key!r}") from error
        return self._stream(key, handle)

    def read(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except _MISSING_ERRORS:
            raise BlobNotFound(f"blob {key!r} not found") from None
        except OSError as error:
            raise BlobStoreError(f"local blob store: cannot read {key!r}") from error

    def size(self, key: str) -> int:
        path = self._path(key)
        try:
            status = path.stat()
        except _MISSING_ERRORS:
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
        except _MISSING_ERRORS:
            return
        except OSError as error:
            raise BlobStoreError(f"local blob store: cannot delete {key!r}") from error
        # Empty directories are left in place on purpose: removing them could race with a
        # concurrent put that has just created its parent directory.

    def delete_prefix(self, prefix: str) -> int:
        validate_prefix(prefix)
        directory = self._path(prefix[:-1])
        if not directory.is_dir():
            return 0
        deleted = 0
        try:
            # Leftover partial files of interrupted uploads go too: the prefix is gone.
            for path in sorted(directory.rglob("*"), reverse=True):
                if path.is_dir():
                    path.rmdir()
                else:
                    path.unlink()
                    deleted += not path.name.startswith(_PARTIAL_PREFIX)
            directory.rmdir()
        except _MISSING_ERRORS:
            pass  # a concurrent cleanup got there first
        except OSError as error:
            raise BlobStoreError(f"local blob store: cannot delete {prefix!r}") from error
        return deleted

    def check_ready(self) -> None:
        if not self._root.is_dir():
            raise BlobStoreError(f"local blob store: root {self._root} is not a directory")
        try:
            descriptor, probe_name = tempfile.mkstemp(
                prefix=_PARTIAL_PREFIX, suffix=_PARTIAL_SUFFIX, dir=self._root
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
        # outside it; resolving catches both before any file is touched.
        path = self._root.joinpath(*key.split("/")).resolve()
        if not path.is_relative_to(self._root) or path == self._root:
            raise BlobStoreError(f"local blob store: key {key!r} resolves outside the root")
        return path

    def _make_parents(self, key: str, path: Path) -> None:
        # One level at a time, because makedirs() applies its mode to the last level only.
        directory = self._root
        try:
            for segment in path.parent.relative_to(self._root).parts:
                directory = directory / segment
                directory.mkdir(mode=0o700, exist_ok=True)
        except OSError as error:
            raise BlobStoreError(
                f"local blob store: cannot create the directory of {key!r}"
            ) from error

    @staticmethod
    def _write_all(key: str, handle: BinaryIO, chunks: Iterable[bytes]) -> int:
        total = 0
        # Exceptions from the caller's iterator propagate unchanged; only our own I/O
        # failures become BlobStoreError.
        for chunk in chunks:
            try:
                handle.write(chunk)
            except OSError as error:
                raise BlobStoreError(f"local blob store: cannot write {key!r}") from error
            total += len(chunk)
        try:
            handle.flush()
            os.fsync(handle.fileno())
        except OSError as error:
            raise BlobStoreError(f"local blob store: cannot write {key!r}") from error
        return total

    @staticmethod
    def _publish(key: str, partial: Path, path: Path) -> None:
        try:
            # rename() within one directory is atomic: readers see the old file or the new
            # one. Syncing the directory makes the rename itself survive a crash.
            partial.replace(path)
            directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except OSError as error:
            raise BlobStoreError(f"local blob store: cannot store {key!r}") from error

    @staticmethod
    def _stream(key: str, handle: BinaryIO) -> Iterator[bytes]:
        with handle:
            while True:
                try:
                    chunk = handle.read(READ_CHUNK_SIZE)
                except OSError as error:
                    raise BlobStoreError(f"local blob store: cannot read {key!r}") from error
                if not chunk:
                    return
                yield chunk
