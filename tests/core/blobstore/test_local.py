"""What only the local directory backend promises: permissions and staying inside root."""

from __future__ import annotations

import fcntl
import logging
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.blobstore import local as local_module
from core.blobstore import local_files, local_parts
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


# --- multipart uploads and ranges ----------------------------------------------------------
PREFIX_KEY = "tenant-1/secret-1/content.csl1"


def _upload_dir(root: Path, upload_id: str) -> Path:
    return root / f"tenant-1/secret-1/.~parts/content.csl1/{upload_id}"


def _files_below(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_local_store_has_no_presigned_urls(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    upload_id = store.start_multipart(PREFIX_KEY)
    assert store.presign_part(PREFIX_KEY, upload_id, 1, 300) is None
    store.put(PREFIX_KEY, [b"blob"])
    assert store.presign_get(PREFIX_KEY, 300) is None


def test_parts_are_private_files_below_the_keys_own_directory(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    store = LocalBlobStore(root)
    upload_id = store.start_multipart(PREFIX_KEY)
    store.upload_part(PREFIX_KEY, upload_id, 2, [b"two"], offset=3)
    store.upload_part(PREFIX_KEY, upload_id, 10_000, [b"last"], offset=99_999)
    parts_dir = f"tenant-1/secret-1/.~parts/content.csl1/{upload_id}"
    assert _files_below(root) == [f"{parts_dir}/00002", f"{parts_dir}/10000",
                                  f"{parts_dir}/stream"]
    for path in (root / parts_dir).iterdir():
        assert _mode(path) == 0o600
    for directory in (root / parts_dir).parents:
        if directory == root:
            break
        assert _mode(directory) == 0o700


def test_upload_ids_are_random_hex_and_other_ids_are_rejected(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    upload_id = store.start_multipart(PREFIX_KEY)
    assert len(upload_id) == 32 and int(upload_id, 16) >= 0
    assert upload_id != store.start_multipart(PREFIX_KEY)
    for bad in ["../../../escape", upload_id.upper(), upload_id[:-1], f"{upload_id}/x", ".~x"]:
        with pytest.raises(ValueError, match="upload id"):
            store.upload_part(PREFIX_KEY, bad, 1, [b"escape"], offset=0)
        with pytest.raises(ValueError, match="upload id"):
            store.abort_multipart(PREFIX_KEY, bad)
    assert _files_outside(tmp_path / "blobs", tmp_path) == []


def test_an_interrupted_part_upload_leaves_no_partial_part(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    store = LocalBlobStore(root)
    upload_id = store.start_multipart(PREFIX_KEY)
    store.upload_part(PREFIX_KEY, upload_id, 1, [b"complete part"], offset=0)
    seen_mid_upload: list[list[tuple[int, int]]] = []

    def interrupted() -> Iterator[bytes]:
        yield b"x" * 300_000
        seen_mid_upload.append(store.uploaded_parts(PREFIX_KEY, upload_id))
        raise RuntimeError("the client went away")

    for number, offset in ((1, 0), (2, 13)):
        with pytest.raises(RuntimeError, match="went away"):
            store.upload_part(PREFIX_KEY, upload_id, number, interrupted(), offset=offset)
    # Neither while it was being written nor afterwards did a half part show.
    assert seen_mid_upload == [[(1, 13)], [(1, 13)]]
    assert store.uploaded_parts(PREFIX_KEY, upload_id) == [(1, 13)]
    assert [name.rsplit("/", 1)[1] for name in _files_below(root)] == ["00001", "stream"]
    # Part 2's bytes reached the stream file, but without a marker they are not the blob's.
    store.complete_multipart(PREFIX_KEY, upload_id, 1)
    assert store.read(PREFIX_KEY) == b"complete part"


def test_a_marker_that_does_not_parse_counts_as_never_stored(tmp_path: Path) -> None:
    # Markers are written whole (written aside, synced, renamed); anything else in their
    # place was not written by the store and vouches for nothing.
    root = tmp_path / "blobs"
    store = LocalBlobStore(root)
    upload_id = store.start_multipart(PREFIX_KEY)
    store.upload_part(PREFIX_KEY, upload_id, 1, [b"stored"], offset=0)
    parts_dir = _upload_dir(root, upload_id)
    (parts_dir / "00002").write_bytes(b"")
    (parts_dir / "00003").write_bytes(b"\xff garbage")
    assert store.uploaded_parts(PREFIX_KEY, upload_id) == [(1, 6)]
    with pytest.raises(BlobStoreError, match="part 2 is missing"):
        store.complete_multipart(PREFIX_KEY, upload_id, 2)


def test_completion_moves_no_bytes(tmp_path: Path) -> None:
    # Parts are written where they belong, so the finished blob is the very file they went
    # into: completing a 1 GiB upload renames it instead of copying 1 GiB again.
    root = tmp_path / "blobs"
    store = LocalBlobStore(root)
    store.put(PREFIX_KEY, [b"previous"])
    upload_id = store.start_multipart(PREFIX_KEY)
    for number in (3, 1, 2):
        store.upload_part(PREFIX_KEY, upload_id, number, [bytes([number]) * 3000],
                          offset=(number - 1) * 3000)
        assert store.read(PREFIX_KEY) == b"previous"
    stream = _upload_dir(root, upload_id) / "stream"
    written_into = stream.stat().st_ino
    assert store.complete_multipart(PREFIX_KEY, upload_id, 3) == 9000
    assert (root / PREFIX_KEY).stat().st_ino == written_into
    assert store.read(PREFIX_KEY) == b"\x01" * 3000 + b"\x02" * 3000 + b"\x03" * 3000


@pytest.mark.parametrize(("offset", "problem"), [
    (10, "part 2 starts at byte 10, but the parts before it end at byte 4"),
    (2, "part 2 starts at byte 2, but the parts before it end at byte 4"),
])
def test_parts_that_leave_a_gap_or_overlap_are_refused_at_completion(
    tmp_path: Path, offset: int, problem: str
) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    store.put(PREFIX_KEY, [b"previous"])
    upload_id = store.start_multipart(PREFIX_KEY)
    store.upload_part(PREFIX_KEY, upload_id, 1, [b"one!"], offset=0)
    store.upload_part(PREFIX_KEY, upload_id, 2, [b"two!"], offset=offset)
    with pytest.raises(BlobStoreError, match=problem):
        store.complete_multipart(PREFIX_KEY, upload_id, 2)
    assert store.read(PREFIX_KEY) == b"previous"
    assert store.uploaded_parts(PREFIX_KEY, upload_id) == [(1, 4), (2, 4)]


def test_a_stored_part_keeps_its_offset(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    upload_id = store.start_multipart(PREFIX_KEY)
    store.upload_part(PREFIX_KEY, upload_id, 1, [b"one!"], offset=0)
    store.upload_part(PREFIX_KEY, upload_id, 2, [b"two!"], offset=4)
    # Sent elsewhere, it would already have written over whatever lies there.
    with pytest.raises(ValueError, match=r"part 2 .* is stored at offset 4"):
        store.upload_part(PREFIX_KEY, upload_id, 2, [b"TWO!"], offset=2)
    assert store.complete_multipart(PREFIX_KEY, upload_id, 2) == 8
    assert store.read(PREFIX_KEY) == b"one!two!"


def test_a_completed_blob_is_private(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    store = LocalBlobStore(root)
    upload_id = store.start_multipart(PREFIX_KEY)
    store.upload_part(PREFIX_KEY, upload_id, 1, [b"secret bytes"], offset=0)
    store.complete_multipart(PREFIX_KEY, upload_id, 1)
    assert _mode(root / PREFIX_KEY) == 0o600


def test_a_retry_failing_while_copied_into_place_leaves_the_part_absent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "blobs"
    store = LocalBlobStore(root)
    upload_id = store.start_multipart(PREFIX_KEY)
    store.upload_part(PREFIX_KEY, upload_id, 1, [b"first"], offset=0)

    def failing_copy(key: str, source: int, target: int, size: int, offset: int) -> None:
        raise BlobStoreError("local blob store: cannot write a part of the blob")

    monkeypatch.setattr(local_parts, "copy_range", failing_copy)
    with pytest.raises(BlobStoreError, match="cannot write a part"):
        store.upload_part(PREFIX_KEY, upload_id, 1, [b"retry"], offset=0)
    # Half old, half new is never listed: the part is gone until it is sent again.
    assert store.uploaded_parts(PREFIX_KEY, upload_id) == []
    assert not any("~upload-" in name for name in _files_below(root))
    monkeypatch.undo()
    store.upload_part(PREFIX_KEY, upload_id, 1, [b"again"], offset=0)
    store.complete_multipart(PREFIX_KEY, upload_id, 1)
    assert store.read(PREFIX_KEY) == b"again"


def test_a_writer_that_opened_the_upload_before_completion_cannot_change_the_blob(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A retried part whose first attempt's answer was lost can still be arriving on another
    # worker when the browser completes the upload.
    store = LocalBlobStore(tmp_path / "blobs")
    upload_id = store.start_multipart(PREFIX_KEY)
    store.upload_part(PREFIX_KEY, upload_id, 1, [b"AAAA"], offset=0)
    real_flock = fcntl.flock

    def completion_gets_in_first(descriptor: int, mode: int) -> None:
        if mode == fcntl.LOCK_SH:
            monkeypatch.setattr(fcntl, "flock", real_flock)
            store.complete_multipart(PREFIX_KEY, upload_id, 1)
        real_flock(descriptor, mode)

    monkeypatch.setattr(fcntl, "flock", completion_gets_in_first)
    with pytest.raises(BlobStoreError, match="no such upload"):
        store.upload_part(PREFIX_KEY, upload_id, 1, [b"BBBB"], offset=0)
    assert store.read(PREFIX_KEY) == b"AAAA"


def test_completion_waits_for_a_part_being_written(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    store = LocalBlobStore(root)
    upload_id = store.start_multipart(PREFIX_KEY)
    store.upload_part(PREFIX_KEY, upload_id, 1, [b"part"], offset=0)
    stream = _upload_dir(root, upload_id) / "stream"
    writer = os.open(stream, os.O_WRONLY)
    fcntl.flock(writer, fcntl.LOCK_SH)  # as a part writer holds it
    completion = threading.Thread(
        target=store.complete_multipart, args=(PREFIX_KEY, upload_id, 1))
    completion.start()
    completion.join(0.3)
    assert completion.is_alive() and not store.exists(PREFIX_KEY)
    fcntl.flock(writer, fcntl.LOCK_UN)
    os.close(writer)
    completion.join(10)
    assert store.read(PREFIX_KEY) == b"part"


def test_a_failed_completion_leaves_the_old_blob_and_the_upload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "blobs"
    store = LocalBlobStore(root)
    store.put(PREFIX_KEY, [b"previous"])
    upload_id = store.start_multipart(PREFIX_KEY)
    store.upload_part(PREFIX_KEY, upload_id, 1, [b"part"], offset=0)

    def failing_fsync(descriptor: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(BlobStoreError, match="cannot complete the upload"):
        store.complete_multipart(PREFIX_KEY, upload_id, 1)
    monkeypatch.undo()
    assert store.read(PREFIX_KEY) == b"previous"
    assert store.uploaded_parts(PREFIX_KEY, upload_id) == [(1, 4)]
    assert store.complete_multipart(PREFIX_KEY, upload_id, 1) == 4
    assert store.read(PREFIX_KEY) == b"part"


def test_completion_and_abort_remove_the_shared_parts_directories(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    store = LocalBlobStore(root)
    finished, aborted = store.start_multipart(PREFIX_KEY), store.start_multipart(PREFIX_KEY)
    store.upload_part(PREFIX_KEY, finished, 1, [b"done"], offset=0)
    store.upload_part(PREFIX_KEY, aborted, 1, [b"dropped"], offset=0)
    store.complete_multipart(PREFIX_KEY, finished, 1)
    # Another upload of the same blob still uses them.
    assert (root / "tenant-1/secret-1/.~parts/content.csl1").is_dir()
    store.abort_multipart(PREFIX_KEY, aborted)
    assert sorted(p.name for p in (root / "tenant-1/secret-1").iterdir()) == ["content.csl1"]


def test_delete_prefix_removes_unfinished_uploads_from_disk(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    store = LocalBlobStore(root)
    upload_id = store.start_multipart(PREFIX_KEY)
    store.upload_part(PREFIX_KEY, upload_id, 1, [b"abandoned"], offset=0)
    store.put("tenant-1/secret-2/other.csl1", [b"kept"])
    assert store.delete_prefix("tenant-1/secret-1/") == 0  # parts are not blobs
    assert not (root / "tenant-1" / "secret-1").exists()
    assert _files_below(root) == ["tenant-1/secret-2/other.csl1"]


def test_open_range_is_private_to_the_root(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    outside = tmp_path / "outside.csl1"
    outside.write_bytes(b"not a blob")
    store = LocalBlobStore(root)
    (root / "evil.csl1").symlink_to(outside)
    with pytest.raises(BlobStoreError, match="outside"):
        store.open_range("evil.csl1", 0, None)
    with pytest.raises(BlobStoreError, match="outside"):
        store.start_multipart("evil.csl1")


def test_deleting_a_secrets_last_blob_removes_its_directory(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    store.put("tenant/secret-1/a.csl1", [b"one"])
    store.put("tenant/secret-1/b.csl1", [b"two"])
    store.delete("tenant/secret-1/a.csl1")
    assert (tmp_path / "blobs" / "tenant" / "secret-1").is_dir()  # b is still there
    store.delete("tenant/secret-1/b.csl1")
    assert not (tmp_path / "blobs" / "tenant" / "secret-1").exists()
    assert (tmp_path / "blobs" / "tenant").is_dir()
    # A put after (or racing with) the removal creates the directory again.
    store.put("tenant/secret-1/c.csl1", [b"three"])
    assert store.read("tenant/secret-1/c.csl1") == b"three"


def test_a_put_whose_directory_vanishes_before_it_writes_retries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    real_make = local_files.make_directories
    calls: list[Path] = []

    def make_then_lose(root: Path, directory: Path, key: str) -> None:
        real_make(root, directory, key)
        calls.append(directory)
        if len(calls) == 1:
            directory.rmdir()  # as a concurrent delete of its last blob would

    monkeypatch.setattr(local_module, "make_directories", make_then_lose)
    assert store.put("tenant/secret-2/a.csl1", [b"data"]) == 4
    assert len(calls) == 2 and store.read("tenant/secret-2/a.csl1") == b"data"
