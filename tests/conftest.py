"""Shared fixtures. Service helpers live in ``tests/support``."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.moto import CREDENTIALS, MotoServer, moto_server


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoServer]:
    """One moto server (S3 + KMS over HTTP) for the session; tests use unique names."""
    for name, value in {"AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
                        "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        os.environ.setdefault(name, value)
    with moto_server() as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the session; tests open their own contexts."""
    from tests.support.browser import chromium

    with chromium() as launched:
        yield launched
