"""File primitives of the local blob store: private directories, atomic writes, streams."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from core.blobstore.protocol import READ_CHUNK_SIZE
from core.errors import BlobStoreError

# A blob path that is missing, or is a directory / sits below a file, holds no blob.
MISSING_ERRORS = (FileNotFoundError, NotADirectoryError, IsADirectoryError)
# "~" can never appear in a key, so an in-progress or abandoned write can never be
# mistaken for a blob, whatever the keys look like.
PARTIAL_PREFIX = ".~upload-"
PARTIAL_SUFFIX = ".partial"
NOT_A_KEY_CHARACTER = "~"


def make_directories(root: Path, directory: Path, key: str) -> None:
    """Create ``directory`` (below ``root``) and its missing parents, each 0700."""
    # One level at a time, because makedirs() applies its mode to the last level only.
    current = root
    try:
        for segment in directory.relative_to(root).parts:
            current = current / segment
            current.mkdir(mode=0o700, exist_ok=True)
    except OSError as error:
        raise BlobStoreError(
            f"local blob store: cannot create the directory of {key!r}"
        ) from error


class DirectoryVanished(BlobStoreError):
    """The blob's directory was removed between its creation and the write (a concurrent
    delete of the directory's last blob): create it again and retry."""


def write_atomically(key: str, target: Path, chunks: Iterable[bytes]) -> int:
    """Write ``chunks`` to ``target`` (whose directory exists) so that readers see the old
    file or the complete new one; return the size. Nothing is left behind on failure, and
    an exception raised by ``chunks`` propagates unchanged after that cleanup."""
    try:
        descriptor, partial_name = tempfile.mkstemp(
            prefix=PARTIAL_PREFIX, suffix=PARTIAL_SUFFIX, dir=target.parent
        )
    except FileNotFoundError as error:
        raise DirectoryVanished(f"local blob store: the directory of {key!r} vanished") from error
    except OSError as error:
        raise BlobStoreError(f"local blob store: cannot start writing {key!r}") from error
    partial = Path(partial_name)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            total = _write_all(key, handle, chunks)
        _publish(key, partial, target)
    except BaseException:
        # Also on KeyboardInterrupt/GeneratorExit: never leave a partial file behind.
        partial.unlink(missing_ok=True)
        raise
    return total


def stream(key: str, handle: BinaryIO, length: int | None = None) -> Iterator[bytes]:
    """Yield ``length`` bytes (``None``: all) from ``handle``'s position, then close it."""
    remaining = length
    with handle:
        while remaining is None or remaining > 0:
            wanted = READ_CHUNK_SIZE if remaining is None else min(READ_CHUNK_SIZE, remaining)
            try:
                chunk = handle.read(wanted)
            except OSError as error:
                raise BlobStoreError(f"local blob store: cannot read {key!r}") from error
            if not chunk:
                return
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk


def sync_directory(directory: Path) -> None:
    # Makes a rename or removal inside the directory survive a crash.
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_all(key: str, handle: BinaryIO, chunks: Iterable[bytes]) -> int:
    total = 0
    # Exceptions from the caller's iterator propagate unchanged; only our own I/O failures
    # become BlobStoreError.
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


def _publish(key: str, partial: Path, target: Path) -> None:
    try:
        # rename() within one directory is atomic: readers see the old file or the new one.
        partial.replace(target)
        sync_directory(target.parent)
    except OSError as error:
        raise BlobStoreError(f"local blob store: cannot store {key!r}") from error
