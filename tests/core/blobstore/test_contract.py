"""One contract for every blob store backend: local directory and S3 (moto over HTTP)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from core.blobstore.protocol import READ_CHUNK_SIZE, BlobStore
from core.errors import BlobNotFound
from tests.core.blobstore.contract_support import (
    KEY,
    MIB,
    Backend,
    StreamBrokenError,
    failing_after,
    numbered_chunks,
)


# --- round trips -------------------------------------------------------------------------
def test_put_then_read_round_trip(store: BlobStore) -> None:
    content = os.urandom(1000)
    assert store.put(KEY, [content]) == 1000
    assert store.read(KEY) == content


def test_streaming_put_of_many_chunks_and_open_yield_identical_bytes(store: BlobStore) -> None:
    # 9 MiB crosses the 8 MiB part size, so S3 goes through a two-part multipart upload.
    expected = b"".join(numbered_chunks(9 * MIB, MIB))
    assert store.put(KEY, numbered_chunks(9 * MIB, MIB)) == 9 * MIB
    streamed = list(store.open(KEY))
    assert b"".join(streamed) == expected
    assert len(streamed) > 1, "open() should stream, not return the blob in one piece"
    assert all(len(chunk) <= MIB for chunk in streamed)
    assert store.size(KEY) == 9 * MIB


def test_many_small_chunks(store: BlobStore) -> None:
    chunks = [os.urandom(size) for size in (1, 0, 7, 4096, 3, 65_537)]
    assert store.put(KEY, iter(chunks)) == sum(map(len, chunks))
    assert b"".join(store.open(KEY)) == b"".join(chunks)


def test_empty_blob(store: BlobStore) -> None:
    assert store.put(KEY, []) == 0
    assert store.exists(KEY)
    assert store.size(KEY) == 0
    assert store.read(KEY) == b""
    assert b"".join(store.open(KEY)) == b""


def test_size_and_exists(store: BlobStore) -> None:
    assert not store.exists(KEY)
    with pytest.raises(BlobNotFound):
        store.size(KEY)
    store.put(KEY, [b"abc", b"defg"])
    assert store.exists(KEY)
    assert store.size(KEY) == 7
    assert not store.exists("tenant-1/secret-2.csl1")


def test_keys_are_independent(store: BlobStore) -> None:
    store.put("tenant-1/a.csl1", [b"first"])
    store.put("tenant-2/a.csl1", [b"second"])
    assert store.read("tenant-1/a.csl1") == b"first"
    assert store.read("tenant-2/a.csl1") == b"second"


def test_overwrite_replaces(store: BlobStore) -> None:
    store.put(KEY, [b"old content that is longer"])
    assert store.put(KEY, [b"new"]) == 3
    assert store.read(KEY) == b"new"
    assert store.size(KEY) == 3


# --- missing blobs and deletion -------------------------------------------------------
def test_missing_blob_is_not_found_everywhere(store: BlobStore) -> None:
    with pytest.raises(BlobNotFound):
        store.read(KEY)
    with pytest.raises(BlobNotFound):
        store.size(KEY)
    # Raised by the call itself, before iteration, so an API can still answer 404.
    with pytest.raises(BlobNotFound):
        store.open(KEY)


def test_delete_then_read_is_not_found(store: BlobStore) -> None:
    store.put(KEY, [b"content"])
    store.delete(KEY)
    assert not store.exists(KEY)
    with pytest.raises(BlobNotFound):
        store.read(KEY)
    with pytest.raises(BlobNotFound):
        store.open(KEY)


def test_delete_is_idempotent(store: BlobStore) -> None:
    store.delete(KEY)
    store.put(KEY, [b"content"])
    store.delete(KEY)
    store.delete(KEY)
    assert not store.exists(KEY)


def test_delete_prefix_removes_exactly_the_blobs_under_it(store: BlobStore) -> None:
    inside = ["t1/secret-a/one.csl1", "t1/secret-a/two.csl1", "t1/secret-a/deeper/three.csl1"]
    outside = ["t1/secret-ab/four.csl1", "t1/secret-b/five.csl1", "t2/secret-a/six.csl1"]
    for key in inside + outside:
        store.put(key, [key.encode()])
    assert store.delete_prefix("t1/secret-a/") == 3
    assert [key for key in inside + outside if store.exists(key)] == outside
    assert store.delete_prefix("t1/secret-a/") == 0  # idempotent
    assert store.delete_prefix("t9/nothing/") == 0
    with pytest.raises(ValueError, match="ends with"):
        store.delete_prefix("t1/secret-b")


def test_open_survives_delete_or_overwrite_of_other_keys(store: BlobStore) -> None:
    store.put(KEY, [b"keep me"])
    store.put("tenant-1/other.csl1", [b"x"])
    store.delete("tenant-1/other.csl1")
    assert store.read(KEY) == b"keep me"


# --- byte ranges -----------------------------------------------------------------------
RANGE_BLOB_SIZE = MIB + 123  # several read chunks, and not a multiple of any of them


@pytest.mark.parametrize(("start", "end"), [
    (0, 0),                                  # the first byte
    (1000, 300_999),                         # a middle slice
    (RANGE_BLOB_SIZE - 10, None),            # the tail
    (0, None),                               # the whole blob
    (0, RANGE_BLOB_SIZE - 1),                # the whole blob, spelt out
    (RANGE_BLOB_SIZE - 1, RANGE_BLOB_SIZE - 1),  # the last byte
    (5, RANGE_BLOB_SIZE + 1000),             # an end past the blob means "to the end"
], ids=["first-byte", "middle", "tail", "whole", "whole-explicit", "last-byte", "end-clamped"])
def test_open_range_streams_exactly_the_requested_bytes(
    store: BlobStore, start: int, end: int | None
) -> None:
    content = b"".join(numbered_chunks(RANGE_BLOB_SIZE, 4096))
    store.put(KEY, [content])
    streamed = list(store.open_range(KEY, start, end))
    assert b"".join(streamed) == content[start:None if end is None else end + 1]
    assert all(len(chunk) <= READ_CHUNK_SIZE for chunk in streamed)


def test_open_range_streams_in_chunks(store: BlobStore) -> None:
    store.put(KEY, numbered_chunks(RANGE_BLOB_SIZE, MIB))
    assert len(list(store.open_range(KEY, 10, None))) > 1


@pytest.mark.parametrize(("start", "end"), [
    (-1, 5), (-1, None), (5, 4), (0, -1), (RANGE_BLOB_SIZE, None), (RANGE_BLOB_SIZE, 2 * MIB),
    (RANGE_BLOB_SIZE + 10, None),
], ids=["negative-start", "negative-start-open", "end-before-start", "negative-end",
        "start-at-size", "start-at-size-closed", "start-past-size"])
def test_invalid_or_unsatisfiable_ranges_raise_value_error_at_call_time(
    store: BlobStore, start: int, end: int | None
) -> None:
    store.put(KEY, numbered_chunks(RANGE_BLOB_SIZE, MIB))
    with pytest.raises(ValueError, match="range"):
        store.open_range(KEY, start, end)  # not iterated: raised by the call itself


def test_an_empty_blob_has_no_satisfiable_range(store: BlobStore) -> None:
    store.put(KEY, [])
    with pytest.raises(ValueError, match="range"):
        store.open_range(KEY, 0, None)


def test_open_range_of_a_missing_blob_is_not_found_at_call_time(store: BlobStore) -> None:
    with pytest.raises(BlobNotFound):
        store.open_range(KEY, 0, None)
    with pytest.raises(BlobNotFound):
        store.open_range(KEY, 10, 20)


def test_open_range_keeps_streaming_what_it_opened(store: BlobStore) -> None:
    content = b"".join(numbered_chunks(RANGE_BLOB_SIZE, MIB))
    store.put(KEY, [content])
    stream = store.open_range(KEY, 100, None)
    first = next(stream)
    store.put(KEY, [b"replacement"])
    assert first + b"".join(stream) == content[100:]


# --- atomicity -------------------------------------------------------------------------
@pytest.mark.parametrize("written_before_failure", [0, 3 * MIB, 9 * MIB],
                         ids=["before-any-data", "within-first-part", "after-a-full-part"])
def test_failing_stream_leaves_nothing_behind(
    backend: Backend, written_before_failure: int
) -> None:
    store = backend.store
    with pytest.raises(StreamBrokenError):  # the caller's own exception, unchanged
        store.put(KEY, failing_after(written_before_failure, MIB))
    assert not store.exists(KEY)
    with pytest.raises(BlobNotFound):
        store.read(KEY)
    assert backend.debris() == []


def test_failing_overwrite_keeps_the_previous_blob(backend: Backend) -> None:
    store = backend.store
    store.put(KEY, [b"previous"])
    with pytest.raises(StreamBrokenError):
        store.put(KEY, failing_after(9 * MIB, MIB))
    assert store.read(KEY) == b"previous"
    assert backend.debris() == []


def test_reader_never_sees_a_partial_blob(store: BlobStore) -> None:
    store.put(KEY, [b"previous"])
    observed: list[bytes] = []

    def chunks_that_peek() -> Iterator[bytes]:
        for chunk in numbered_chunks(9 * MIB, MIB):
            yield chunk
            observed.append(store.read(KEY))  # a concurrent reader, mid-upload

    store.put(KEY, chunks_that_peek())
    assert set(observed) == {b"previous"}
    assert store.size(KEY) == 9 * MIB


def test_new_key_is_invisible_until_put_completes(store: BlobStore) -> None:
    seen_mid_upload: list[bool] = []

    def chunks_that_peek() -> Iterator[bytes]:
        for chunk in numbered_chunks(9 * MIB, MIB):
            yield chunk
            seen_mid_upload.append(store.exists(KEY))

    store.put(KEY, chunks_that_peek())
    assert seen_mid_upload and not any(seen_mid_upload)
    assert store.exists(KEY)


# --- keys ------------------------------------------------------------------------------
# Acceptable to every backend, so only the key can be what is wrong.
WELL_FORMED_UPLOAD_ID = "0" * 32
INVALID_KEYS = ["", "../x", "/x", "a/../b", "a//b", "a/./b", "a/", ".", "..",
                "a b", "a\\b", "a\x00b", "tenant/sécret", "x" * 256, "/".join(["x" * 200] * 3)]


@pytest.mark.parametrize("key", INVALID_KEYS, ids=repr)
def test_invalid_keys_are_rejected_by_every_method(store: BlobStore, key: str) -> None:
    calls: list[Callable[[], object]] = [
        lambda: store.put(key, [b"content"]),
        lambda: store.open(key),
        lambda: store.read(key),
        lambda: store.size(key),
        lambda: store.exists(key),
        lambda: store.delete(key),
        lambda: store.open_range(key, 0, None),
        lambda: store.presign_get(key, 60),
        lambda: store.start_multipart(key),
        lambda: store.upload_part(key, WELL_FORMED_UPLOAD_ID, 1, [b"content"], offset=0),
        lambda: store.presign_part(key, WELL_FORMED_UPLOAD_ID, 1, 60),
        lambda: store.uploaded_parts(key, WELL_FORMED_UPLOAD_ID),
        lambda: store.complete_multipart(key, WELL_FORMED_UPLOAD_ID, 1),
        lambda: store.abort_multipart(key, WELL_FORMED_UPLOAD_ID),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="key"):
            call()


def test_longest_valid_key(store: BlobStore) -> None:
    key = "/".join(["k" * 255, "e" * 254, "y"])
    assert len(key) == 512
    store.put(key, [b"long key"])
    assert store.read(key) == b"long key"


def test_check_ready_passes(store: BlobStore) -> None:
    store.check_ready()
