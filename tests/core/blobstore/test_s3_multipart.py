"""What only the S3 backend promises about big files: browsers PUT parts to presigned URLs
and GET blobs (with Range) from them, over real HTTP to moto, and S3's multipart errors
(NoSuchUpload, parts under 5 MiB) surface as clear project errors."""

from __future__ import annotations

import calendar
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest
from botocore.config import Config

from core.blobstore import s3_uploads
from core.blobstore.protocol import BlobStore
from core.blobstore.s3 import S3BlobStore
from core.errors import BlobStoreError
from tests.support.moto import CREDENTIALS, REGION, MotoServer
from tests.support.servers import serve

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MIB = 1024 * 1024
KEY = "tenant-1/secret-1/content.csl1"
FIRST_PART = bytes(range(256)) * (5 * MIB // 256)
LAST_PART = b"the last part may be small"

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@pytest.fixture
def store(factory_s3_store: BlobStore) -> BlobStore:
    return factory_s3_store


def _client(endpoint_url: str) -> S3Client:
    return boto3.client("s3", endpoint_url=endpoint_url, region_name=REGION,
                        config=Config(signature_version="s3v4"),
                        aws_access_key_id=CREDENTIALS["aws_access_key_id"],
                        aws_secret_access_key=CREDENTIALS["aws_secret_access_key"])


def _query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def test_browser_puts_parts_to_presigned_urls_then_the_api_completes(store: BlobStore) -> None:
    upload_id = store.start_multipart(KEY)
    for number, body in [(2, LAST_PART), (1, FIRST_PART)]:
        url = store.presign_part(KEY, upload_id, number, 300)
        assert url is not None
        # What the browser does: a bare PUT of the bytes, no AWS credentials or headers.
        response = httpx.put(url, content=body)
        assert response.status_code == 200, response.text
    assert store.uploaded_parts(KEY, upload_id) == [(1, len(FIRST_PART)), (2, len(LAST_PART))]
    assert store.complete_multipart(KEY, upload_id, 2) == len(FIRST_PART) + len(LAST_PART)
    assert store.read(KEY) == FIRST_PART + LAST_PART


def test_presigned_get_returns_the_blob_and_honours_range(store: BlobStore) -> None:
    content = bytes(range(256)) * 40
    store.put(KEY, [content])
    url = store.presign_get(KEY, 120)
    assert url is not None
    whole = httpx.get(url)
    assert (whole.status_code, whole.content) == (200, content)
    ranged = httpx.get(url, headers={"Range": "bytes=1000-1999"})
    assert ranged.status_code == 206
    assert ranged.content == content[1000:2000]
    assert ranged.headers["content-range"] == f"bytes 1000-1999/{len(content)}"


def test_presigned_urls_are_sigv4_and_expire_when_asked(store: BlobStore) -> None:
    # moto does not enforce expiry, so the signed lifetime in the URL is what is checked.
    upload_id = store.start_multipart(KEY)
    before = time.time()
    part_url = store.presign_part(KEY, upload_id, 7, 37)
    get_url = store.presign_get(KEY, 3600)
    assert part_url is not None and get_url is not None
    part_query, get_query = _query(part_url), _query(get_url)
    assert part_query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert part_query["X-Amz-Expires"] == "37"
    assert get_query["X-Amz-Expires"] == "3600"
    # The validity starts now, not at some cached moment.
    signed_at = calendar.timegm(time.strptime(part_query["X-Amz-Date"], "%Y%m%dT%H%M%SZ"))
    assert abs(signed_at - before) < 60
    assert (part_query["partNumber"], part_query["uploadId"]) == ("7", upload_id)
    # Only the host is signed, so the browser may send whatever headers it likes.
    assert part_query["X-Amz-SignedHeaders"] == "host"
    assert urlsplit(part_url).path.endswith(f"/{KEY}")


def test_unknown_upload_is_a_store_error_naming_no_such_upload(store: BlobStore) -> None:
    for call in (lambda: store.uploaded_parts(KEY, "no-such-upload-id"),
                 lambda: store.complete_multipart(KEY, "no-such-upload-id", 1)):
        with pytest.raises(BlobStoreError, match="NoSuchUpload") as failure:
            call()
        assert "no such upload" in str(failure.value)
        assert KEY in str(failure.value)
    store.abort_multipart(KEY, "no-such-upload-id")  # idempotent: nothing to abort


def test_parts_under_5_mib_fail_at_completion_with_a_clear_error(
    store: BlobStore, s3_client: S3Client, s3_bucket: str
) -> None:
    upload_id = store.start_multipart(KEY)
    store.upload_part(KEY, upload_id, 1, [b"too small to be a first part"], offset=0)
    store.upload_part(KEY, upload_id, 2, [LAST_PART], offset=28)
    with pytest.raises(BlobStoreError, match="at least 5 MiB") as failure:
        store.complete_multipart(KEY, upload_id, 2)
    assert "EntityTooSmall" in str(failure.value)
    assert not store.exists(KEY)
    store.abort_multipart(KEY, upload_id)
    assert s3_client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []


def test_part_listing_follows_pagination(
    store: BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3_uploads, "LIST_PARTS_PAGE_SIZE", 2)
    upload_id = store.start_multipart(KEY)
    for number in (5, 3, 1, 4, 2):
        store.upload_part(KEY, upload_id, number, [b"p" * number],
                          offset=number * (number - 1) // 2)
    assert store.uploaded_parts(KEY, upload_id) == [(n, n) for n in range(1, 6)]
    store.abort_multipart(KEY, upload_id)


def test_a_big_streamed_part_is_spooled_and_sent_whole(store: BlobStore) -> None:
    size = s3_uploads.SPOOL_IN_MEMORY_BYTES * 3 + 17  # spills the spool to disk

    def chunks() -> Iterator[bytes]:
        for offset in range(0, size, 64 * 1024):
            yield bytes([offset // (64 * 1024) % 256]) * min(64 * 1024, size - offset)

    upload_id = store.start_multipart(KEY)
    assert store.upload_part(KEY, upload_id, 1, chunks(), offset=0) == size
    store.complete_multipart(KEY, upload_id, 1)
    assert store.read(KEY) == b"".join(chunks())


def test_multipart_objects_live_below_the_store_prefix(
    moto: MotoServer, s3_client: S3Client, s3_bucket: str
) -> None:
    store = S3BlobStore(_client(moto.endpoint_url), s3_bucket, prefix="env-1")
    upload_id = store.start_multipart(KEY)
    part_url = store.presign_part(KEY, upload_id, 1, 60)
    assert part_url is not None
    assert urlsplit(part_url).path == f"/{s3_bucket}/env-1/{KEY}"
    assert httpx.put(part_url, content=b"via the prefix").status_code == 200
    store.complete_multipart(KEY, upload_id, 1)
    listed = s3_client.list_objects_v2(Bucket=s3_bucket).get("Contents", [])
    assert [item["Key"] for item in listed] == [f"env-1/{KEY}"]


def _range_ignoring_server() -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """An S3 look-alike that answers a ranged GET with the whole object and a 200."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b"the whole object"
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/octet-stream"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return app


def test_a_store_that_ignores_the_range_is_an_error_not_wrong_bytes() -> None:
    with serve(_range_ignoring_server()) as server:
        store = S3BlobStore(_client(server.url), "bucket")
        with pytest.raises(BlobStoreError, match="ignored the byte range"):
            store.open_range(KEY, 4, None)
