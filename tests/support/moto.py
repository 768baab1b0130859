"""moto in *server mode*: S3 and KMS over real HTTP, reached through boto3."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import boto3
from moto.server import ThreadedMotoServer

from tests.support.servers import free_port

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@dataclass(frozen=True)
class MotoServer:
    endpoint_url: str

    def client(self, service: str) -> object:
        return boto3.client(service, endpoint_url=self.endpoint_url, region_name=REGION,
                            **CREDENTIALS)


@contextmanager
def moto_server() -> Iterator[MotoServer]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield MotoServer(f"http://127.0.0.1:{port}")
    finally:
        server.stop()
