"""What only the local directory backend promises: permissions and staying inside root."""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.blobstore.local import LocalBlobStore
from core.errors import BlobNotFound, BlobStoreError

KEY = "tenant-1/secret-1.csl1"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _files_outside(root: Path, top: Path) -> list[Path]:
    return [path for path in top.rglob("*")
            if path.is_file() and not path.is_relative_to(root)]


def _failing_stream() -> Iterator[bytes]:
    yield b"partial content"
    raise RuntimeError("the client went away")


def test_root_dirs_and_files_are_private(tmp_path: Path) -> None:
    root = tmp_path / "state" / "blobs"
    store = LocalBlobStore(root)
    store.put(KEY, [b"ciphertext"])
    assert _mode(root) == 0o700
    assert _mode(root / "tenant-1") == 0o700
    assert _mode(root / "tenant-1" / "secret-1.csl1") == 0o600
    store.put(KEY, [b"overwritten"])
    assert _mode(root / "tenant-1" / "secret-1.csl1") == 0o600


def test_existing_root_is_used_as_is(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    root.mkdir()
    (root / "kept.csl1").write_bytes(b"from before")
    assert LocalBlobStore(root).read("kept.csl1") == b"from before"


def test_nothing_is_written_outside_root(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    store = LocalBlobStore(root)
    store.check_ready()
    store.put(KEY, [b"a", b"b"])
    store.put("tenant-2/x.csl1", [])
    with pytest.raises(RuntimeError):
        store.put("tenant-3/y.csl1", _failing_stream())
    store.delete(KEY)
    for bad_key in ["../outside", "/etc/passwd-copy", "a/../../outside"]:
        with pytest.raises(ValueError):
            store.put(bad_key, [b"escape"])
    assert _files_outside(root, tmp_path) == []
    # Only the blobs remain: no partial files, no probe files.
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == [
        "tenant-2/x.csl1"
    ]


def test_symlink_planted_in_root_is_not_followed_outside(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.csl1").write_bytes(b"not a blob")
    store = LocalBlobStore(root)
    (root / "evil").symlink_to(outside, target_is_directory=True)
    (root / "evil-file.csl1").symlink_to(outside / "victim.csl1")

    for key in ["evil/victim.csl1", "evil/new.csl1", "evil-file.csl1"]:
        with pytest.raises(BlobStoreError, match="outside"):
            store.put(key, [b"escape"])
        with pytest.raises(BlobStoreError):
            store.read(key)
        with pytest.raises(BlobStoreError):
            store.open(key)
        with pytest.raises(BlobStoreError):
            store.exists(key)
        with pytest.raises(BlobStoreError):
            store.delete(key)
    assert sorted(p.name for p in outside.iterdir()) == ["victim.csl1"]
    assert (outside / "victim.csl1").read_bytes() == b"not a blob"


def test_construction_warns_that_it_is_for_development(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="core.blobstore.local"):
        LocalBlobStore(tmp_path / "blobs")
    assert any("development" in record.getMessage() and record.levelno == logging.WARNING
               for record in caplog.records)


def test_check_ready_fails_when_root_is_gone(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    store = LocalBlobStore(root)
    root.rmdir()
    root.write_bytes(b"a file where the directory was")
    with pytest.raises(BlobStoreError, match="root"):
        store.check_ready()


def test_directory_and_file_collisions_are_project_errors(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    store.put("a/b", [b"nested"])
    # "a" is a directory, not a blob.
    assert not store.exists("a")
    with pytest.raises(BlobNotFound):
        store.read("a")
    with pytest.raises(BlobNotFound):
        store.open("a")
    with pytest.raises(BlobStoreError):
        store.put("a", [b"clash"])
    # "a/b" is a file, so nothing can live below it.
    assert not store.exists("a/b/c")
    with pytest.raises(BlobNotFound):
        store.read("a/b/c")
    with pytest.raises(BlobStoreError):
        store.put("a/b/c", [b"clash"])
    store.delete("a/b/c")
    assert store.read("a/b") == b"nested"


def test_open_keeps_streaming_the_blob_it_opened(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    store.put(KEY, [b"x" * (600 * 1024)])
    stream = store.open(KEY)
    first = next(stream)
    store.put(KEY, [b"replacement"])
    store.delete(KEY)
    assert first + b"".join(stream) == b"x" * (600 * 1024)
