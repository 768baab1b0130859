"""The api as the CLI talks to it: one authenticated HTTP client, and every refusal turned
into a :class:`SlipError` that carries the message to print and the exit code to end with."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from cipherslip_cli import config

USER_AGENT = "cipherslip-cli/0.1"
# Exit codes (documented in `slip --help` and the README).
OK, REFUSED, USAGE, UNAUTHENTICATED, UNREACHABLE, GONE, LINK_DAMAGED = 0, 1, 2, 3, 4, 5, 6
EXIT_CODES_HELP = (
    "exit codes: 0 done · 1 refused by the server (denied, bad input, missing scope) · 2 usage "
    "or bad local input · 3 not signed in, or the token is invalid, expired or revoked · 4 the "
    "server or network is unavailable (nothing was used; try again) · 5 the secret has ended "
    "(expired, viewed up, revoked) · 6 the link is damaged (its key does not fit the secret)"
)


class SlipError(Exception):
    """Why a command stopped: ``message`` for the person, ``exit_code`` for the script."""

    exit_code = REFUSED

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class UsageError(SlipError):
    exit_code = USAGE


class Unauthenticated(SlipError):
    exit_code = UNAUTHENTICATED


class Unreachable(SlipError):
    exit_code = UNREACHABLE


class Gone(SlipError):
    exit_code = GONE


class LinkDamaged(SlipError):
    exit_code = LINK_DAMAGED


class Refused(SlipError):
    exit_code = REFUSED


def refusal(response: httpx.Response) -> SlipError:
    """The server's own sentence, classed by what a script would do about it."""
    code: str | None = None
    try:
        error = response.json()["error"]
        message, code = str(error["message"]), str(error.get("code") or "")
    except (ValueError, KeyError, TypeError):
        message = f"the server answered HTTP {response.status_code}"
    status = response.status_code
    if status == 401:
        return Unauthenticated(message, code=code)
    if status == 410:
        return Gone(message, code=code)
    if code == "link_damaged":
        return LinkDamaged(message, code=code)
    if status in (502, 503, 504):
        return Unreachable(f"{message} (try again shortly; nothing was used)", code=code)
    if status == 429:
        retry = response.headers.get("retry-after")
        return Refused(message + (f" (try again in {retry} s)" if retry else ""), code=code)
    return Refused(message, code=code)


def signed_in() -> config.Credentials:
    credentials = config.load()
    if credentials is None:
        raise Unauthenticated("not signed in: run `slip login --server URL`, or set "
                              "CIPHERSLIP_SERVER and CIPHERSLIP_TOKEN")
    return credentials


class Api:
    """The api at ``credentials.server`` with the bearer token; close it (a context manager)."""

    def __init__(self, credentials: config.Credentials, *, timeout: float = 60) -> None:
        self.server = credentials.server
        # An empty token: a guest, whose session is a cookie (cipherslip_cli.guest).
        authorization = {"authorization": f"Bearer {credentials.token}"} if credentials.token \
            else {}
        self.http = httpx.Client(
            base_url=credentials.server, timeout=timeout, follow_redirects=False,
            headers={**authorization, "user-agent": USER_AGENT})
        # Presigned storage URLs carry their own signature: never our token.
        self.storage = httpx.Client(timeout=timeout, follow_redirects=False,
                                    headers={"user-agent": USER_AGENT})

    @classmethod
    def anonymous(cls, server: str, *, timeout: float = 60) -> Api:
        return cls(config.Credentials(server=server.rstrip("/"), token=""), timeout=timeout)

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *_: object) -> None:
        self.http.close()
        self.storage.close()

    def unreachable(self, error: httpx.HTTPError) -> Unreachable:
        return Unreachable(f"cannot reach {self.server}: {type(error).__name__}")

    def call(self, method: str, path: str, **options: Any) -> httpx.Response:
        """A request that must succeed (2xx); anything else raises its :class:`SlipError`."""
        try:
            response = self.http.request(method, path, **options)
        except httpx.HTTPError as error:
            raise self.unreachable(error) from error
        if not response.is_success:
            raise refusal(response)
        return response

    def json(self, method: str, path: str, **options: Any) -> Any:
        return self.call(method, path, **options).json()

    @contextmanager
    def stream(self, path: str, **options: Any) -> Iterator[httpx.Response]:
        """A streamed GET of the api, following one redirect to presigned storage (without
        the token) as a download does on S3."""
        try:
            with self.http.stream("GET", path, **options) as response:
                if response.status_code in (302, 303, 307):
                    location = response.headers["location"]
                    with self.storage.stream("GET", location) as stored:
                        if not stored.is_success:
                            raise Refused(f"storage answered HTTP {stored.status_code}")
                        yield stored
                    return
                if not response.is_success:
                    response.read()
                    raise refusal(response)
                yield response
        except httpx.HTTPError as error:
            raise self.unreachable(error) from error
