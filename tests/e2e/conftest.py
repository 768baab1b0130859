"""Browser flows run against the whole product on SQLite with every log line captured."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page

from tests.support.assets import ensure_bundles
from tests.support.databases import sqlite_database
from tests.support.stack import LogCapture, Stack, VaultServer, capture_logs, running_stack


@dataclass
class BrowserStack:
    stack: Stack
    logs: LogCapture
    browser: Browser
    data_dir: Path
    page_errors: list[str]

    def person(self) -> BrowserContext:
        """A fresh browser profile (its own cookies and storage), like another person."""
        context = self.browser.new_context(permissions=["clipboard-read", "clipboard-write"])
        context.on("page", self._watch)
        return context

    def _watch(self, page: Page) -> None:
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        # Chrome logs every non-2xx document as an error; a 403 or 410 page is expected here.
        # Script errors and CSP violations ("Refused to ...") are what must never happen.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.page_errors.append(message.text)


@pytest.fixture
def browser_stack(
    tmp_path: Path, idp: str, vault: VaultServer, browser: Browser,
    stack_options: dict[str, object],
) -> Iterator[BrowserStack]:
    ensure_bundles()
    with capture_logs() as logs, sqlite_database(tmp_path) as database_url, running_stack(
        data_dir=tmp_path, database_url=database_url, discovery_url=idp, vault=vault,
        **stack_options,
    ) as stack:
        yield BrowserStack(stack, logs, browser, tmp_path, [])
