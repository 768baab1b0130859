"""The CLI's approval page and the code exchange, through the real app: signed-in approval,
the page that hands the code back to the loopback address, and the token it buys."""

from __future__ import annotations

import hashlib
import re
import secrets
from html import unescape
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from cipherslip_crypto.encoding import b64url_encode

from tests.support.client import BrowserLikeClient, TokenClient
from tests.support.idp import csrf_token_from
from tests.support.stack import Stack

pytestmark = pytest.mark.one_database
REDIRECT = "http://127.0.0.1:53682/callback"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, b64url_encode(hashlib.sha256(verifier.encode()).digest())


def authorize_url(challenge: str, **changes: str) -> str:
    query = {"redirect_uri": REDIRECT, "state": "st8", "code_challenge": challenge,
             "code_challenge_method": "S256", "device": "build-box", **changes}
    return "/cli/authorize?" + urlencode(query)


def decide(person: BrowserLikeClient, challenge: str, decision: str) -> str:
    page = person.http.get(authorize_url(challenge))
    assert page.status_code == 200 and "build-box" in page.text
    form = {name: unescape(value) for name, value in re.findall(
        r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', page.text)}
    done = person.http.post("/cli/authorize", data={**form, "decision": decision,
                                                    "csrf_token": csrf_token_from(page.text)})
    assert done.status_code == 200
    [target] = re.findall(r'data-go="([^"]+)"', done.text)
    return unescape(target)


def test_approving_hands_a_code_that_buys_a_working_token(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    verifier, challenge = pkce()
    target = decide(alice, challenge, "approve")
    assert target.startswith(REDIRECT)
    query = parse_qs(urlsplit(target).query)
    assert query["state"] == ["st8"]
    exchange = stack.anonymous().http.post("/api/v1/cli/token", json={
        "code": query["code"][0], "code_verifier": verifier, "redirect_uri": REDIRECT})
    assert exchange.status_code == 201, exchange.text
    token = exchange.json()["token"]
    assert exchange.json()["name"] == "CLI on build-box"
    cli = TokenClient(stack.base_url, token)
    assert cli.api("GET", "/api/v1/me").json()["email"] == "alice@example.com"
    again = stack.anonymous().http.post("/api/v1/cli/token", json={
        "code": query["code"][0], "code_verifier": verifier, "redirect_uri": REDIRECT})
    assert again.status_code == 422 and again.json()["error"]["field"] == "code"


def test_denying_sends_an_error_and_makes_nothing(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    _, challenge = pkce()
    target = decide(alice, challenge, "deny")
    assert parse_qs(urlsplit(target).query) == {"error": ["access_denied"], "state": ["st8"]}
    assert alice.api("GET", "/api/v1/tokens").json() == []


def test_a_signed_out_visitor_signs_in_first_and_a_bad_request_is_named(stack: Stack) -> None:
    _, challenge = pkce()
    visitor = stack.anonymous()
    first = visitor.http.get(authorize_url(challenge))
    assert first.status_code == 303 and first.headers["location"].startswith("/auth/login?next=")
    alice = stack.user("alice@example.com")
    bad = alice.http.get(authorize_url(challenge, redirect_uri="https://evil.example/cb"))
    assert bad.status_code == 400 and "its address has to be http://127.0.0.1" in bad.text
