"""Tests that need a real server: skipped with a reason on a laptop, failed under ``CI=true``."""

from __future__ import annotations

import os
import shutil
import socket

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
POSTGRES_URL = os.environ.get(
    "CIPHERSLIP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("CIPHERSLIP_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def missing(what: str, reason: str) -> None:
    """Skip on a developer machine; in CI a missing service is a failure, never a skip."""
    message = f"{what} is not available: {reason}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true makes this mandatory)", pytrace=False)
    pytest.skip(message)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_postgres() -> str:
    if not _port_open("127.0.0.1", 5432):
        missing("PostgreSQL", "nothing listens on 127.0.0.1:5432")
    return POSTGRES_URL


def require_redis() -> str:
    if not _port_open("127.0.0.1", 6379):
        missing("Redis", "nothing listens on 127.0.0.1:6379")
    return REDIS_URL


def require_chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        missing("Chromium", "no `chromium` on PATH (apt-get install -y chromium)")
    assert path is not None
    return path


def require_node() -> str:
    path = shutil.which("node")
    if path is None:
        missing("node", "no `node` on PATH")
    assert path is not None
    return path
