"""The CLI and the browser are one system: what ``slip share`` encrypts, a colleague reveals in
Chromium; what Chromium shares, ``slip reveal`` decrypts — byte for byte, text, env and a
50 MiB file (through the api's parts on the local store, and straight to S3 with presigned
URLs). Neither the content, the link key nor the API token lands in the database, the blob
store or the logs."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cipherslip_crypto.encoding import b64url_decode
from playwright.sync_api import expect

from tests.e2e.conftest import BrowserStack
from tests.e2e.test_share_file import (
    MIB,
    TRANSFER_TIMEOUT_MS,
    creator_page,
    download_file,
    random_file,
    share_file,
)
from tests.e2e.test_share_text import SECRET_TEXT, create_secret, open_as
from tests.support.moto import MotoServer
from tests.support.slip import SLIP, slip_environment

pytestmark = pytest.mark.browser
ENV_FILE = ('# staging\nexport DATABASE_URL=postgres://app:pa$$@db/app\n'
            'TLS_KEY="-----BEGIN PRIVATE KEY-----\nMIIEv…\n-----END PRIVATE KEY-----"\n')


def slip(base_url: str, token: str, *arguments: str, config_dir: Path,
         stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    done = subprocess.run([sys.executable, *SLIP, *arguments], input=stdin,
                          env=slip_environment(config_dir, server=base_url, token=token),
                          capture_output=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return done


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def stack_options(request: pytest.FixtureRequest) -> dict[str, object]:
    if "backend" not in request.fixturenames or request.getfixturevalue("backend") == "local":
        return {}
    moto: MotoServer = request.getfixturevalue("moto")
    return {"blob_backend": "s3", "s3_endpoint_url": moto.endpoint_url,
            "s3_bucket": moto.browser_bucket()}


@pytest.fixture
def cli_stack(request: pytest.FixtureRequest,
              browser_stack: BrowserStack) -> Iterator[BrowserStack]:
    if browser_stack.stack.settings.blob_backend == "s3":
        moto: MotoServer = request.getfixturevalue("moto")
        settings = browser_stack.stack.settings
        moto.allow_browser(settings.s3_bucket, settings.base_url)
    yield browser_stack
    assert browser_stack.page_errors == []


def token(stack: BrowserStack, email: str, *scopes: str) -> str:
    return str(stack.stack.user(email).api("POST", "/api/v1/tokens", json={
        "name": "e2e", "scopes": list(scopes)}).json()["token"])


def assert_nowhere(stack: BrowserStack, needles: dict[str, bytes]) -> None:
    haystacks = {str(path): path.read_bytes()
                 for path in sorted(stack.data_dir.rglob("*"))
                 if path.is_file() and "upload" not in path.parts}
    haystacks["captured logs"] = stack.logs.text().encode()
    assert any(name.endswith("cipherslip.db") for name in haystacks)
    for where, content in haystacks.items():
        for what, needle in needles.items():
            assert needle not in content, f"{what} found in {where}"


def test_cli_shares_text_and_env_that_chromium_reveals(cli_stack: BrowserStack,
                                                        tmp_path: Path) -> None:
    base_url = cli_stack.stack.base_url
    writer = token(cli_stack, "alice@example.com", "secrets:write")
    text = "ünïcode ✓ line one\n  indented line two\n"
    text_url = slip(base_url, writer, "share", "--to", "bob@example.com", "--label",
                    "From CI", config_dir=tmp_path, stdin=text.encode()).stdout.decode().strip()
    env_url = slip(base_url, writer, "share", "--to", "bob@example.com", "--format", "env",
                   config_dir=tmp_path, stdin=ENV_FILE.encode()).stdout.decode().strip()
    bob = cli_stack.person()
    page = open_as(bob, text_url, "bob@example.com")
    expect(page.locator("#share-label")).to_have_text("From CI")
    page.get_by_role("button", name="Reveal content").click()
    expect(page.locator("#revealed")).to_be_visible()
    assert page.locator("#secret-text").input_value() == text
    page.goto(env_url)
    page.get_by_role("button", name="Reveal content").click()
    expect(page.locator("#secret-format")).to_have_text("Env")
    assert page.locator("#secret-text").input_value() == ENV_FILE
    assert_nowhere(cli_stack, {
        "text": text.encode(), "env line": b"postgres://app:pa$$@db/app",
        "text link key": b64url_decode(text_url.split("#")[1]),
        "env link key (text)": env_url.split("#")[1].encode(),
        "token": writer.encode()})


def test_cli_shares_a_fifty_mib_file_that_chromium_downloads(
        cli_stack: BrowserStack, backend: str, tmp_path: Path) -> None:
    base_url = cli_stack.stack.base_url
    writer = token(cli_stack, "alice@example.com", "secrets:write")
    original = random_file(tmp_path, 50 * MIB, name="release ✓.tar.gz")
    shared = json.loads(slip(base_url, writer, "share", "--to", "bob@example.com",
                             str(original), "--json", config_dir=tmp_path).stdout)
    page = open_as(cli_stack.person(), shared["share_url"], "bob@example.com")
    download = download_file(page)
    assert download.suggested_filename == "release ✓.tar.gz"
    assert sha256(download.path().read_bytes()) == sha256(original.read_bytes())
    expect(page.locator("#download-status")).to_contain_text("Saved")


def test_chromium_shares_text_and_a_file_that_the_cli_reveals(
        cli_stack: BrowserStack, tmp_path: Path) -> None:
    base_url = cli_stack.stack.base_url
    text_url = create_secret(cli_stack.person(), base_url)
    original = random_file(tmp_path, 9 * MIB + 7)
    page = creator_page(cli_stack.person(), base_url)
    file_url = share_file(page, original)
    expect(page.locator("#result")).to_be_visible(timeout=TRANSFER_TIMEOUT_MS)
    revealer = token(cli_stack, "bob@example.com", "secrets:reveal")
    assert slip(base_url, revealer, "reveal", text_url,
                config_dir=tmp_path).stdout == SECRET_TEXT.encode()
    saved = tmp_path / "saved.bin"
    slip(base_url, revealer, "reveal", file_url, "-o", str(saved), config_dir=tmp_path)
    assert sha256(saved.read_bytes()) == sha256(original.read_bytes())
    assert_nowhere(cli_stack, {"token": revealer.encode(),
                               "link key": file_url.split("#")[1].encode()})
