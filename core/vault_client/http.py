"""The api's HTTP client for the vault (SPEC §6), implementing :class:`VaultClient`.

Failures come out in two kinds: :class:`VaultUnavailable` when the vault cannot be reached,
times out, fails (5xx) or answers nonsense (retry later; nothing was consumed), and
:class:`VaultRejected` when it answered and refused (4xx). Error messages quote the vault's
error code and message, never the bytes that were sent.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

from core.crypto.encoding import b64url_decode, b64url_encode
from core.crypto.hpke import SEALED_KEY_SIZE
from core.errors import InvalidInput, VaultRejected, VaultUnavailable
from core.settings import Settings
from core.vault_client.protocol import NewDataKey


class HttpVaultClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        timeout: float,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("the vault URL must start with http:// or https://")
        # A missing token fails each call rather than construction, so processes that build
        # all services but never call the vault (scheduler, CLI) still start without one.
        self._has_token = bool(token)
        # One client for the process: it keeps connections to the vault open between calls.
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"} if token else {},
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=False,
            # Proxy settings from the environment must not reroute key traffic.
            trust_env=False,
        )

    def create_data_key(self, *, tenant_id: str, secret_id: str, public_key: bytes) -> NewDataKey:
        body = self._post(
            "/v1/data-keys",
            {
                "tenant_id": tenant_id,
                "secret_id": secret_id,
                "public_key": b64url_encode(public_key),
            },
        )
        wrapped_key = _decoded(body, "wrapped_key")
        if not wrapped_key:
            raise VaultUnavailable("the vault answered with an empty wrapped key")
        return NewDataKey(wrapped_key=wrapped_key, sealed_key=_sealed_key(body))

    def unseal_data_key(
        self, *, tenant_id: str, secret_id: str, wrapped_key: bytes, public_key: bytes
    ) -> bytes:
        body = self._post(
            "/v1/data-keys/unseal",
            {
                "tenant_id": tenant_id,
                "secret_id": secret_id,
                "wrapped_key": b64url_encode(wrapped_key),
                "public_key": b64url_encode(public_key),
            },
        )
        return _sealed_key(body)

    def check_ready(self) -> None:
        response = self._send("GET", "/readyz")
        if response.status_code != 200:
            raise VaultUnavailable(f"the vault is not ready ({_describe(response)})")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HttpVaultClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _post(self, path: str, payload: dict[str, str]) -> dict[str, Any]:
        response = self._send("POST", path, json=payload)
        if response.status_code >= 500:
            raise VaultUnavailable(f"the vault failed ({_describe(response)})")
        if response.status_code >= 400:
            raise VaultRejected(
                f"the vault refused the request ({_describe(response)})",
                field=_error_field(response),
                vault_code=_error(response).get("code"),
            )
        if response.status_code not in (200, 201):
            raise VaultUnavailable(f"the vault answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise VaultUnavailable("the vault answered with a body that is not JSON") from exc
        if not isinstance(body, dict):
            raise VaultUnavailable("the vault answered with an unexpected JSON body")
        return body

    def _send(self, method: str, path: str, *, json: object = None) -> httpx.Response:
        if not self._has_token:
            raise VaultUnavailable("no vault token is configured (set CIPHERSLIP_VAULT_TOKEN)")
        try:
            return self._http.request(method, path, json=json)
        except httpx.TimeoutException as exc:
            raise VaultUnavailable(
                f"the vault did not answer in time ({type(exc).__name__})"
            ) from exc
        except httpx.HTTPError as exc:
            # httpx messages can name the request; the exception type says enough.
            raise VaultUnavailable(f"the vault cannot be reached ({type(exc).__name__})") from exc


def create_vault_client(settings: Settings) -> HttpVaultClient:
    """The api's vault client from settings; call ``close()`` at shutdown."""
    return HttpVaultClient(settings.vault_url, settings.vault_token, settings.vault_timeout_seconds)


def _error(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _describe(response: httpx.Response) -> str:
    error = _error(response)
    code, message = error.get("code"), error.get("message")
    if isinstance(code, str) and isinstance(message, str):
        # Bounded: these come from the vault, which never quotes request bytes in them.
        return f"HTTP {response.status_code} {code}: {message[:300]}"
    return f"HTTP {response.status_code}"


def _error_field(response: httpx.Response) -> str | None:
    field = _error(response).get("field")
    return field if isinstance(field, str) else None


def _decoded(body: dict[str, Any], name: str) -> bytes:
    value = body.get(name)
    if not isinstance(value, str):
        raise VaultUnavailable(f"the vault's answer lacks {name}")
    try:
        return b64url_decode(value, field=name)
    except InvalidInput as exc:
        raise VaultUnavailable(f"the vault's {name} is not base64url") from exc


def _sealed_key(body: dict[str, Any]) -> bytes:
    sealed_key = _decoded(body, "sealed_key")
    if len(sealed_key) != SEALED_KEY_SIZE:
        raise VaultUnavailable(f"the vault's sealed key is not {SEALED_KEY_SIZE} bytes")
    return sealed_key
