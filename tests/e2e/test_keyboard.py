"""Create and reveal with the keyboard alone, every focused control visibly marked."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import BrowserStack
from tests.e2e.test_share_text import sign_in_at_idp

pytestmark = pytest.mark.browser

TEXT = "keyboard-only: s3cr3t ✓"
MAX_TABS = 60


def tab_to(page: Page, selector: str) -> None:
    """Press Tab until ``selector`` has the focus, checking each stop shows where it is."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = page.evaluate("""() => {
            const element = document.activeElement;
            const style = getComputedStyle(element);
            return { html: element.outerHTML.slice(0, 80),
                     visible: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0 };
        }""")
        assert focused["visible"], f"no visible focus on {focused['html']}"
        if page.evaluate("(selector) => document.activeElement.matches(selector)", selector):
            return
    raise AssertionError(f"{selector} never got the focus after {MAX_TABS} presses of Tab")


def test_create_and_reveal_with_the_keyboard_alone(browser_stack: BrowserStack) -> None:
    base_url = browser_stack.stack.base_url
    creator = browser_stack.person().new_page()
    creator.goto(base_url + "/new")
    sign_in_at_idp(creator, "alice@example.com")
    expect(creator).to_have_url(base_url + "/new")
    creator.wait_for_load_state()

    tab_to(creator, "#recipient-input")
    creator.keyboard.type("bob@example.com")
    creator.keyboard.press("Enter")
    expect(creator.locator("#recipient-list li")).to_have_count(1)
    tab_to(creator, "#content")
    creator.keyboard.type(TEXT)
    tab_to(creator, "#share-button")
    creator.keyboard.press("Enter")
    expect(creator.locator("#result")).to_be_visible()
    expect(creator.locator("#result-title")).to_be_focused()  # told where the result is
    share_url = creator.locator("#share-url").input_value()
    tab_to(creator, "#copy-url")
    creator.keyboard.press("Enter")
    expect(creator.locator("#copy-status")).to_have_text("Copied to the clipboard.")

    recipient = browser_stack.person().new_page()
    recipient.goto(share_url)
    tab_to(recipient, "#signin-link")
    recipient.keyboard.press("Enter")
    recipient.wait_for_selector("input[name=sub]")  # at the identity provider
    sign_in_at_idp(recipient, "bob@example.com")
    expect(recipient).to_have_url(re.compile(r"/s/[0-9A-Z-]{14}$"))
    recipient.wait_for_load_state()
    expect(recipient.get_by_role("button", name="Reveal content")).to_be_enabled()
    tab_to(recipient, "#reveal-button")
    recipient.keyboard.press("Enter")
    expect(recipient.locator("#secret-text")).to_have_value(TEXT)
    tab_to(recipient, "#copy-secret")
    recipient.keyboard.press("Enter")
    expect(recipient.locator("#copy-status")).to_have_text("Copied to the clipboard.")
    assert browser_stack.page_errors == []
