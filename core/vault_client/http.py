"""The api's HTTP client for the vault (docs/ARCHITECTURE.md), implementing :class:`VaultClient`.

Failures come out in two kinds: :class:`VaultUnavailable` when the vault cannot be reached,
times out, fails (5xx) or answers nonsense (retry later; nothing was consumed), and
:class:`VaultRejected` when it answered and refused (4xx). Error messages quote the vault's
error code and message, never the bytes that were sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import urllib3
from cipherslip_crypto.encoding import b64url_decode, b64url_encode
from cipherslip_crypto.hpke import SEALED_KEY_SIZE
from urllib3.exceptions import HTTPError, ProtocolError, TimeoutError

from core.errors import InvalidInput, VaultRejected, VaultUnavailable
from core.settings import Settings
from core.vault_client.protocol import NewDataKey


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class HttpVaultClient:
    def __init__(self, base_url: str, token: str, timeout: float, *, max_connections: int = 64
                 ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("the vault URL must start with http:// or https://")
        # A missing token fails each call rather than construction, so processes that build
        # all services but never call the vault (scheduler, CLI) still start without one.
        self._has_token = bool(token)
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        # One pool for the process: it keeps connections to the vault open between calls.
        # urllib3 rather than httpx: a reveal pays one vault call, and httpx's layers cost
        # about twice the CPU per request. No proxy from the environment may reroute key
        # traffic (urllib3 reads none), no redirect is followed, nothing is retried: the api
        # answers 503 and the browser may try again.
        self._pool = urllib3.connection_from_url(
            base_url.rstrip("/"), maxsize=max_connections, block=False, headers=headers,
            timeout=urllib3.Timeout(connect=timeout, read=timeout), retries=False,
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
        if response.status != 200:
            raise VaultUnavailable(f"the vault is not ready ({_describe(response)})")

    def close(self) -> None:
        self._pool.close()

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
        response = self._send("POST", path, body=json.dumps(payload).encode())
        if response.status >= 500:
            raise VaultUnavailable(f"the vault failed ({_describe(response)})")
        if response.status >= 400:
            raise VaultRejected(
                f"the vault refused the request ({_describe(response)})",
                field=_error_field(response),
                vault_code=_error(response).get("code"),
            )
        if response.status not in (200, 201):
            raise VaultUnavailable(f"the vault answered HTTP {response.status}")
        try:
            body = response.json()
        except ValueError as exc:
            raise VaultUnavailable("the vault answered with a body that is not JSON") from exc
        if not isinstance(body, dict):
            raise VaultUnavailable("the vault answered with an unexpected JSON body")
        return body

    def _send(self, method: str, path: str, *, body: bytes | None = None) -> _Answer:
        if not self._has_token:
            raise VaultUnavailable("no vault token is configured (set CIPHERSLIP_VAULT_TOKEN)")
        try:
            try:
                response = self._pool.urlopen(method, path, body=body, redirect=False,
                                              preload_content=True)
            except ProtocolError:
                # The connection broke before any answer: most often a kept-alive connection
                # the vault closed while it was idle, as we sent on it. Once more on a fresh
                # one (safe: unsealing changes nothing, and a lost new key was never stored).
                response = self._pool.urlopen(method, path, body=body, redirect=False,
                                              preload_content=True)
        except TimeoutError as exc:
            raise VaultUnavailable(
                f"the vault did not answer in time ({type(exc).__name__})"
            ) from exc
        except (HTTPError, OSError) as exc:
            # urllib3's messages name the request; the exception type says enough.
            raise VaultUnavailable(f"the vault cannot be reached ({type(exc).__name__})") from exc
        return _Answer(response.status, response.data)


def create_vault_client(settings: Settings) -> HttpVaultClient:
    """The api's vault client from settings; call ``close()`` at shutdown."""
    return HttpVaultClient(settings.vault_url, settings.vault_token, settings.vault_timeout_seconds)


def _error(response: _Answer) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _describe(response: _Answer) -> str:
    error = _error(response)
    code, message = error.get("code"), error.get("message")
    if isinstance(code, str) and isinstance(message, str):
        # Bounded: these come from the vault, which never quotes request bytes in them.
        return f"HTTP {response.status} {code}: {message[:300]}"
    return f"HTTP {response.status}"


def _error_field(response: _Answer) -> str | None:
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
