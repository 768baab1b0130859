"""Issue acceptance: JSON, YAML and Env secrets in Chromium.

Errors are shown with their line before anything is encrypted; valid content of each format
comes back exactly — by Copy and by "Download as file" — while the reveal page shows it
readably (JSON re-indented).
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import func, select

from core.db.models import Secret
from tests.e2e.conftest import BrowserStack
from tests.e2e.test_share_text import open_as, sign_in_at_idp

pytestmark = pytest.mark.browser

INVALID = {
    "json": ('{\n  "host": "db.internal",\n  "port": 5432,,\n  "user": "app"\n}\n',
             [r"^Expected a property name at line 3, column 16$"]),
    "yaml": ("database:\n  host: db.internal\n  port: [5432\nuser: app\n",
             [r"at line 4, column 1$"]),
    "env": ("# prod\nDB_HOST=db.internal\nexport DB_PORT=5432\nDB_HOST=other\nthis line is wrong\n",
            [r"^Line 4: duplicate key DB_HOST \(first on line 2\)$",
             r"^Line 5: expected KEY=value$"]),
}

# Tabs, trailing spaces, Unicode, no final newline: what comes back must be byte for byte this.
VALID = {
    "json": ('{"db":{"host":"db.internal","port":5432},"note":"clé ✓","tags":["a","b"]}', "Prod DB",
             "Prod DB.json"),
    "yaml": ("# deploy keys\ndefaults: &defaults\n  region: eu-west-1\nprod:\n  <<: *defaults\n"
             "  token: \"s3cr3t\\tx\"   \n", "deploy.yml", "deploy.yml"),
    "env": ("# from .env\n\nexport API_KEY=sk_live_4f9a1c\nDB_URL='postgres://app:pä ss@db/prod'\n"
            "EMPTY=\n", "", "secret.env"),
}


def new_secret_page(context: BrowserContext, base_url: str) -> Page:
    page = context.new_page()
    page.goto(base_url + "/new")
    sign_in_at_idp(page, "alice@example.com")
    expect(page).to_have_url(base_url + "/new")
    page.locator("#recipient-input").fill("bob@example.com")
    page.locator("#recipient-input").press("Enter")
    return page


def test_format_errors_are_shown_with_their_line(browser_stack: BrowserStack) -> None:
    page = new_secret_page(browser_stack.person(), browser_stack.stack.base_url)
    for format_name, (content, expected) in INVALID.items():
        page.locator("#format").select_option(format_name)
        page.locator("#content").fill(content)
        page.get_by_role("button", name="Share secret").click()
        errors = page.locator("#format-errors li")
        expect(errors).to_have_count(len(expected))
        for item, pattern in zip(errors.all(), expected, strict=True):
            expect(item).to_have_text(re.compile(pattern))
        expect(page.locator("#form-error")).to_contain_text("Fix the errors shown")
    # Nothing was created, let alone encrypted or uploaded.
    with browser_stack.stack.services.db() as session:
        assert session.scalar(select(func.count()).select_from(Secret)) == 0
    # Fixing the content clears the errors as it is typed.
    page.locator("#content").fill("A=1\n")
    expect(page.locator("#format-errors")).to_be_hidden()
    assert browser_stack.page_errors == []


def test_each_format_round_trips_exactly(browser_stack: BrowserStack) -> None:
    base_url = browser_stack.stack.base_url
    creator, colleague = browser_stack.person(), browser_stack.person()
    page = new_secret_page(creator, base_url)
    links = {}
    for format_name, (content, label, _) in VALID.items():
        page.locator("#format").select_option(format_name)
        page.locator("#content").fill(content)
        page.locator("#label").fill(label)
        page.get_by_role("button", name="Share secret").click()
        expect(page.locator("#result")).to_be_visible()
        links[format_name] = page.locator("#share-url").input_value()
        page.goto(base_url + "/new")
        page.locator("#recipient-input").fill("bob@example.com")
        page.locator("#recipient-input").press("Enter")

    reader = open_as(colleague, links["json"], "bob@example.com")
    for format_name, (content, _, file_name) in VALID.items():
        reader.goto(links[format_name])
        reader.get_by_role("button", name="Reveal content").click()
        shown = reader.locator("#secret-text")
        expect(shown).to_be_visible()
        expect(reader.locator("#secret-format")).to_have_text(
            {"json": "JSON", "yaml": "YAML", "env": "Env"}[format_name])
        if format_name == "json":
            assert shown.input_value() == json.dumps(json.loads(content), indent=2,
                                                     ensure_ascii=False)
        else:
            assert shown.input_value() == content
        assert shown.evaluate("box => getComputedStyle(box).fontFamily").startswith("ui-monospace")

        reader.get_by_role("button", name="Copy").click()
        expect(reader.locator("#copy-status")).to_have_text("Copied to the clipboard.")
        assert reader.evaluate("navigator.clipboard.readText()") == content

        with reader.expect_download() as started:
            reader.get_by_role("button", name="Download as file").click()
        download = started.value
        assert download.suggested_filename == file_name
        assert download.path().read_bytes() == content.encode()
    assert browser_stack.page_errors == []
