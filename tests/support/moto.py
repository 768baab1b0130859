"""moto in *server mode*: S3 and KMS over real HTTP, reached through boto3."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from core.blobstore.s3_cors import browser_cors_configuration
from tests.support.servers import free_port

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@dataclass(frozen=True)
class MotoServer:
    endpoint_url: str

    def client(self, service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service, endpoint_url=self.endpoint_url, region_name=REGION,
            aws_access_key_id=CREDENTIALS["aws_access_key_id"],
            aws_secret_access_key=CREDENTIALS["aws_secret_access_key"],
        )


    def browser_bucket(self, prefix: str = "files") -> str:
        """A new bucket; call ``allow_browser`` once the web origin is known."""
        bucket = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.client("s3").create_bucket(Bucket=bucket)
        return bucket

    def allow_browser(self, bucket: str, base_url: str) -> None:
        """The CORS rule production buckets get (docs/DEPLOYMENT.md)."""
        self.client("s3").put_bucket_cors(
            Bucket=bucket, CORSConfiguration=browser_cors_configuration(base_url))


@contextmanager
def moto_server() -> Iterator[MotoServer]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield MotoServer(f"http://127.0.0.1:{port}")
    finally:
        server.stop()
