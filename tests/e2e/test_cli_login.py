"""The CLI's sign-in in Chromium, with a loopback listener standing in for the CLI: the
person signs in through the development IdP, approves, and the browser itself carries the
code back to 127.0.0.1 (no redirect the page's CSP would stop), where it buys a token."""

from __future__ import annotations

import hashlib
import http.server
import secrets
import threading
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from playwright.sync_api import expect

from core.crypto.encoding import b64url_encode
from tests.e2e.conftest import BrowserStack
from tests.e2e.test_admin_console import signed_in
from tests.support.page_checks import check_page


class Loopback(http.server.ThreadingHTTPServer):
    received: list[dict[str, list[str]]]
    arrived: threading.Event


class Callback(http.server.BaseHTTPRequestHandler):
    server: Loopback

    def do_GET(self) -> None:
        self.server.received.append(parse_qs(urlsplit(self.path).query))
        self.server.arrived.set()
        body = b"You can close this tab."
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def loopback() -> Iterator[Loopback]:
    server = Loopback(("127.0.0.1", 0), Callback)
    server.received, server.arrived = [], threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_approving_in_the_browser_hands_the_cli_a_code_for_a_token(
    browser_stack: BrowserStack, loopback: Loopback,
) -> None:
    base_url = browser_stack.stack.base_url
    redirect = f"http://127.0.0.1:{loopback.server_address[1]}/callback"
    verifier = secrets.token_urlsafe(48)
    challenge = b64url_encode(hashlib.sha256(verifier.encode()).digest())
    query = urlencode({"redirect_uri": redirect, "state": "xyz", "code_challenge": challenge,
                       "code_challenge_method": "S256", "device": "ci-runner-7"})
    page = signed_in(browser_stack.person(), base_url, "alice@example.com",
                     f"/cli/authorize?{query}")
    expect(page.get_by_role("heading", name="Sign in the Cipherslip CLI?")).to_be_visible()
    expect(page.locator("#cli-scopes")).to_contain_text("secrets:reveal")
    problems = check_page(page, "CLI approval")
    page.get_by_role("button", name="Approve").click()
    assert loopback.arrived.wait(15), "the browser never came back to the CLI"
    [arrived] = loopback.received
    assert arrived["state"] == ["xyz"]
    exchange = httpx.post(base_url + "/api/v1/cli/token", json={
        "code": arrived["code"][0], "code_verifier": verifier, "redirect_uri": redirect})
    assert exchange.status_code == 201, exchange.text
    me = httpx.get(base_url + "/api/v1/me",
                   headers={"authorization": f"Bearer {exchange.json()['token']}"})
    assert me.json()["email"] == "alice@example.com"
    assert problems == []
    assert browser_stack.page_errors == []
