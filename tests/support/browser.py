"""Headless Debian Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.requirements import require_chromium

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@contextmanager
def chromium() -> Iterator[Browser]:
    executable = require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def wait_until(page: Page, predicate: str, *, timeout: float = 30, what: str = "") -> None:
    """Poll a JavaScript predicate (a function source) from here until it is true.

    Playwright's ``wait_for_function`` re-evaluates a string predicate inside the page with
    ``new Function`` whenever the first check is false, and our pages' CSP (no
    'unsafe-eval') refuses that; ``evaluate`` goes through the debugger protocol instead."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(predicate):
        assert time.monotonic() < deadline, f"timed out waiting until {what or predicate}"
        time.sleep(0.05)
