"""The multipart half of the blob store contract, for every backend (local directory and S3
on moto): how browsers upload files of up to 1 GiB in parts."""

from __future__ import annotations

import pytest

from core.blobstore.protocol import BlobStore
from core.errors import BlobNotFound, BlobStoreError
from tests.core.blobstore.contract_support import (
    KEY,
    MIB,
    Backend,
    StreamBrokenError,
    failing_after,
    numbered_chunks,
)

# S3 wants at least 5 MiB in every part but the last, and so does this suite, so that what
# passes locally would pass on S3.
MIN_PART = 5 * MIB
LAST_PART = 1234


def _part(number: int, size: int) -> bytes:
    return b"".join(numbered_chunks(size, MIB, seed=number))


def test_three_parts_uploaded_out_of_order_read_back_as_their_concatenation(
    backend: Backend,
) -> None:
    store = backend.store
    store.put(KEY, [b"previous version"])
    parts = {1: _part(1, MIN_PART), 2: _part(2, MIN_PART), 3: _part(3, LAST_PART)}
    upload_id = store.start_multipart(KEY)
    for number in (3, 1, 2):
        # Streamed in 1 MiB chunks, as the api receives them.
        assert store.upload_part(KEY, upload_id, number,
                                 numbered_chunks(len(parts[number]), MIB, seed=number),
                                 offset=(number - 1) * MIN_PART) == len(parts[number])
        assert store.read(KEY) == b"previous version", "visible before completion"
    expected = parts[1] + parts[2] + parts[3]

    assert store.complete_multipart(KEY, upload_id, 3) == len(expected)
    assert store.size(KEY) == len(expected)
    assert b"".join(store.open(KEY)) == expected
    assert b"".join(store.open_range(KEY, MIN_PART - 5, MIN_PART + 4)) \
        == expected[MIN_PART - 5:MIN_PART + 5]
    assert backend.debris() == [], "the parts outlived the completed upload"


def test_parts_of_different_sizes_land_at_their_offsets(backend: Backend) -> None:
    # A CSL1 upload's first part carries the 32-byte stream header besides its records.
    store = backend.store
    parts = {1: _part(1, MIN_PART + 32), 2: _part(2, MIN_PART), 3: _part(3, LAST_PART)}
    offsets = {1: 0, 2: MIN_PART + 32, 3: 2 * MIN_PART + 32}
    upload_id = store.start_multipart(KEY)
    for number in (2, 3, 1):
        store.upload_part(KEY, upload_id, number, [parts[number]], offset=offsets[number])
    expected = parts[1] + parts[2] + parts[3]
    assert store.complete_multipart(KEY, upload_id, 3) == len(expected)
    assert store.read(KEY) == expected
    assert backend.debris() == []


def test_a_new_key_is_invisible_until_completed(store: BlobStore) -> None:
    upload_id = store.start_multipart(KEY)
    store.upload_part(KEY, upload_id, 1, [b"single small part"], offset=0)
    assert not store.exists(KEY)
    with pytest.raises(BlobNotFound):
        store.open_range(KEY, 0, None)
    assert store.complete_multipart(KEY, upload_id, 1) == 17
    assert store.read(KEY) == b"single small part"


def test_reuploading_a_part_replaces_it(store: BlobStore) -> None:
    upload_id = store.start_multipart(KEY)
    store.upload_part(KEY, upload_id, 1, [b"first attempt, longer"], offset=0)
    assert store.upload_part(KEY, upload_id, 1, [b"retry", b"!"], offset=0) == 6
    assert store.uploaded_parts(KEY, upload_id) == [(1, 6)]
    store.complete_multipart(KEY, upload_id, 1)
    assert store.read(KEY) == b"retry!"


def test_a_failed_part_upload_keeps_the_previous_version_of_the_part(
    backend: Backend,
) -> None:
    store = backend.store
    upload_id = store.start_multipart(KEY)
    store.upload_part(KEY, upload_id, 1, [b"good"], offset=0)
    with pytest.raises(StreamBrokenError):  # the caller's own exception, unchanged
        store.upload_part(KEY, upload_id, 1, failing_after(2 * MIB, MIB), offset=0)
    with pytest.raises(StreamBrokenError):
        store.upload_part(KEY, upload_id, 2, failing_after(MIB, MIB), offset=4)
    assert store.uploaded_parts(KEY, upload_id) == [(1, 4)]
    store.complete_multipart(KEY, upload_id, 1)
    assert store.read(KEY) == b"good"
    assert backend.debris() == []


def test_uploaded_parts_lists_numbers_and_sizes_in_order(store: BlobStore) -> None:
    upload_id = store.start_multipart(KEY)
    assert store.uploaded_parts(KEY, upload_id) == []
    for number, size in [(7, 3), (2, 10), (10_000, 1), (1, 20)]:
        store.upload_part(KEY, upload_id, number, [b"x" * size], offset=number * 100)
    assert store.uploaded_parts(KEY, upload_id) == [(1, 20), (2, 10), (7, 3), (10_000, 1)]


def test_uploads_are_independent(store: BlobStore) -> None:
    first, second = store.start_multipart(KEY), store.start_multipart(KEY)
    other_key = "tenant-1/secret-2.csl1"
    third = store.start_multipart(other_key)
    assert len({first, second, third}) == 3
    store.upload_part(KEY, first, 1, [b"one"], offset=0)
    store.upload_part(KEY, second, 1, [b"two"], offset=0)
    store.upload_part(other_key, third, 1, [b"three"], offset=0)
    store.complete_multipart(KEY, second, 1)
    assert store.read(KEY) == b"two"
    assert store.uploaded_parts(KEY, first) == [(1, 3)]  # untouched by the other completion
    store.complete_multipart(other_key, third, 1)
    assert store.read(other_key) == b"three"


def test_completing_with_a_missing_part_fails_naming_it_and_can_be_retried(
    store: BlobStore,
) -> None:
    upload_id = store.start_multipart(KEY)
    store.upload_part(KEY, upload_id, 1, numbered_chunks(MIN_PART, MIB, seed=1), offset=0)
    store.upload_part(KEY, upload_id, 3, [b"last"], offset=2 * MIN_PART)
    with pytest.raises(BlobStoreError, match=r"part 2 is missing"):
        store.complete_multipart(KEY, upload_id, 3)
    assert not store.exists(KEY)
    # The upload stays open: the browser sends the missing part and completes again.
    store.upload_part(KEY, upload_id, 2, numbered_chunks(MIN_PART, MIB, seed=2),
                      offset=MIN_PART)
    assert store.complete_multipart(KEY, upload_id, 3) == 2 * MIN_PART + 4
    assert store.read(KEY) == _part(1, MIN_PART) + _part(2, MIN_PART) + b"last"


def test_completing_with_several_missing_parts_names_them(store: BlobStore) -> None:
    upload_id = store.start_multipart(KEY)
    store.upload_part(KEY, upload_id, 2, [b"only part two"], offset=MIN_PART)
    with pytest.raises(BlobStoreError, match=r"parts 1, 3, 4 are missing"):
        store.complete_multipart(KEY, upload_id, 4)
    assert not store.exists(KEY)


def test_parts_beyond_the_part_count_are_an_error(store: BlobStore) -> None:
    store.put(KEY, [b"previous"])
    upload_id = store.start_multipart(KEY)
    for number in (1, 2, 4):
        store.upload_part(KEY, upload_id, number, [b"part"], offset=(number - 1) * 4)
    with pytest.raises(BlobStoreError, match=r"parts 2, 4 are beyond"):
        store.complete_multipart(KEY, upload_id, 1)
    assert store.read(KEY) == b"previous"


def test_abort_then_complete_fails_and_nothing_is_left(backend: Backend) -> None:
    store = backend.store
    upload_id = store.start_multipart(KEY)
    store.upload_part(KEY, upload_id, 1, [b"doomed"], offset=0)
    store.abort_multipart(KEY, upload_id)
    assert backend.debris() == []
    _assert_upload_is_gone(store, upload_id)
    assert not store.exists(KEY)


def test_a_completed_upload_is_gone(backend: Backend) -> None:
    store = backend.store
    upload_id = store.start_multipart(KEY)
    store.upload_part(KEY, upload_id, 1, [b"done"], offset=0)
    store.complete_multipart(KEY, upload_id, 1)
    _assert_upload_is_gone(store, upload_id)
    store.abort_multipart(KEY, upload_id)  # nothing to abort any more: not an error
    assert store.read(KEY) == b"done"
    assert backend.debris() == []


def test_abort_is_idempotent(backend: Backend) -> None:
    store = backend.store
    upload_id = store.start_multipart(KEY)
    store.upload_part(KEY, upload_id, 1, [b"x"], offset=0)
    store.abort_multipart(KEY, upload_id)
    store.abort_multipart(KEY, upload_id)
    assert backend.debris() == []
    assert not store.exists(KEY)


def test_delete_prefix_removes_unfinished_uploads_and_counts_only_blobs(
    backend: Backend,
) -> None:
    store = backend.store
    abandoned, kept = "t1/secret-a/content.csl1", "t1/secret-b/content.csl1"
    store.put("t1/secret-a/other.csl1", [b"a finished blob"])
    abandoned_id = store.start_multipart(abandoned)
    store.upload_part(abandoned, abandoned_id, 1, numbered_chunks(MIN_PART, MIB), offset=0)
    store.upload_part(abandoned, abandoned_id, 2, [b"tail"], offset=MIN_PART)
    kept_id = store.start_multipart(kept)
    store.upload_part(kept, kept_id, 1, [b"kept"], offset=0)

    assert store.delete_prefix("t1/secret-a/") == 1
    assert all("secret-a" not in item for item in backend.debris())
    with pytest.raises(BlobStoreError, match="no such upload"):
        store.complete_multipart(abandoned, abandoned_id, 2)
    assert not store.exists(abandoned)
    # The other secret's upload is untouched.
    assert store.uploaded_parts(kept, kept_id) == [(1, 4)]
    store.complete_multipart(kept, kept_id, 1)
    assert store.read(kept) == b"kept"


@pytest.mark.parametrize("part_number", [0, -1, 10_001, True])
def test_part_numbers_run_from_1_to_10000(store: BlobStore, part_number: int) -> None:
    upload_id = store.start_multipart(KEY)
    with pytest.raises(ValueError, match="part number"):
        store.upload_part(KEY, upload_id, part_number, [b"x"], offset=0)
    with pytest.raises(ValueError, match="part number"):
        store.presign_part(KEY, upload_id, part_number, 60)


@pytest.mark.parametrize("offset", [-1, True, 1.5, None])
def test_a_parts_offset_is_a_non_negative_integer(store: BlobStore, offset: int) -> None:
    upload_id = store.start_multipart(KEY)
    with pytest.raises(ValueError, match="offset"):
        store.upload_part(KEY, upload_id, 1, [b"x"], offset=offset)
    assert store.uploaded_parts(KEY, upload_id) == []


@pytest.mark.parametrize("part_count", [0, -1, 10_001])
def test_part_counts_run_from_1_to_10000(store: BlobStore, part_count: int) -> None:
    upload_id = store.start_multipart(KEY)
    store.upload_part(KEY, upload_id, 1, [b"x"], offset=0)
    with pytest.raises(ValueError, match="part count"):
        store.complete_multipart(KEY, upload_id, part_count)
    assert not store.exists(KEY)


@pytest.mark.parametrize("expires_seconds", [0, -5, 7 * 24 * 3600 + 1])
def test_presigned_urls_live_between_a_second_and_a_week(
    store: BlobStore, expires_seconds: int
) -> None:
    upload_id = store.start_multipart(KEY)
    with pytest.raises(ValueError, match="expires"):
        store.presign_part(KEY, upload_id, 1, expires_seconds)
    with pytest.raises(ValueError, match="expires"):
        store.presign_get(KEY, expires_seconds)


@pytest.mark.parametrize("upload_id", ["", None])
def test_a_malformed_upload_id_is_a_value_error(store: BlobStore, upload_id: str) -> None:
    with pytest.raises(ValueError, match="upload id"):
        store.uploaded_parts(KEY, upload_id)
    with pytest.raises(ValueError, match="upload id"):
        store.abort_multipart(KEY, upload_id)


def _assert_upload_is_gone(store: BlobStore, upload_id: str) -> None:
    with pytest.raises(BlobStoreError, match="no such upload"):
        store.complete_multipart(KEY, upload_id, 1)
    with pytest.raises(BlobStoreError, match="no such upload"):
        store.uploaded_parts(KEY, upload_id)
    # S3 says NoSuchUpload here too, but moto answers 500, so only the class is checked.
    with pytest.raises(BlobStoreError):
        store.upload_part(KEY, upload_id, 2, [b"late"], offset=4)
