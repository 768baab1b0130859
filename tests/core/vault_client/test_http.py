"""HttpVaultClient against the real vault served on loopback."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cipherslip_crypto.encoding import b64url_encode
from cipherslip_crypto.hpke import open_data_key
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.errors import VaultRejected, VaultUnavailable
from core.settings import Settings
from core.vault_client.http import HttpVaultClient, create_vault_client
from core.vault_client.protocol import VaultClient
from tests.support.servers import UvicornThread, serve
from tests.vault.helpers import (
    browser_key_pair,
    closed_port_url,
    local_settings,
    new_token,
    unreachable_kms,
)
from vault.app import create_vault_app

TENANT = "tenant-a"
SECRET = "secret-1"


@pytest.fixture
def token() -> str:
    return new_token()


@pytest.fixture
def vault_server(tmp_path: Path, token: str) -> Iterator[UvicornThread]:
    with serve(create_vault_app(local_settings(tmp_path, token))) as server:
        yield server


@pytest.fixture
def client(vault_server: UvicornThread, token: str) -> Iterator[HttpVaultClient]:
    with HttpVaultClient(vault_server.url, token, timeout=5) as vault_client:
        yield vault_client


def test_round_trip(client: HttpVaultClient) -> None:
    creator_key, creator_public_key = browser_key_pair()
    new_key = client.create_data_key(
        tenant_id=TENANT, secret_id=SECRET, public_key=creator_public_key
    )
    data_key = open_data_key(new_key.sealed_key, creator_key, SECRET, "create")

    recipient_key, recipient_public_key = browser_key_pair()
    sealed_key = client.unseal_data_key(
        tenant_id=TENANT,
        secret_id=SECRET,
        wrapped_key=new_key.wrapped_key,
        public_key=recipient_public_key,
    )
    assert open_data_key(sealed_key, recipient_key, SECRET, "reveal") == data_key
    client.check_ready()


def test_it_satisfies_the_protocol(client: HttpVaultClient) -> None:
    as_protocol: VaultClient = client
    assert as_protocol is client


def test_the_factory_builds_a_working_client_from_settings(
    vault_server: UvicornThread, token: str
) -> None:
    settings = Settings(vault_url=vault_server.url + "/", vault_token=token)
    vault_client = create_vault_client(settings)
    try:
        _, public_key = browser_key_pair()
        vault_client.create_data_key(tenant_id=TENANT, secret_id=SECRET, public_key=public_key)
    finally:
        vault_client.close()


def test_a_wrong_token_is_rejected(vault_server: UvicornThread, token: str) -> None:
    _, public_key = browser_key_pair()
    with (
        HttpVaultClient(vault_server.url, token + "x", timeout=5) as vault_client,
        pytest.raises(VaultRejected) as info,
    ):
        vault_client.create_data_key(tenant_id=TENANT, secret_id=SECRET, public_key=public_key)
    assert "authentication_required" in info.value.message
    assert token not in info.value.message


def test_another_secret_s_wrapped_key_is_rejected_without_echoing_it(
    client: HttpVaultClient,
) -> None:
    _, public_key = browser_key_pair()
    new_key = client.create_data_key(tenant_id=TENANT, secret_id=SECRET, public_key=public_key)
    with pytest.raises(VaultRejected) as info:
        client.unseal_data_key(
            tenant_id=TENANT,
            secret_id="secret-2",
            wrapped_key=new_key.wrapped_key,
            public_key=public_key,
        )
    assert "invalid_wrapped_key" in info.value.message
    for sent in (new_key.wrapped_key, public_key):
        assert b64url_encode(sent) not in info.value.message


def test_a_malformed_public_key_is_rejected_naming_the_field(client: HttpVaultClient) -> None:
    with pytest.raises(VaultRejected) as info:
        client.create_data_key(tenant_id=TENANT, secret_id=SECRET, public_key=b"\x04" + bytes(64))
    assert info.value.field == "public_key"


def test_a_stopped_vault_is_unavailable_quickly(
    vault_server: UvicornThread, client: HttpVaultClient
) -> None:
    _, public_key = browser_key_pair()
    new_key = client.create_data_key(tenant_id=TENANT, secret_id=SECRET, public_key=public_key)
    vault_server.stop()  # the client still holds a pooled connection to it
    started = time.monotonic()
    with pytest.raises(VaultUnavailable):
        client.unseal_data_key(
            tenant_id=TENANT,
            secret_id=SECRET,
            wrapped_key=new_key.wrapped_key,
            public_key=public_key,
        )
    with pytest.raises(VaultUnavailable):
        client.check_ready()
    assert time.monotonic() - started < 2

    vault_server.start()  # and it recovers once the vault is back
    client.unseal_data_key(
        tenant_id=TENANT, secret_id=SECRET, wrapped_key=new_key.wrapped_key, public_key=public_key
    )


def test_a_closed_port_is_unavailable_quickly(token: str) -> None:
    _, public_key = browser_key_pair()
    started = time.monotonic()
    with HttpVaultClient(closed_port_url(), token, timeout=5) as vault_client:
        with pytest.raises(VaultUnavailable):
            vault_client.create_data_key(tenant_id=TENANT, secret_id=SECRET, public_key=public_key)
        with pytest.raises(VaultUnavailable):
            vault_client.check_ready()
    assert time.monotonic() - started < 2


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts TCP connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_a_vault_that_does_not_answer_times_out(silent_server: str, token: str) -> None:
    _, public_key = browser_key_pair()
    started = time.monotonic()
    with (
        HttpVaultClient(silent_server, token, timeout=0.3) as vault_client,
        pytest.raises(VaultUnavailable, match="in time"),
    ):
        vault_client.create_data_key(tenant_id=TENANT, secret_id=SECRET, public_key=public_key)
    assert time.monotonic() - started < 2


@pytest.fixture
def closing_server() -> Iterator[str]:
    """Answers the first request on a connection and keeps it alive, then reads the next
    request on it and closes without answering: what a server does that closes idle
    kept-alive connections just as a client reuses one. Fresh connections get answers."""
    answer = json.dumps({"status": "ready"}).encode()
    reply = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
             b"content-length: " + str(len(answer)).encode() + b"\r\n\r\n" + answer)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                connection.recv(65536)
                connection.sendall(reply)
                connection.recv(65536)  # the reused connection's request: dropped

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


def test_a_kept_alive_connection_the_vault_closed_is_retried_once(
    closing_server: str, token: str
) -> None:
    with HttpVaultClient(closing_server, token, timeout=5) as vault_client:
        for _ in range(4):  # each call after the first lands on a connection being dropped
            vault_client.check_ready()


def test_a_vault_without_its_kms_is_unavailable(
    tmp_path: Path, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    app = create_vault_app(local_settings(tmp_path, token), kms=unreachable_kms())
    _, public_key = browser_key_pair()
    with serve(app) as server, HttpVaultClient(server.url, token, timeout=5) as vault_client:
        with pytest.raises(VaultUnavailable, match="kms_unavailable"):
            vault_client.create_data_key(tenant_id=TENANT, secret_id=SECRET, public_key=public_key)
        with pytest.raises(VaultUnavailable):
            vault_client.check_ready()


def _answering(status: int, content: str, media_type: str) -> Starlette:
    """A server in the vault's place that answers every request the same way."""

    async def endpoint(_request: Request) -> Response:
        return Response(content, status_code=status, media_type=media_type)

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=["GET", "POST"])])


def _json(value: object) -> tuple[str, str]:
    return json.dumps(value), "application/json"


TEXT = "text/plain"


@pytest.mark.parametrize(
    ("status", "answer"),
    [
        (500, ("Internal Server Error", TEXT)),
        (502, _json({"error": {"code": "bad_gateway", "message": "upstream"}})),
        (201, ("not json", TEXT)),
        (201, _json(["a", "list"])),
        (201, _json({"wrapped_key": "AAAA"})),
        (201, _json({"wrapped_key": "AAAA", "sealed_key": "not base64!"})),
        (201, _json({"wrapped_key": "AAAA", "sealed_key": "AAAA"})),
        (201, _json({"wrapped_key": "", "sealed_key": b64url_encode(bytes(113))})),
        (302, ("elsewhere", TEXT)),
    ],
    ids=[
        "500 text",
        "502 json",
        "not json",
        "json list",
        "no sealed key",
        "sealed key not base64url",
        "sealed key wrong size",
        "empty wrapped key",
        "redirect",
    ],
)
def test_a_vault_answering_nonsense_is_unavailable(
    token: str, status: int, answer: tuple[str, str]
) -> None:
    _, public_key = browser_key_pair()
    with (
        serve(_answering(status, *answer)) as server,
        HttpVaultClient(server.url, token, timeout=5) as vault_client,
        pytest.raises(VaultUnavailable),
    ):
        vault_client.create_data_key(tenant_id=TENANT, secret_id=SECRET, public_key=public_key)


@pytest.mark.parametrize("base_url", ["127.0.0.1:8100", "ftp://vault", ""])
def test_the_client_refuses_a_url_that_is_not_http(base_url: str) -> None:
    with pytest.raises(ValueError, match="http"):
        HttpVaultClient(base_url, "t" * 32, timeout=5)


def test_without_a_token_calls_fail_as_unavailable(vault_server: UvicornThread) -> None:
    _, public_key = browser_key_pair()
    with HttpVaultClient(vault_server.url, "", timeout=5) as vault_client:
        with pytest.raises(VaultUnavailable, match="CIPHERSLIP_VAULT_TOKEN"):
            vault_client.create_data_key(tenant_id=TENANT, secret_id=SECRET, public_key=public_key)
        with pytest.raises(VaultUnavailable, match="CIPHERSLIP_VAULT_TOKEN"):
            vault_client.check_ready()
