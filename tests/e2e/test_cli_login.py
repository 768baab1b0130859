"""The CLI's sign-in in Chromium: first with a loopback listener standing in for the CLI,
then with the real ``slip`` process. The person signs in through the development IdP,
approves, and the browser itself carries the code back to 127.0.0.1 (no redirect the page's
CSP would stop), where it buys a token."""

from __future__ import annotations

import hashlib
import http.server
import json
import re
import secrets
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from cipherslip_crypto.encoding import b64url_encode
from playwright.sync_api import expect

from tests.e2e.conftest import BrowserStack
from tests.e2e.test_admin_console import signed_in
from tests.support.page_checks import check_page
from tests.support.slip import SLIP, slip_environment


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


def slip(*arguments: str, config_dir: Path, **popen: Any) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, *SLIP, *arguments],
                            env=slip_environment(config_dir), text=True, **popen)


def run_slip(*arguments: str, config_dir: Path) -> subprocess.CompletedProcess[str]:
    process = slip(*arguments, config_dir=config_dir, stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE)
    out, err = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def test_slip_login_end_to_end_through_chromium_then_whoami_list_and_logout(
    browser_stack: BrowserStack, tmp_path: Path,
) -> None:
    """The CLI process, the approval page in Chromium signed in through the development IdP,
    the loopback redirect, and the stored token's permissions."""
    base_url = browser_stack.stack.base_url
    config_dir = tmp_path / "slip"
    process = slip("login", "--server", base_url, "--no-browser", "--device", "ci-box",
                   config_dir=config_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stderr is not None
    announced = process.stderr.readline()
    [approval_url] = re.findall(r"https?://\S+", announced)
    page = signed_in(browser_stack.person(), base_url, "alice@example.com",
                     approval_url.removeprefix(base_url))
    expect(page.locator("main")).to_contain_text("ci-box")
    page.get_by_role("button", name="Approve").click()
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "Signed in" in out
    stored = config_dir / "credentials.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    token = json.loads(stored.read_text())["token"]
    assert token.startswith("cipherslip_pat_") and token not in out + err

    whoami = run_slip("whoami", config_dir=config_dir)
    assert (whoami.returncode, whoami.stdout.strip()) == (0, "alice@example.com")
    assert run_slip("list", "--json", config_dir=config_dir).returncode == 0
    logout = run_slip("logout", config_dir=config_dir)
    assert logout.returncode == 0 and not stored.exists()
    gone = httpx.get(base_url + "/api/v1/me", headers={"authorization": f"Bearer {token}"})
    assert gone.status_code == 401  # revoked on the server, not just forgotten here
    assert run_slip("whoami", config_dir=config_dir).returncode == 3  # not signed in
    assert browser_stack.page_errors == []
