"""The one place that turns settings into a blob store (docs/ARCHITECTURE.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, assert_never

import boto3
from botocore.config import Config

from core.blobstore.local import LocalBlobStore
from core.blobstore.protocol import BlobStore
from core.blobstore.s3 import S3BlobStore
from core.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Fail fast when S3 is unreachable so a request errors out instead of hanging a worker;
# the read timeout leaves room for an 8 MiB part on a slow link.
S3_CONNECT_TIMEOUT_SECONDS = 5.0
S3_READ_TIMEOUT_SECONDS = 60.0
S3_MAX_ATTEMPTS = 3


def create_blob_store(settings: Settings) -> BlobStore:
    if settings.blob_backend == "local":
        return LocalBlobStore(settings.effective_blob_dir)
    if settings.blob_backend == "s3":
        return S3BlobStore(build_s3_client(settings), settings.s3_bucket, settings.s3_prefix)
    assert_never(settings.blob_backend)


def build_s3_client(settings: Settings) -> S3Client:
    """An S3 client for ``settings``; credentials come from boto3's default chain."""
    config = Config(
        connect_timeout=S3_CONNECT_TIMEOUT_SECONDS,
        read_timeout=S3_READ_TIMEOUT_SECONDS,
        retries={"mode": "standard", "total_max_attempts": S3_MAX_ATTEMPTS},
        # Presigned URLs would otherwise use the deprecated SigV2, which newer regions
        # refuse; SigV4 also caps their lifetime at seven days.
        signature_version="s3v4",
    )
    return boto3.client(
        "s3", endpoint_url=settings.s3_endpoint_url, region_name=settings.s3_region,
        config=config,
    )
