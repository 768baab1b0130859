"""Asking for a secret in Chromium: alice asks bob on /requests/new, bob answers on the
request's page in his own browser (text, then a file for a second request), alice opens the
same request URL and gets the exact text and the exact file; carol is refused; a second
answer is refused; a damaged request link is caught before anything is encrypted; neither
the content nor the request's key is anywhere on the server."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from cipherslip_crypto.encoding import b64url_decode
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import BrowserStack
from tests.e2e.test_cli_browser import assert_nowhere
from tests.e2e.test_share_text import open_as, sign_in_at_idp
from tests.support.page_checks import PageProblem, check_page
from tests.support.smtp import links_in

pytestmark = pytest.mark.browser
ANSWER = "postgres://app:Ans-w3r-✓@db.internal/prod\n"


def ask(person: BrowserContext, base_url: str, problems: list[PageProblem], *,
        expected_format: str = "", signed_in: bool = False) -> str:
    """Ask bob on /requests/new; the pages' layout and accessibility go into ``problems``."""
    page = person.new_page()
    page.goto(base_url + "/requests/new")
    if not signed_in:
        sign_in_at_idp(page, "alice@example.com")
    expect(page).to_have_url(base_url + "/requests/new")
    page.locator("#recipient-input").fill("bob@example.com")
    page.locator("#recipient-input").press("Enter")
    page.locator("#instructions").fill("The prod database URL, please")
    page.locator("#expected-format").select_option(expected_format)
    problems.extend(check_page(page, "ask form"))
    page.get_by_role("button", name="Create request").click()
    expect(page.locator("#result")).to_be_visible()
    problems.extend(check_page(page, "request link"))
    url = page.locator("#request-url").input_value()
    assert re.fullmatch(rf"{re.escape(base_url)}/r/[0-9A-Z-]{{14}}#[A-Za-z0-9_-]{{43}}", url), url
    return url


def open_signed_in(person: BrowserContext, url: str, email: str) -> Page:
    return open_as(person, url, email, heading="Someone asked you for a secret")


def test_ask_answer_and_read_in_three_browsers(browser_stack: BrowserStack,
                                               tmp_path: Path) -> None:
    base_url = browser_stack.stack.base_url
    alice, bob, carol = (browser_stack.person() for _ in range(3))
    problems: list[PageProblem] = []  # layout and accessibility, gathered along the flow
    request_url = ask(alice, base_url, problems)
    code = request_url.split("/r/")[1].split("#")[0]

    # A damaged link: caught before anything is encrypted (no form at all).
    damaged = open_signed_in(bob, request_url[:-6] + "AAAAAA", "bob@example.com")
    expect(damaged.locator("#answer-key-missing")).to_be_visible()
    expect(damaged.locator("#answer-form")).to_be_hidden()

    page = bob.new_page()
    page.goto(request_url)
    expect(page.locator("h1")).to_contain_text("asks you for a secret")
    expect(page.locator("#request-label")).to_have_text("The prod database URL, please")
    problems.extend(check_page(page, "answer form"))
    page.locator("#content").fill(ANSWER)
    page.get_by_role("button", name="Send answer").click()
    expect(page.locator("#answer-sent")).to_be_visible()
    page.reload()
    expect(page.locator("#request-closed")).to_contain_text("fulfilled")  # answered once

    denied = open_signed_in(carol, request_url, "carol@example.com")
    expect(denied.locator("h1")).to_have_text("This request is not for you")

    reader = alice.new_page()
    reader.goto(request_url)
    expect(reader.locator("#answered-by")).to_have_text("bob@example.com")
    reader.get_by_role("button", name="Reveal content").click()
    expect(reader.locator("#revealed")).to_be_visible()
    assert reader.locator("#secret-text").input_value() == ANSWER
    problems.extend(check_page(reader, "the answer, revealed"))

    # A file, answered to a second request that asks for one.
    file_request = ask(alice, base_url, [], expected_format="file", signed_in=True)
    original = tmp_path / "dump ✓.sql.gz"
    original.write_bytes(bytes(range(256)) * 40_000 + b"end")
    answer_page = bob.new_page()
    answer_page.goto(file_request)
    answer_page.locator("#file").set_input_files(original)
    answer_page.get_by_role("button", name="Send answer").click()
    expect(answer_page.locator("#answer-sent")).to_be_visible(timeout=60_000)
    file_reader = alice.new_page()
    file_reader.goto(file_request)
    with file_reader.expect_download(timeout=60_000) as started:
        file_reader.get_by_role("button", name="Download file").click()
    download = started.value
    assert download.suggested_filename == "dump ✓.sql.gz"
    assert hashlib.sha256(download.path().read_bytes()).hexdigest() == hashlib.sha256(
        original.read_bytes()).hexdigest()

    listing = alice.new_page()
    listing.goto(base_url + "/requests")
    expect(listing.locator(f'tr[data-request-code="{code}"]')).to_contain_text("Fulfilled")
    problems.extend(check_page(listing, "my requests"))
    assert problems == []
    assert browser_stack.page_errors == []
    key_text = request_url.split("#")[1]
    assert_nowhere(browser_stack, {"answer": ANSWER.encode(), "request key": key_text.encode(),
                                   "request key (raw)": b64url_decode(key_text)})


def test_an_external_responder_answers_through_the_emailed_link(
        browser_stack: BrowserStack) -> None:
    base_url = browser_stack.stack.base_url
    alice, vendor = browser_stack.person(), browser_stack.person()
    page = alice.new_page()
    page.goto(base_url + "/requests/new")
    sign_in_at_idp(page, "alice@example.com")
    page.get_by_label("External addresses").check()
    page.locator("#recipient-input").fill("vendor@partner.test")
    page.locator("#recipient-input").press("Enter")
    page.locator("#instructions").fill("The VPN pre-shared key")
    page.get_by_role("button", name="Create request").click()
    expect(page.locator("#result")).to_be_visible()
    request_url = page.locator("#request-url").input_value()

    landing = vendor.new_page()
    landing.goto(request_url)
    expect(landing.locator("h1")).to_contain_text("asks you for a secret")
    assert check_page(landing, "external sign-in for a request") == []
    landing.locator("#magic-email").fill("vendor@partner.test")
    landing.get_by_role("button", name="Email me a sign-in link").click()
    expect(landing.locator("#magic-link-status")).to_contain_text("a sign-in link is on its way")
    [mail] = browser_stack.stack.smtp.mail.wait_for(1)
    [magic_link] = links_in(mail)
    # The email's link opens in a new tab, which has no key: the first tab hands it over.
    confirm = vendor.new_page()
    confirm.goto(magic_link)
    confirm.get_by_role("button", name="Continue").click()
    expect(confirm.locator("#request-label")).to_have_text("The VPN pre-shared key")
    confirm.locator("#content").fill("psk-0f9e8d7c")
    confirm.get_by_role("button", name="Send answer").click()
    expect(confirm.locator("#answer-sent")).to_be_visible()

    reader = alice.new_page()
    reader.goto(request_url)
    expect(reader.locator("#answered-by")).to_have_text("vendor@partner.test")
    reader.get_by_role("button", name="Reveal content").click()
    expect(reader.locator("#revealed")).to_be_visible()
    assert reader.locator("#secret-text").input_value() == "psk-0f9e8d7c"
    assert browser_stack.page_errors == []
