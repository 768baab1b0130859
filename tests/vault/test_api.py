"""The vault's HTTP API, served by uvicorn on loopback and called over real HTTP."""

from __future__ import annotations

import base64
import logging
import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from cipherslip_crypto.encoding import b64url_decode, b64url_encode
from cipherslip_crypto.hpke import open_data_key
from cryptography.hazmat.primitives.asymmetric import ec

from core.errors import CryptoError
from core.logging import VENDOR_LOGGERS
from core.settings import Settings
from tests.support.moto import MotoServer
from tests.support.servers import serve
from tests.vault.helpers import (
    browser_key_pair,
    local_settings,
    moto_kms,
    new_token,
    unreachable_kms,
)
from vault.app import MAX_BODY_BYTES, app_from_env, create_vault_app
from vault.errors import VaultConfigurationError
from vault.kms.protocol import KeyManagementService

TENANT = "tenant-a"
SECRET = "secret-1"


@pytest.fixture
def token() -> str:
    return new_token()


@contextmanager
def vault_client(
    settings: Settings, kms: KeyManagementService | None = None
) -> Iterator[httpx.Client]:
    """Serve a vault and yield an HTTP client holding its token."""
    with (
        serve(create_vault_app(settings, kms=kms)) as server,
        httpx.Client(
            base_url=server.url,
            headers={"Authorization": f"Bearer {settings.vault_token}"},
            timeout=10,
        ) as client,
    ):
        yield client


@pytest.fixture
def local_vault(tmp_path: Path, token: str) -> Iterator[httpx.Client]:
    with vault_client(local_settings(tmp_path, token)) as client:
        yield client


@pytest.fixture(params=["local", "aws"])
def any_vault(request: pytest.FixtureRequest, tmp_path: Path, token: str) -> Iterator[httpx.Client]:
    kms = None
    if request.param == "aws":
        moto: MotoServer = request.getfixturevalue("moto")
        kms = moto_kms(moto)
    with vault_client(local_settings(tmp_path, token), kms) as client:
        yield client


def create(client: httpx.Client, browser_public_key: bytes, **overrides: str) -> httpx.Response:
    body = {
        "tenant_id": TENANT,
        "secret_id": SECRET,
        "public_key": b64url_encode(browser_public_key),
    }
    return client.post("/v1/data-keys", json={**body, **overrides})


def unseal(
    client: httpx.Client, wrapped_key: str, browser_public_key: bytes, **overrides: str
) -> httpx.Response:
    body = {
        "tenant_id": TENANT,
        "secret_id": SECRET,
        "wrapped_key": wrapped_key,
        "public_key": b64url_encode(browser_public_key),
    }
    return client.post("/v1/data-keys/unseal", json={**body, **overrides})


def assert_error(
    response: httpx.Response, status: int, code: str, field: str | None = None
) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    if field is not None:
        assert error["field"] == field
        assert field in error["message"]


def opened(sealed_key: str, private_key: ec.EllipticCurvePrivateKey, purpose: Any) -> bytes:
    return open_data_key(b64url_decode(sealed_key), private_key, SECRET, purpose)


# --- creating and unsealing ----------------------------------------------------------------


def test_create_then_unseal_gives_the_same_data_key(any_vault: httpx.Client) -> None:
    creator_key, creator_public_key = browser_key_pair()
    created = create(any_vault, creator_public_key)
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    assert set(created.json()) == {"wrapped_key", "sealed_key"}
    data_key = opened(created.json()["sealed_key"], creator_key, "create")
    assert len(data_key) == 32

    recipient_key, recipient_public_key = browser_key_pair()
    unsealed = unseal(any_vault, created.json()["wrapped_key"], recipient_public_key)
    assert unsealed.status_code == 200, unsealed.text
    assert unsealed.headers["cache-control"] == "no-store"
    assert set(unsealed.json()) == {"sealed_key"}
    assert opened(unsealed.json()["sealed_key"], recipient_key, "reveal") == data_key


def test_sealed_keys_open_only_for_their_purpose_secret_and_key(local_vault: httpx.Client) -> None:
    creator_key, creator_public_key = browser_key_pair()
    created = create(local_vault, creator_public_key).json()
    with pytest.raises(CryptoError):
        opened(created["sealed_key"], creator_key, "reveal")
    with pytest.raises(CryptoError):
        open_data_key(b64url_decode(created["sealed_key"]), creator_key, "secret-2", "create")

    recipient_key, recipient_public_key = browser_key_pair()
    unsealed = unseal(local_vault, created["wrapped_key"], recipient_public_key).json()
    with pytest.raises(CryptoError):
        opened(unsealed["sealed_key"], recipient_key, "create")
    with pytest.raises(CryptoError):
        opened(unsealed["sealed_key"], creator_key, "reveal")


def test_each_create_makes_a_new_data_key(local_vault: httpx.Client) -> None:
    private_key, public_key = browser_key_pair()
    first = opened(create(local_vault, public_key).json()["sealed_key"], private_key, "create")
    second = opened(create(local_vault, public_key).json()["sealed_key"], private_key, "create")
    assert first != second


def test_the_caller_cannot_choose_the_purpose(local_vault: httpx.Client) -> None:
    _, public_key = browser_key_pair()
    wrapped_key = create(local_vault, public_key).json()["wrapped_key"]
    response = unseal(local_vault, wrapped_key, public_key, purpose="create")
    assert_error(response, 400, "invalid_input", field="purpose")


@pytest.mark.parametrize(
    "changed", [{"secret_id": "secret-2"}, {"tenant_id": "tenant-b"}], ids=["secret", "tenant"]
)
def test_a_wrapped_key_only_unseals_for_its_own_secret(
    any_vault: httpx.Client, changed: dict[str, str]
) -> None:
    _, public_key = browser_key_pair()
    wrapped_key = create(any_vault, public_key).json()["wrapped_key"]
    response = unseal(any_vault, wrapped_key, public_key, **changed)
    assert_error(response, 422, "invalid_wrapped_key")
    assert "sealed_key" not in response.text


def test_a_tampered_wrapped_key_is_refused(local_vault: httpx.Client) -> None:
    _, public_key = browser_key_pair()
    wrapped_key = bytearray(b64url_decode(create(local_vault, public_key).json()["wrapped_key"]))
    wrapped_key[-1] ^= 0x01
    assert_error(
        unseal(local_vault, b64url_encode(bytes(wrapped_key)), public_key),
        422,
        "invalid_wrapped_key",
    )


# --- authentication --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Basic {token}",
        "Bearer {token}x",
        "Bearer {short}",
        "{token}",
    ],
    ids=["missing", "empty", "no token", "basic", "longer", "prefix", "no scheme"],
)
def test_requests_without_the_token_are_refused(
    local_vault: httpx.Client, token: str, authorization: str | None
) -> None:
    headers = {}
    if authorization is not None:
        headers["Authorization"] = authorization.format(token=token, short=token[:-1])
    _, public_key = browser_key_pair()
    for path in ("/v1/data-keys", "/v1/data-keys/unseal", "/v1/unknown"):
        response = httpx.post(
            f"{local_vault.base_url}{path}",
            json={
                "tenant_id": TENANT,
                "secret_id": SECRET,
                "public_key": b64url_encode(public_key),
            },
            headers=headers,
        )
        assert_error(response, 401, "authentication_required")
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.headers["cache-control"] == "no-store"


def test_the_token_is_checked_before_the_body(local_vault: httpx.Client) -> None:
    response = httpx.post(
        f"{local_vault.base_url}/v1/data-keys",
        content=b"{not json",
        headers={"Authorization": "Bearer x"},
    )
    assert_error(response, 401, "authentication_required")


def test_the_bearer_scheme_is_case_insensitive(local_vault: httpx.Client, token: str) -> None:
    _, public_key = browser_key_pair()
    response = httpx.post(
        f"{local_vault.base_url}/v1/data-keys",
        json={"tenant_id": TENANT, "secret_id": SECRET, "public_key": b64url_encode(public_key)},
        headers={"Authorization": f"bearer {token}"},
    )
    assert response.status_code == 201


# --- bad input ----------------------------------------------------------------------------------


def _bad_public_keys() -> dict[str, str]:
    _, good = browser_key_pair()
    return {
        "not base64url": "not+base64/url",
        "padded": base64.urlsafe_b64encode(good).decode(),
        "too short": b64url_encode(good[:-1]),
        "compressed point": b64url_encode(b"\x02" + good[1:33]),
        "off the curve": b64url_encode(b"\x04" + b"\x01" * 64),
        "empty": "",
        "too long": b64url_encode(good + good),
    }


@pytest.mark.parametrize("name", list(_bad_public_keys()))
def test_a_malformed_public_key_is_refused_naming_the_field(
    local_vault: httpx.Client, name: str
) -> None:
    bad_public_key = _bad_public_keys()[name]
    _, good_public_key = browser_key_pair()
    created = create(local_vault, good_public_key).json()
    response = create(local_vault, good_public_key, public_key=bad_public_key)
    assert_error(response, 400, "invalid_input", field="public_key")
    response = unseal(
        local_vault, created["wrapped_key"], good_public_key, public_key=bad_public_key
    )
    assert_error(response, 400, "invalid_input", field="public_key")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tenant_id", ""),
        ("secret_id", ""),
        ("secret_id", "s" * 129),
        ("tenant_id", "t" * 129),
        ("secret_id", "with space"),
        ("secret_id", "tab\there"),
        ("secret_id", "ünïcode"),
    ],
)
def test_bad_ids_are_refused_naming_the_field(
    local_vault: httpx.Client, field: str, value: str
) -> None:
    _, public_key = browser_key_pair()
    assert_error(
        create(local_vault, public_key, **{field: value}), 400, "invalid_input", field=field
    )


@pytest.mark.parametrize("field", ["tenant_id", "secret_id", "public_key"])
def test_missing_fields_are_named(local_vault: httpx.Client, field: str) -> None:
    _, public_key = browser_key_pair()
    body = {"tenant_id": TENANT, "secret_id": SECRET, "public_key": b64url_encode(public_key)}
    del body[field]
    assert_error(local_vault.post("/v1/data-keys", json=body), 400, "invalid_input", field=field)


@pytest.mark.parametrize("wrapped_key", ["not base64!", "", "A" * 8193, "abcde"])
def test_a_malformed_wrapped_key_is_refused_naming_the_field(
    local_vault: httpx.Client, wrapped_key: str
) -> None:
    _, public_key = browser_key_pair()
    assert_error(
        unseal(local_vault, wrapped_key, public_key), 400, "invalid_input", field="wrapped_key"
    )


def test_a_body_that_is_not_json_is_refused(local_vault: httpx.Client) -> None:
    response = local_vault.post(
        "/v1/data-keys", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, "invalid_input", field="body")


def test_an_oversized_body_is_refused(local_vault: httpx.Client) -> None:
    response = local_vault.post("/v1/data-keys", content=b"x" * (MAX_BODY_BYTES + 1))
    assert_error(response, 413, "payload_too_large")


def test_unknown_routes_answer_json(local_vault: httpx.Client) -> None:
    assert_error(local_vault.get("/v1/nothing-here"), 404, "not_found")
    assert_error(local_vault.get("/v1/data-keys"), 405, "method_not_allowed")
    assert local_vault.get("/docs").status_code == 404
    assert local_vault.get("/openapi.json").status_code == 404


# --- probes and KMS outages -------------------------------------------------------------------


def test_health_and_readiness(local_vault: httpx.Client) -> None:
    for path in ("/healthz", "/readyz"):
        response = httpx.get(f"{local_vault.base_url}{path}")  # no token: probes are open
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"


def test_an_unreachable_kms_makes_the_vault_unready_and_answers_503(
    tmp_path: Path, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with vault_client(local_settings(tmp_path, token), unreachable_kms()) as client:
        assert client.get("/healthz").status_code == 200
        assert_error(client.get("/readyz"), 503, "kms_unavailable")
        _, public_key = browser_key_pair()
        refused = create(client, public_key)
        assert_error(refused, 503, "kms_unavailable")
        assert refused.headers["retry-after"] == "10"
        assert_error(
            unseal(client, b64url_encode(b"\x01" * 64), public_key), 503, "kms_unavailable"
        )


class ExplodingKms:
    """A KMS that fails in a way no backend should: the vault must still answer cleanly.

    The exception message stands for secret material some library put in its message.
    """

    def __init__(self) -> None:
        self.leaked_value = secrets.token_hex(16)

    def generate_data_key(self, context: Mapping[str, str]) -> tuple[bytes, bytes]:
        raise RuntimeError(self.leaked_value)

    def decrypt_data_key(self, wrapped_key: bytes, context: Mapping[str, str]) -> bytes:
        raise RuntimeError(self.leaked_value)

    def check_ready(self) -> None:
        return None


def test_an_unexpected_failure_answers_500_without_its_message(
    tmp_path: Path, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    kms = ExplodingKms()
    with vault_client(local_settings(tmp_path, token), kms) as client:
        _, public_key = browser_key_pair()
        with caplog.at_level(logging.DEBUG):
            response = create(client, public_key)
    assert_error(response, 500, "internal_error")
    assert response.headers["cache-control"] == "no-store"
    assert kms.leaked_value not in response.text
    assert "unhandled RuntimeError" in caplog.text
    assert kms.leaked_value not in caplog.text


# --- logs never hold secrets --------------------------------------------------------------------


class CapturingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # Everything a formatter could print: message, raw args, extras, exception text.
        formatter = logging.Formatter()
        text = [record.getMessage(), repr(record.args), repr(vars(record))]
        if record.exc_info:
            text.append(formatter.formatException(record.exc_info))
        self.lines.append(f"{record.name} " + " ".join(text))


@contextmanager
def all_logs() -> Iterator[CapturingHandler]:
    handler = CapturingHandler()
    root = logging.getLogger()
    uvicorn_loggers = [
        logging.getLogger(name) for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
    ]
    vendor_loggers = [logging.getLogger(name) for name in VENDOR_LOGGERS]
    saved = [(logger, logger.level) for logger in [root, *uvicorn_loggers, *vendor_loggers]]
    root.addHandler(handler)
    for logger in [root, *uvicorn_loggers]:
        logger.setLevel(logging.DEBUG)
    # Undo whatever an earlier vault app did in this process: the vault under test must
    # itself keep the vendor libraries' DEBUG output (request and response bodies) away.
    for logger in vendor_loggers:
        logger.setLevel(logging.NOTSET)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        for logger, level in saved:
            logger.setLevel(level)


def forms_of(secret: bytes) -> list[str]:
    return [
        b64url_encode(secret),
        base64.b64encode(secret).decode(),
        secret.hex(),
        repr(secret)[2:-1],
    ]


@pytest.mark.parametrize("backend", ["local", "aws"])
def test_logs_hold_no_keys_and_no_token(
    request: pytest.FixtureRequest, tmp_path: Path, token: str, backend: str
) -> None:
    kms = moto_kms(request.getfixturevalue("moto")) if backend == "aws" else None
    secrets_seen: list[bytes] = [token.encode()]
    with all_logs() as logs:
        with vault_client(local_settings(tmp_path, token), kms) as client:
            creator_key, creator_public_key = browser_key_pair()
            created = create(client, creator_public_key).json()
            wrapped_key = b64url_decode(created["wrapped_key"])
            sealed_on_create = b64url_decode(created["sealed_key"])
            data_key = open_data_key(sealed_on_create, creator_key, SECRET, "create")
            _, recipient_public_key = browser_key_pair()
            sealed_on_reveal = b64url_decode(
                unseal(client, created["wrapped_key"], recipient_public_key).json()["sealed_key"]
            )
            # Failures log too: a refused unseal, a bad token, a bad public key.
            unseal(client, created["wrapped_key"], recipient_public_key, secret_id="secret-2")
            httpx.post(
                f"{client.base_url}/v1/data-keys", headers={"Authorization": f"Bearer {token}x"}
            )
            create(client, b"\x04" + data_key + data_key)
            client.get("/readyz")
        secrets_seen += [data_key, wrapped_key, sealed_on_create, sealed_on_reveal]

    # Only the vault's own process is judged: moto stands in for AWS and is not the vault.
    lines = [line for line in logs.lines if not line.startswith(("werkzeug", "moto"))]
    text = "\n".join(lines)
    assert "POST /v1/data-keys 201" in text  # the capture works and the access log is there
    assert "POST /v1/data-keys/unseal 422" in text
    for secret in secrets_seen:
        for form in forms_of(secret):
            assert form not in text, f"a secret appeared in the logs as {form[:12]}…"


# --- refusing to start ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad_token",
    ["", "short", "x" * 31, " " * 40, "with spaces in the middle of it!!!!!", "é" * 40],
    ids=["empty", "short", "31 chars", "blank", "spaces", "non-ascii"],
)
def test_the_vault_refuses_to_start_without_a_proper_token(tmp_path: Path, bad_token: str) -> None:
    with pytest.raises(VaultConfigurationError, match="CIPHERSLIP_VAULT_TOKEN"):
        create_vault_app(local_settings(tmp_path, bad_token))
    # The token is checked before anything else happens: no master key was created.
    assert not (tmp_path / "vault" / "master.key").exists()


def test_a_32_character_token_is_enough(tmp_path: Path) -> None:
    create_vault_app(local_settings(tmp_path, "x" * 32))


def test_app_from_env_reads_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIPHERSLIP_VAULT_TOKEN", "too-short")
    monkeypatch.setenv("CIPHERSLIP_KMS_BACKEND", "local")
    monkeypatch.setenv("CIPHERSLIP_KMS_MASTER_KEY_FILE", str(tmp_path / "master.key"))
    monkeypatch.setenv("CIPHERSLIP_LOG_FORMAT", "text")
    root_handlers = list(logging.getLogger().handlers)
    try:
        with pytest.raises(VaultConfigurationError):
            app_from_env()
        monkeypatch.setenv("CIPHERSLIP_VAULT_TOKEN", new_token())
        app_from_env()
        assert (tmp_path / "master.key").exists()
    finally:
        # app_from_env configured process logging; give pytest's handlers back.
        logging.getLogger().handlers[:] = root_handlers
        logging.getLogger("uvicorn.access").disabled = False
    assert os.environ["CIPHERSLIP_LOG_FORMAT"] == "text"
