"""Every page, as everyone who meets it, on a phone (390 px) and a desktop (1280 px): nothing
scrolls sideways, and axe-core finds no serious or critical violation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, FilePayload, Page, expect

from tests.e2e.conftest import BrowserStack
from tests.e2e.test_admin_console import ADMIN, signed_in
from tests.e2e.test_external_share import GUEST, ask_for_link
from tests.e2e.test_share_text import create_secret, open_as
from tests.support.page_checks import PageProblem, check_page
from tests.support.smtp import links_in

pytestmark = pytest.mark.browser


@pytest.fixture
def stack_options() -> dict[str, object]:
    return {"super_admin_emails": (ADMIN,)}


def visit(context: BrowserContext, url: str) -> Page:
    page = context.new_page()
    page.goto(url)
    return page


def share_externally(creator: BrowserContext, base_url: str) -> str:
    """As the signed-in creator: share a text with GUEST, outside the organization."""
    page = visit(creator, base_url + "/new")
    page.get_by_label("External recipients").check()
    page.locator("#recipient-input").fill(GUEST)
    page.locator("#recipient-input").press("Enter")
    page.locator("#content").fill("partner password")
    page.get_by_role("button", name="Share secret").click()
    expect(page.locator("#result")).to_be_visible()
    return page.locator("#share-url").input_value()


def test_every_page_fits_a_phone_and_passes_axe(browser_stack: BrowserStack) -> None:
    stack = browser_stack.stack
    base_url = stack.base_url
    problems: list[PageProblem] = []
    creator, colleague, outsider, visitor, guest, admin_context = (
        browser_stack.person() for _ in range(6))

    # The creator: home, the create form, the share result, their list and a secret's page.
    share_url = create_secret(creator, base_url)
    [result] = [page for page in creator.pages if page.url.endswith("/new")]
    problems += check_page(result, "share result")
    problems += check_page(visit(creator, base_url + "/new"), "create form")
    problems += check_page(visit(creator, base_url + "/"), "home, signed in")
    secrets_page = visit(creator, base_url + "/secrets")
    problems += check_page(secrets_page, "my secrets")
    secrets_page.locator("table a").first.click()
    expect(secrets_page).to_have_url(re.compile(r"/secrets/[0-9a-f-]+$"))
    problems += check_page(secrets_page, "a secret's page")
    secrets_page.get_by_role("button", name="Revoke").click()
    expect(secrets_page.get_by_role("dialog")).to_be_visible()
    problems += check_page(secrets_page, "revoke confirmation")
    secrets_page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    tokens_page = visit(creator, base_url + "/tokens")
    problems += check_page(tokens_page, "API tokens")
    tokens_page.locator("#token-name").fill("laptop CLI")
    tokens_page.get_by_label("secrets:write", exact=False).first.check()
    tokens_page.get_by_role("button", name="Create token").click()
    expect(tokens_page.locator("#token-value")).to_have_value(re.compile("^cipherslip_pat_"))
    problems += check_page(tokens_page, "a new API token, shown once")

    # Signed out: home, a share link's sign-in page, a missing secret, the magic link landing.
    problems += check_page(visit(visitor, base_url + "/"), "home, signed out")
    problems += check_page(visit(visitor, share_url), "share sign-in")
    problems += check_page(visit(visitor, base_url + "/s/ZZZZ-ZZZZ-ZZZZ"), "missing secret")
    problems += check_page(visit(visitor, base_url + "/verify"), "magic link landing")

    # The recipient before and after the reveal, and once it burned; an outsider is denied.
    share = open_as(colleague, share_url, "bob@example.com")
    expires = share.locator("time.when")
    expect(expires).to_have_text("in 23 hours")  # shared for a day, moments ago
    exact = re.compile(r"\(your time\) · \d{4}-\d\d-\d\d \d\d:\d\d UTC$")
    expect(expires).to_have_attribute("title", exact)
    problems += check_page(share, "share page")
    share.get_by_role("button", name="Reveal content").click()
    expect(share.locator("#revealed")).to_be_visible()
    problems += check_page(share, "revealed text")
    share.reload()
    expect(share.locator("#share-status")).to_have_text("Burned")
    problems += check_page(share, "ended secret")
    problems += check_page(open_as(outsider, share_url, "carol@example.com"), "access denied")
    problems += check_page(visit(outsider, base_url + "/admin"), "admin, refused")

    # An external recipient: the email form, then the share page after confirming.
    external_url = share_externally(creator, base_url)
    asked = ask_for_link(guest, external_url, GUEST)
    problems += check_page(asked, "external sign-in, link sent")
    [message] = stack.smtp.mail.wait_for(1)
    [magic_link] = links_in(message)
    confirm = visit(guest, magic_link)
    problems += check_page(confirm, "confirm it's you")
    confirm.get_by_role("button", name="Continue").click()
    expect(confirm.locator("#reveal-panel")).to_be_visible()
    problems += check_page(confirm, "external share page")

    # A file: the form with one chosen, then the recipient's download.
    file_form = visit(creator, base_url + "/new")
    file_form.locator("#recipient-input").fill("bob@example.com,")
    file_form.locator("#format").select_option("file")
    file_form.locator("#file").set_input_files(files=[FilePayload(
        name="deploy-key.pem", mimeType="application/x-pem-file",
        buffer=b"-----BEGIN KEY-----\n" + b"k" * 4000 + b"\n-----END KEY-----\n")])
    problems += check_page(file_form, "create form with a file")
    file_form.get_by_role("button", name="Share secret").click()
    expect(file_form.locator("#result")).to_be_visible()
    file_share = visit(colleague, file_form.locator("#share-url").input_value())
    with file_share.expect_download():
        file_share.get_by_role("button", name="Download file").click()
    expect(file_share.locator("#revealed-file")).to_be_visible()
    expect(file_share.locator("#download-status")).to_contain_text("Saved")
    problems += check_page(file_share, "downloaded file")
    problems += check_page(visit(colleague, base_url + "/download/expired-link"),
                           "download link that no longer works")

    # The super admin's console.
    console = signed_in(admin_context, base_url, ADMIN, "/admin")
    problems += check_page(console, "admin secrets")
    problems += check_page(visit(admin_context, base_url + "/admin/audit"), "admin audit")
    problems += check_page(visit(admin_context, base_url + "/admin/tokens"), "admin API tokens")
    console.locator("#admin-secrets a", has_text="View").first.click()
    expect(console.locator("#secret-metadata")).to_be_visible()
    problems += check_page(console, "admin secret")

    assert not problems, "\n".join(map(str, problems))
    assert browser_stack.page_errors == []
