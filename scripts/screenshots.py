"""Screenshots of the main pages, taken from the running product (``make screenshots``).

Starts ``cipherslip dev`` (what ``make run`` starts) on free ports with a data directory of
its own, walks through sharing and revealing in headless Chromium as alice, bob and the
development super admin, and writes the pictures to ``docs/images/`` for the README.

    .venv/bin/python -m scripts.screenshots [--out docs/images]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, ViewportSize, expect

from bench.processes import REPO
from tests.support.browser import chromium
from tests.support.idp import register_verified
from tests.support.servers import free_port

DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)
EXAMPLE_TEXT = "DATABASE_URL=postgres://app:example-only@db.internal:5432/prod\nAPI_KEY=not-a-real-key"


@contextmanager
def running_product(directory: Path) -> Iterator[str]:
    """``cipherslip dev`` on free ports; its base URL once the banner is out."""
    ports = [str(free_port()) for _ in range(4)]
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("CIPHERSLIP_")}
    environment["CIPHERSLIP_DATA_DIR"] = str(directory)
    process = subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "cli.main", "dev", "--port", ports[0], "--vault-port", ports[1],
         "--idp-port", ports[2], "--smtp-port", ports[3]],
        cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    try:
        for line in process.stdout:
            if "Ctrl-C" in line:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("cipherslip dev did not start within 60 s")
        else:
            raise RuntimeError("cipherslip dev exited before it was ready")
        yield f"http://127.0.0.1:{ports[0]}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def signed_in(browser: Browser, base_url: str, email: str, path: str, size: ViewportSize) -> Page:
    page = browser.new_context(viewport=size, permissions=["clipboard-write"]).new_page()
    page.goto(f"{base_url}/auth/login?next={path}")
    register_verified(page.url, email)
    page.locator("input[name=sub]").fill(email)
    page.get_by_role("button", name="Authorize").click()
    expect(page).to_have_url(re.compile(re.escape(base_url) + re.escape(path) + "$"))
    page.wait_for_load_state()
    return page


def shoot(page: Page, out: Path, name: str) -> None:
    page.screenshot(path=out / f"{name}.png", full_page=True, animations="disabled")
    print(f"wrote {out / name}.png", flush=True)


def take_all(browser: Browser, base_url: str, out: Path) -> None:
    visitor = browser.new_context(viewport=DESKTOP).new_page()
    visitor.goto(base_url + "/")
    shoot(visitor, out, "home")

    creator = signed_in(browser, base_url, "alice@example.com", "/new", DESKTOP)
    creator.locator("#recipient-input").fill("bob@example.com, partner@outside.test,")
    creator.locator("#content").fill(EXAMPLE_TEXT)
    creator.locator("#label").fill("Production database")
    shoot(creator, out, "create-outsider-flagged")
    creator.locator("#recipient-list li", has_text="partner@outside.test").get_by_role(
        "button", name="Remove partner@outside.test").click()
    creator.get_by_role("button", name="Share secret").click()
    expect(creator.locator("#result")).to_be_visible()
    creator.get_by_role("button", name="Copy link").click()
    shoot(creator, out, "share-result")
    share_url = creator.locator("#share-url").input_value()

    recipient = signed_in(browser, base_url, "bob@example.com", "/", PHONE)
    address, _, key = share_url.partition("#")
    recipient.goto(f"{address}#{key[:20]}")  # cut short, as chat apps sometimes do
    recipient.reload()
    expect(recipient.locator("#key-missing")).to_be_visible()
    shoot(recipient, out, "phone-damaged-link")
    recipient.goto(share_url)
    recipient.reload()
    expect(recipient.get_by_role("button", name="Reveal content")).to_be_enabled()
    shoot(recipient, out, "phone-share-page")
    recipient.get_by_role("button", name="Reveal content").click()
    expect(recipient.locator("#revealed")).to_be_visible()
    shoot(recipient, out, "phone-revealed")

    creator.goto(base_url + "/secrets?status=all")
    shoot(creator, out, "my-secrets")
    creator.locator("#secrets-table a").first.click()
    expect(creator.locator("#activity-list")).to_be_visible()
    shoot(creator, out, "secret-activity")

    admin = signed_in(browser, base_url, "admin@example.com", "/admin/audit", DESKTOP)
    shoot(admin, out, "admin-audit")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cipherslip-screens-") as directory, \
            running_product(Path(directory)) as base_url, chromium() as browser:
        take_all(browser, base_url, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
