"""The CLI's browser sign-in at the service level: loopback only, PKCE S256, a code that
works once, for two minutes, with its own verifier and redirect address."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cipherslip_crypto.encoding import b64url_encode

from core.cache.memory import MemoryTokenStore
from core.clock import SystemRandom
from core.db.engine import create_db_engine, create_session_factory
from core.errors import InvalidInput
from core.services.api_tokens import ApiTokenService
from core.services.audit import AuditLog
from core.services.cli_login import CliLoginService, authorization_request
from core.services.identity import BASIC, ClientInfo, Principal
from tests.support.clock import MovableClock
from tests.support.databases import sqlite_database
from tests.support.seeding import seed_user

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
REDIRECT = "http://127.0.0.1:53682/callback"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, b64url_encode(hashlib.sha256(verifier.encode()).digest())


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[CliLoginService, Principal, MovableClock]]:
    with sqlite_database(tmp_path) as url:
        db = create_session_factory(create_db_engine(url))
        clock = MovableClock(START)
        user_id = seed_user(db, "alice@example.com", START)
        tokens = ApiTokenService(db=db, clock=clock, random=SystemRandom(),
                                 audit_log=AuditLog(clock))
        login = CliLoginService(tokens=tokens, store=MemoryTokenStore(clock),
                                random=SystemRandom())
        yield login, Principal("default", user_id, "alice@example.com", "Alice", BASIC), clock
        db.kw["bind"].dispose()


def asked(challenge: str, **changes: str) -> dict[str, str]:
    return {"redirect_uri": REDIRECT, "state": "s-123", "code_challenge": challenge,
            "code_challenge_method": "S256", "device": "alice-laptop", **changes}


@pytest.mark.parametrize("redirect", [
    "https://evil.example/callback", "http://evil.example:8080/", "http://127.0.0.1/callback",
    "http://user:pw@127.0.0.1:5000/", "javascript:alert(1)", "http://127.0.0.1:99999/"])
def test_only_a_loopback_address_with_a_port_may_receive_the_code(redirect: str) -> None:
    _, challenge = pkce()
    with pytest.raises(InvalidInput) as refused:
        authorization_request(**asked(challenge, redirect_uri=redirect))
    assert refused.value.field == "redirect_uri"


def test_pkce_s256_is_required() -> None:
    _, challenge = pkce()
    for changes in ({"code_challenge_method": "plain"}, {"code_challenge": "short"}):
        with pytest.raises(InvalidInput) as refused:
            authorization_request(**asked(challenge, **changes))
        assert refused.value.field == "code_challenge"


def test_an_approved_code_buys_one_token_once(
    service: tuple[CliLoginService, Principal, MovableClock],
) -> None:
    login, alice, _ = service
    verifier, challenge = pkce()
    request = authorization_request(**asked(challenge, device="alice\x07-laptop"))
    assert request.device == "alice-laptop"  # control characters dropped
    target = login.approve(alice, request)
    assert target.startswith(REDIRECT + "?code=") and target.endswith("&state=s-123")
    code = target.split("code=")[1].split("&")[0]
    issued = login.exchange(code=code, code_verifier=verifier, redirect_uri=REDIRECT,
                            client=ClientInfo())
    assert issued.summary.name == "CLI on alice-laptop"
    assert issued.summary.scopes == ("secrets:write", "secrets:read", "secrets:reveal")
    login.tokens.authenticate(issued.token, None)
    with pytest.raises(InvalidInput):  # spent
        login.exchange(code=code, code_verifier=verifier, redirect_uri=REDIRECT,
                       client=ClientInfo())


def test_a_code_with_the_wrong_verifier_or_address_or_too_late_is_worthless(
    service: tuple[CliLoginService, Principal, MovableClock],
) -> None:
    login, alice, clock = service
    verifier, challenge = pkce()

    def fresh_code() -> str:
        target = login.approve(alice, authorization_request(**asked(challenge)))
        return target.split("code=")[1].split("&")[0]

    with pytest.raises(InvalidInput) as wrong:
        login.exchange(code=fresh_code(), code_verifier=pkce()[0], redirect_uri=REDIRECT,
                       client=ClientInfo())
    assert wrong.value.field == "code_verifier"
    with pytest.raises(InvalidInput):
        login.exchange(code=fresh_code(), code_verifier=verifier,
                       redirect_uri="http://127.0.0.1:1/other", client=ClientInfo())
    late = fresh_code()
    clock.advance(timedelta(seconds=121))
    with pytest.raises(InvalidInput) as expired:
        login.exchange(code=late, code_verifier=verifier, redirect_uri=REDIRECT,
                       client=ClientInfo())
    assert expired.value.field == "code"
    assert login.tokens.list_own(alice) == []  # none of it made a token


def test_deny_sends_the_cli_an_error() -> None:
    _, challenge = pkce()
    assert CliLoginService.deny(authorization_request(**asked(challenge))) == (
        REDIRECT + "?error=access_denied&state=s-123")
