"""S3 fixtures for the blob store tests: a fresh bucket on the session's moto server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, cast

import pytest

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
