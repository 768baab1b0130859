"""Issue acceptance (external recipients): the creator shares with an external email; the
recipient, in a fresh browser profile, asks for a sign-in link, opens it from the captured
mail, confirms and sees the exact text; a third address gets nothing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import BrowserStack
from tests.e2e.test_share_text import sign_in_at_idp
from tests.support.smtp import links_in

pytestmark = pytest.mark.browser

SECRET_TEXT = "vpn.partner.example\nuser: partner-ops\npassword: Tr0ub4dor&3 — ünïcode ✓"
GUEST = "ops@partner.test"


def share_externally(creator: BrowserContext, base_url: str) -> str:
    page = creator.new_page()
    page.goto(base_url + "/new")
    sign_in_at_idp(page, "alice@example.com")
    page.get_by_label("External recipients").check()
    expect(page.locator("#recipients-hint")).to_contain_text("Up to 64 email addresses")
    page.locator("#recipient-input").fill(GUEST)
    page.locator("#recipient-input").press("Enter")
    page.locator("#content").fill(SECRET_TEXT)
    page.locator("#label").fill("Partner VPN")
    page.get_by_role("button", name="Share secret").click()
    expect(page.locator("#result")).to_be_visible()
    return page.locator("#share-url").input_value()


def ask_for_link(context: BrowserContext, share_url: str, email: str) -> Page:
    page = context.new_page()
    page.goto(share_url)
    expect(page.locator("h1")).to_have_text(re.compile(r" at .+ shared a secret with you$"))
    page.locator("#magic-email").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.locator("#magic-link-status")).to_contain_text("a sign-in link is on its way")
    return page


def test_external_recipient_confirms_by_email_and_reveals(browser_stack: BrowserStack) -> None:
    base_url = browser_stack.stack.base_url
    mail = browser_stack.stack.smtp.mail
    creator, recipient, stranger = (browser_stack.person() for _ in range(3))
    share_url = share_externally(creator, base_url)

    original_tab = ask_for_link(recipient, share_url, GUEST)
    [message] = mail.wait_for(1)
    assert message["To"] == GUEST
    [magic_link] = links_in(message)

    # Mail clients open links in a new tab: the key comes over from the original tab.
    confirm_tab = recipient.new_page()
    confirm_tab.goto(magic_link)
    expect(confirm_tab.locator("h1")).to_have_text("Confirm it's you")
    assert "#" not in confirm_tab.url  # the token left the address bar
    confirm_tab.get_by_role("button", name="Continue").click()
    expect(confirm_tab).to_have_url(re.compile(r"/s/[0-9A-Z-]{14}$"))
    expect(confirm_tab.locator("#share-label")).to_have_text("Partner VPN")
    expect(confirm_tab.locator(".who")).to_have_text(GUEST)
    confirm_tab.get_by_role("button", name="Reveal content").click()
    expect(confirm_tab.locator("#revealed")).to_be_visible()
    assert confirm_tab.locator("#secret-text").input_value() == SECRET_TEXT
    original_tab.close()

    # A third address is refused: the same answer on screen, but no mail and no access.
    ask_for_link(stranger, share_url, "someone@elsewhere.test")
    refused = stranger.new_page()
    refused.goto(share_url)
    expect(refused.locator("#magic-link-form")).to_be_visible()
    assert [m["To"] for m in mail.messages] == [GUEST]
    assert browser_stack.page_errors == []


def test_link_opened_in_the_same_tab_keeps_the_key(browser_stack: BrowserStack) -> None:
    creator, recipient = browser_stack.person(), browser_stack.person()
    share_url = share_externally(creator, browser_stack.stack.base_url)
    tab = ask_for_link(recipient, share_url, GUEST)
    [magic_link] = links_in(browser_stack.stack.smtp.mail.wait_for(1)[0])
    tab.goto(magic_link)
    tab.get_by_role("button", name="Continue").click()
    tab.get_by_role("button", name="Reveal content").click()
    expect(tab.locator("#revealed")).to_be_visible()
    assert tab.locator("#secret-text").input_value() == SECRET_TEXT


def test_used_link_shows_why_it_fails(browser_stack: BrowserStack) -> None:
    creator, recipient = browser_stack.person(), browser_stack.person()
    share_url = share_externally(creator, browser_stack.stack.base_url)
    tab = ask_for_link(recipient, share_url, GUEST)
    [magic_link] = links_in(browser_stack.stack.smtp.mail.wait_for(1)[0])
    tab.goto(magic_link)
    tab.get_by_role("button", name="Continue").click()
    expect(tab.get_by_role("button", name="Reveal content")).to_be_visible()
    again = browser_stack.person().new_page()
    again.goto(magic_link)
    again.get_by_role("button", name="Continue").click()
    expect(again.locator("#verify-error")).to_contain_text("already used")


def test_an_outsider_under_team_members_is_flagged_as_typed_with_a_switch(
    browser_stack: BrowserStack,
) -> None:
    page = browser_stack.person().new_page()
    page.goto(browser_stack.stack.base_url + "/new")
    sign_in_at_idp(page, "alice@example.com")
    expect(page).to_have_url(browser_stack.stack.base_url + "/new")
    page.wait_for_load_state()  # the page script listens for typing once it has run
    expect(page.get_by_label("Team members")).to_be_checked()
    page.locator("#recipient-input").fill("bob@example.com, partner@outside.test,")
    outsider = page.locator("#recipient-list li", has_text="partner@outside.test")
    expect(outsider).to_contain_text("outside your organization")
    expect(page.locator("#recipient-list li", has_text="bob@example.com")).not_to_contain_text(
        "outside")
    page.get_by_role("button", name="Share secret").click()  # refused before anything is sent
    expect(page.locator("#form-error")).to_contain_text("Outside your organization: "
                                                         "partner@outside.test")
    outsider.get_by_role("button", name="Share externally instead").click()
    expect(page.get_by_label("External recipients")).to_be_checked()
    expect(outsider).not_to_contain_text("outside your organization")
    assert browser_stack.page_errors == []
