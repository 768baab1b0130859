"""Blob store fixtures: a fresh bucket on the session's moto server, and the contract's
``backend``/``store`` parametrized over the local directory and S3-on-moto."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pytest

from core.blobstore.factory import create_blob_store
from core.blobstore.protocol import BlobStore
from core.settings import Settings
from tests.core.blobstore.contract_support import Backend, local_backend
from tests.support.moto import MotoServer

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@pytest.fixture
def s3_client(moto: MotoServer) -> S3Client:
    return cast("S3Client", moto.client("s3"))


@pytest.fixture
def s3_bucket(s3_client: S3Client) -> Iterator[str]:
    """A uniquely named, empty bucket; emptied and removed afterwards because moto keeps
    every object in memory for the whole session."""
    bucket = f"blobs-{uuid.uuid4().hex[:16]}"
    s3_client.create_bucket(Bucket=bucket)
    yield bucket
    for upload in s3_client.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
        s3_client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"],
                                         UploadId=upload["UploadId"])
    for listed in s3_client.list_objects_v2(Bucket=bucket).get("Contents", []):
        s3_client.delete_object(Bucket=bucket, Key=listed["Key"])
    s3_client.delete_bucket(Bucket=bucket)


@pytest.fixture
def factory_s3_store(moto: MotoServer, s3_bucket: str) -> BlobStore:
    """An S3 store built the way production builds it (SigV4 presigned URLs included)."""
    return create_blob_store(
        Settings(blob_backend="s3", s3_endpoint_url=moto.endpoint_url, s3_bucket=s3_bucket)
    )


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "local":
        return local_backend(tmp_path / "blobs")
    # Requested lazily so the local cases do not start moto.
    client = cast("S3Client", request.getfixturevalue("s3_client"))
    bucket = cast(str, request.getfixturevalue("s3_bucket"))
    store = cast(BlobStore, request.getfixturevalue("factory_s3_store"))

    def debris() -> list[str]:
        uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        return sorted(upload["Key"] for upload in uploads)

    return Backend(store, debris)


@pytest.fixture
def store(backend: Backend) -> BlobStore:
    return backend.store
