"""Settings choose the blob store in one place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.blobstore.factory import build_s3_client, create_blob_store
from core.blobstore.local import LocalBlobStore
from core.blobstore.s3 import S3BlobStore
from core.settings import Settings


def test_local_backend_uses_the_effective_blob_dir(tmp_path: Path) -> None:
    store = create_blob_store(Settings(blob_backend="local", data_dir=tmp_path))
    assert isinstance(store, LocalBlobStore)
    assert store.root == (tmp_path / "blobs").resolve()

    explicit = create_blob_store(Settings(data_dir=tmp_path, blob_dir=tmp_path / "elsewhere"))
    assert isinstance(explicit, LocalBlobStore)
    assert explicit.root == (tmp_path / "elsewhere").resolve()


def test_s3_backend_uses_bucket_prefix_endpoint_and_region() -> None:
    settings = Settings(blob_backend="s3", s3_bucket="cipherslip-blobs", s3_prefix="prod",
                        s3_endpoint_url="http://127.0.0.1:9", s3_region="eu-west-1")
    store = create_blob_store(settings)
    assert isinstance(store, S3BlobStore)
    assert (store.bucket, store.prefix) == ("cipherslip-blobs", "prod/")


def test_s3_client_has_timeouts_and_bounded_retries() -> None:
    settings = Settings(blob_backend="s3", s3_endpoint_url="http://127.0.0.1:9",
                        s3_region="eu-west-1")
    client = build_s3_client(settings)
    assert client.meta.endpoint_url == "http://127.0.0.1:9"
    assert client.meta.region_name == "eu-west-1"
    # botocore sets the options as dynamic attributes, which the stubs do not declare.
    config: Any = client.meta.config
    assert 0 < config.connect_timeout <= 10
    assert 0 < config.read_timeout <= 120
    assert config.retries is not None
    assert config.retries["total_max_attempts"] <= 5
    # Presigned URLs carry X-Amz-Expires and work in every region only with SigV4.
    assert config.signature_version == "s3v4"
