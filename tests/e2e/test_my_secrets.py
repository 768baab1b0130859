"""The creator's pages in a real browser, including the HTML forms (revoke, sign out), which
post with `Origin: null` under our Referrer-Policy."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import BrowserStack
from tests.e2e.test_share_text import create_secret

pytestmark = pytest.mark.browser


def test_creator_lists_inspects_revokes_and_signs_out(browser_stack: BrowserStack) -> None:
    base_url = browser_stack.stack.base_url
    creator = browser_stack.person()
    create_secret(creator, base_url)
    page = creator.pages[0]
    page.get_by_role("navigation").get_by_role("link", name="My secrets").click()
    row = page.locator("#secrets-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("0 / 1")
    row.get_by_role("link").click()
    expect(page.locator("#secret-status")).to_have_text("Active")
    expect(page.locator("#activity-list")).to_contain_text("Shared by alice@example.com")
    page.get_by_role("button", name="Revoke").click()
    dialog = page.get_by_role("dialog", name="Revoke this secret?")
    expect(dialog).to_contain_text("cannot be undone")
    dialog.get_by_role("button", name="Cancel").click()  # changes nothing
    expect(dialog).to_be_hidden()
    expect(page.locator("#secret-status")).to_have_text("Active")
    page.get_by_role("button", name="Revoke").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(page.locator("#secret-status")).to_have_text("Revoked")
    expect(page.locator("#activity-list li").first).to_contain_text(
        "Revoked by alice@example.com")
    page.get_by_role("navigation").get_by_role("link", name="My secrets").click()
    expect(page.locator("main")).to_contain_text("No active secrets")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in with SSO")).to_be_visible()
    assert browser_stack.page_errors == []
