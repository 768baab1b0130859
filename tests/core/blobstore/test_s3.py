"""What only the S3 backend promises: multipart for big blobs, a prefix, and that every
vendor failure (unreachable endpoint, missing bucket, 5xx, 403, a broken stream) surfaces
as a project error that names the operation and key but never the content."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from core.blobstore.s3 import PART_SIZE, S3BlobStore
from core.errors import BlobNotFound, BlobStoreError
from tests.support.moto import CREDENTIALS, REGION
from tests.support.servers import free_port, serve

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MIB = 1024 * 1024
KEY = "tenant-1/secret-1.csl1"
CONTENT_MARKER = b"CONTENT-MARKER-never-in-errors"

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def _impatient_client(endpoint_url: str) -> S3Client:
    """No retries and sub-second timeouts, so an outage is detected quickly."""
    config = Config(connect_timeout=0.5, read_timeout=0.5, retries={"total_max_attempts": 1})
    return boto3.client("s3", endpoint_url=endpoint_url, region_name=REGION, config=config,
                        aws_access_key_id=CREDENTIALS["aws_access_key_id"],
                        aws_secret_access_key=CREDENTIALS["aws_secret_access_key"])


def _every_operation(store: S3BlobStore) -> dict[str, Callable[[], object]]:
    return {
        "put": lambda: store.put(KEY, [CONTENT_MARKER]),
        "open": lambda: b"".join(store.open(KEY)),
        "read": lambda: store.read(KEY),
        "size": lambda: store.size(KEY),
        "exists": lambda: store.exists(KEY),
        "delete": lambda: store.delete(KEY),
        "check_ready": store.check_ready,
        "open range": lambda: b"".join(store.open_range(KEY, 1, None)),
        "start upload": lambda: store.start_multipart(KEY),
        "upload part": lambda: store.upload_part(KEY, "upload-id", 1, [CONTENT_MARKER],
                                                        offset=0),
        "list parts": lambda: store.uploaded_parts(KEY, "upload-id"),
        "complete upload": lambda: store.complete_multipart(KEY, "upload-id", 1),
        "abort upload": lambda: store.abort_multipart(KEY, "upload-id"),
    }


def _chunks(total: int) -> Iterator[bytes]:
    for offset in range(0, total, MIB):
        yield CONTENT_MARKER.ljust(min(MIB, total - offset), b".")


# --- behaviour against moto ------------------------------------------------------------
def test_big_blobs_use_multipart_and_small_ones_a_single_put(
    s3_client: S3Client, s3_bucket: str
) -> None:
    store = S3BlobStore(s3_client, s3_bucket)
    store.put("t/big.csl1", _chunks(PART_SIZE + MIB))
    store.put("t/exact.csl1", _chunks(PART_SIZE))
    store.put("t/small.csl1", _chunks(PART_SIZE - 1))
    # A multipart upload's ETag is "<md5 of part md5s>-<number of parts>".
    assert s3_client.head_object(Bucket=s3_bucket, Key="t/big.csl1")["ETag"].endswith('-2"')
    assert s3_client.head_object(Bucket=s3_bucket, Key="t/exact.csl1")["ETag"].endswith('-1"')
    assert "-" not in s3_client.head_object(Bucket=s3_bucket, Key="t/small.csl1")["ETag"]
    assert store.size("t/big.csl1") == PART_SIZE + MIB
    assert store.size("t/exact.csl1") == PART_SIZE


def test_prefix_places_objects_below_it(s3_client: S3Client, s3_bucket: str) -> None:
    store = S3BlobStore(s3_client, s3_bucket, prefix="/env-1/blobs/")
    assert store.prefix == "env-1/blobs/"
    store.put(KEY, [b"ciphertext"])
    listed = s3_client.list_objects_v2(Bucket=s3_bucket).get("Contents", [])
    assert [item["Key"] for item in listed] == [f"env-1/blobs/{KEY}"]
    assert not S3BlobStore(s3_client, s3_bucket).exists(KEY)
    store.delete(KEY)
    assert s3_client.list_objects_v2(Bucket=s3_bucket).get("KeyCount") == 0


def test_delete_prefix_aborts_unfinished_uploads(s3_client: S3Client, s3_bucket: str) -> None:
    store = S3BlobStore(s3_client, s3_bucket, prefix="p")
    s3_client.create_multipart_upload(Bucket=s3_bucket, Key="p/t/abandoned/part.csl1")
    s3_client.create_multipart_upload(Bucket=s3_bucket, Key="p/t/kept/part.csl1")
    store.delete_prefix("t/abandoned/")
    left = [u["Key"] for u in s3_client.list_multipart_uploads(Bucket=s3_bucket)["Uploads"]]
    assert left == ["p/t/kept/part.csl1"]


@pytest.mark.parametrize("prefix", ["../up", "a//b", "sp ace"])
def test_invalid_prefix_is_rejected(s3_client: S3Client, prefix: str) -> None:
    with pytest.raises(ValueError, match="key"):
        S3BlobStore(s3_client, "bucket", prefix=prefix)


def test_missing_bucket_is_a_store_error(s3_client: S3Client) -> None:
    store = S3BlobStore(s3_client, f"missing-{uuid.uuid4().hex[:16]}")
    with pytest.raises(BlobStoreError, match="check_ready") as not_ready:
        store.check_ready()
    assert store.bucket in str(not_ready.value)
    with pytest.raises(BlobStoreError, match="NoSuchBucket") as failed_put:
        store.put(KEY, [CONTENT_MARKER])
    with pytest.raises(BlobStoreError, match="NoSuchBucket"):
        store.put(KEY, _chunks(PART_SIZE + 1))
    with pytest.raises(BlobStoreError, match="NoSuchBucket"):
        store.read(KEY)
    assert KEY in str(failed_put.value)
    assert CONTENT_MARKER.decode() not in str(failed_put.value)


class _AbortFails:
    """Delegates to a real client but cannot abort multipart uploads."""

    def __init__(self, client: S3Client) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def abort_multipart_upload(self, **_: Any) -> None:
        raise ClientError({"Error": {"Code": "InternalError"}}, "AbortMultipartUpload")


def test_failed_abort_is_logged_and_the_original_error_wins(
    s3_client: S3Client, s3_bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = S3BlobStore(cast("S3Client", _AbortFails(s3_client)), s3_bucket)

    def failing() -> Iterator[bytes]:
        yield from _chunks(PART_SIZE + MIB)
        raise LookupError("the client went away")

    with caplog.at_level(logging.WARNING, logger="core.blobstore.s3"), \
            pytest.raises(LookupError, match="went away"):
        store.put(KEY, failing())
    assert any("lifecycle" in record.getMessage() for record in caplog.records)
    assert not store.exists(KEY)


# --- an unreachable endpoint ----------------------------------------------------------------
def test_closed_port_fails_fast_with_store_errors() -> None:
    store = S3BlobStore(_impatient_client(f"http://127.0.0.1:{free_port()}"), "bucket")
    started = time.monotonic()
    for operation, call in _every_operation(store).items():
        with pytest.raises(BlobStoreError) as failure:
            call()
        message = str(failure.value)
        assert operation in message
        assert "EndpointConnectionError" in message
        assert CONTENT_MARKER.decode() not in message
    assert time.monotonic() - started < 5


# --- a misbehaving S3 endpoint ---------------------------------------------------------------
def _error_server(status: int, code: str) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """An S3 look-alike that answers every request with one error."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        while (await receive()).get("more_body"):
            pass
        body = (f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
                f"<Message>simulated</Message></Error>").encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/xml"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body",
                    "body": b"" if scope["method"] == "HEAD" else body})

    return app


@pytest.mark.parametrize(("status", "code"), [(500, "InternalError"), (503, "SlowDown"),
                                              (403, "AccessDenied")])
def test_server_errors_become_store_errors(status: int, code: str) -> None:
    with serve(_error_server(status, code)) as server:
        store = S3BlobStore(_impatient_client(server.url), "bucket")
        for operation, call in _every_operation(store).items():
            with pytest.raises(BlobStoreError) as failure:
                call()
            message = str(failure.value)
            assert operation in message
            assert CONTENT_MARKER.decode() not in message


def _truncating_server() -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """Promises a 1 MiB object and hangs up after a few bytes of it."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/octet-stream"),
                                (b"content-length", str(MIB).encode())]})
        await send({"type": "http.response.body", "body": b"x" * 1000, "more_body": True})
        raise ConnectionAbortedError("hang up mid-body")

    return app


def test_connection_lost_mid_stream_is_a_store_error() -> None:
    with serve(_truncating_server()) as server:
        store = S3BlobStore(_impatient_client(server.url), "bucket")
        with pytest.raises(BlobStoreError, match="open"):
            b"".join(store.open(KEY))
        with pytest.raises(BlobStoreError, match="read"):
            store.read(KEY)


def test_head_is_not_found_only_for_a_missing_object(s3_client: S3Client, s3_bucket: str) -> None:
    store = S3BlobStore(s3_client, s3_bucket)
    with pytest.raises(BlobNotFound):
        store.size(KEY)
    assert store.exists(KEY) is False
