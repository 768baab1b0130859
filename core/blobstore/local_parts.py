"""The files of one local multipart upload, below the blob store: the stream that parts are
written into at their offsets, and the marker that says a part is stored (its offset and
size, written whole once the part's bytes are on disk)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from core.blobstore.local_files import write_atomically
from core.errors import BlobStoreError

_MARKER = re.compile(r"([0-9]+) ([0-9]+)")
_COPY_CHUNK_SIZE = 1024 * 1024
_STORE = "local blob store"
# fdatasync skips the timestamps fsync would write too; macOS has only fsync.
_datasync: Callable[[int], None] = getattr(os, "fdatasync", os.fsync)


def read_marker(key: str, path: Path) -> tuple[int, int] | None:
    """(offset, size) from a part's marker; None when there is none, or one that does not
    parse (it was not written by this store)."""
    try:
        found = _MARKER.fullmatch(path.read_text(encoding="ascii"))
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        return None
    except OSError as error:
        raise BlobStoreError(f"{_STORE}: cannot read the parts of {key!r}") from error
    return None if found is None else (int(found[1]), int(found[2]))


def write_marker(key: str, marker: Path, offset: int, size: int) -> None:
    write_atomically(key, marker, [f"{offset} {size}".encode("ascii")])


def write_at(key: str, descriptor: int, chunks: Iterable[bytes], offset: int) -> int:
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


def copy_range(key: str, source: int, target: int, size: int, offset: int) -> None:
    copied = 0
    try:
        while copied < size:
            chunk = os.pread(source, min(_COPY_CHUNK_SIZE, size - copied), copied)
            if not chunk:
                raise BlobStoreError(f"{_STORE}: a part of {key!r} shrank while being stored")
            write_at(key, target, [chunk], offset + copied)
            copied += len(chunk)
    except OSError as error:
        raise BlobStoreError(f"{_STORE}: cannot write a part of {key!r}") from error


def sync(key: str, descriptor: int) -> None:
    try:
        _datasync(descriptor)
    except OSError as error:
        raise BlobStoreError(f"{_STORE}: cannot write a part of {key!r}") from error


