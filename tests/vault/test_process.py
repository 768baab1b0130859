"""The vault as the separate process it is in production: ``python -m vault``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cipherslip_crypto.encoding import b64url_encode
from cipherslip_crypto.hpke import open_data_key

from core.vault_client.http import HttpVaultClient
from tests.support.servers import free_port
from tests.vault.helpers import browser_key_pair, new_token

REPOSITORY = Path(__file__).resolve().parents[2]


def vault_environment(tmp_path: Path, **variables: str) -> dict[str, str]:
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("CIPHERSLIP_")
    }
    environment.update(
        PYTHONPATH=str(REPOSITORY),
        CIPHERSLIP_DATA_DIR=str(tmp_path),
        CIPHERSLIP_KMS_BACKEND="local",
        CIPHERSLIP_KMS_MASTER_KEY_FILE=str(tmp_path / "vault" / "master.key"),
        **variables,
    )
    return environment


def start_vault(environment: dict[str, str], port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "vault", "--port", str(port)],
        cwd=REPOSITORY,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def running_vault(tmp_path: Path) -> Iterator[tuple[str, str, subprocess.Popen[str]]]:
    token = new_token()
    port = free_port()
    process = start_vault(
        vault_environment(tmp_path, CIPHERSLIP_VAULT_TOKEN=token, CIPHERSLIP_LOG_LEVEL="DEBUG"),
        port,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                pytest.fail(f"the vault exited: {process.communicate()[1]}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the vault did not start within 20 seconds")
            time.sleep(0.1)
        yield url, token, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_the_vault_process_serves_and_logs_only_method_path_status_duration(
    running_vault: tuple[str, str, subprocess.Popen[str]],
) -> None:
    url, token, process = running_vault
    creator_key, creator_public_key = browser_key_pair()
    recipient_key, recipient_public_key = browser_key_pair()
    with HttpVaultClient(url, token, timeout=5) as client:
        client.check_ready()
        new_key = client.create_data_key(
            tenant_id="tenant-a", secret_id="secret-1", public_key=creator_public_key
        )
        sealed_key = client.unseal_data_key(
            tenant_id="tenant-a",
            secret_id="secret-1",
            wrapped_key=new_key.wrapped_key,
            public_key=recipient_public_key,
        )
    data_key = open_data_key(new_key.sealed_key, creator_key, "secret-1", "create")
    assert open_data_key(sealed_key, recipient_key, "secret-1", "reveal") == data_key

    process.terminate()
    _, log_output = process.communicate(timeout=10)
    records = [json.loads(line) for line in log_output.splitlines() if line.strip()]
    access = [record for record in records if record["logger"] == "vault.access"]
    assert {(r["http_method"], r["http_path"], r["http_status"]) for r in access} >= {
        ("GET", "/readyz", 200),
        ("POST", "/v1/data-keys", 201),
        ("POST", "/v1/data-keys/unseal", 200),
    }
    assert all(isinstance(record["duration_ms"], float | int) for record in access)
    # uvicorn's own access log is off: ours is the only one.
    assert not any(record["logger"] == "uvicorn.access" for record in records)
    assert any("development only" in record["message"] for record in records)
    for secret in (token.encode(), data_key, new_key.wrapped_key, new_key.sealed_key, sealed_key):
        for form in (b64url_encode(secret), secret.hex()):
            assert form not in log_output


def test_the_vault_process_refuses_to_start_with_a_weak_token(tmp_path: Path) -> None:
    process = start_vault(
        vault_environment(tmp_path, CIPHERSLIP_VAULT_TOKEN="hunter2-hunter2"), free_port()
    )
    _, errors = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "refuses to start" in errors
    assert "CIPHERSLIP_VAULT_TOKEN" in errors
    assert "hunter2" not in errors
    assert not (tmp_path / "vault" / "master.key").exists()


def test_the_vault_process_refuses_the_local_kms_in_production(tmp_path: Path) -> None:
    environment = vault_environment(
        tmp_path, CIPHERSLIP_VAULT_TOKEN=new_token(), CIPHERSLIP_ENV="production"
    )
    process = start_vault(environment, free_port())
    _, errors = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "refuses to start with CIPHERSLIP_ENV=production" in errors
    assert "KMS_BACKEND is local" in errors
