"""Issue acceptance: share a text secret in Chromium and reveal it as a colleague.

Creator signs in through the OpenID provider, creates a text secret for a colleague with a
view limit of 1 and copies the URL; the colleague (another browser profile) signs in and sees
the exact text; a third user is denied; a second reveal shows "Burned". Afterwards neither the
plaintext nor the link key is anywhere in the database file, the blob directory or the logs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cipherslip_crypto.encoding import b64url_decode
from playwright.sync_api import BrowserContext, Page, Request, expect

from tests.e2e.conftest import BrowserStack
from tests.support.browser import wait_until
from tests.support.idp import register_verified

pytestmark = pytest.mark.browser

SECRET_TEXT = "postgres://app:S3cr3t-ñ-🔑@db.internal:5432/prod\nAPI_KEY=sk_live_4f9a1c\n"
LABEL = "Prod database for the migration"


def sign_in_at_idp(page: Page, email: str) -> None:
    register_verified(page.url, email)
    page.locator("input[name=sub]").fill(email)
    page.get_by_role("button", name="Authorize").click()


def create_secret(creator: BrowserContext, base_url: str) -> str:
    page = creator.new_page()
    page.goto(base_url + "/")
    page.get_by_role("link", name=re.compile("Sign in")).click()
    sign_in_at_idp(page, "alice@example.com")
    expect(page).to_have_url(base_url + "/new")
    page.locator("#recipient-input").fill("bob@example.com")
    page.locator("#recipient-input").press("Enter")
    expect(page.locator("#recipient-list li span")).to_have_text(["bob@example.com"])
    page.locator("#content").fill(SECRET_TEXT)
    page.locator("#label").fill(LABEL)
    page.locator("#expiry").select_option(label="1 day")
    expect(page.locator("#view-limit")).to_have_value("1")
    page.get_by_role("button", name="Share secret").click()
    expect(page.locator("#result")).to_be_visible()
    share_url = page.locator("#share-url").input_value()
    summary = page.locator("#result-summary")
    expect(summary).to_contain_text("bob@example.com (they sign in with SSO)")
    expect(summary).to_contain_text("in 23 hours")
    expect(summary).to_contain_text("1 view, then it is destroyed")
    expect(page.locator("#result")).to_contain_text("Cipherslip does not send this link")
    # The whole link is on screen, not cut off.
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        wait_until(page, """() => {
            const box = document.querySelector("#share-url");
            return box.scrollHeight <= box.clientHeight && box.scrollWidth <= box.clientWidth;
        }""", what="the whole link shows")
    page.get_by_role("button", name="Copy link").click()
    expect(page.locator("#copy-status")).to_have_text("Copied to the clipboard.")
    expect(page.get_by_role("button", name="Copied ✓")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == share_url
    # The plaintext left the form once it was shared.
    assert page.locator("#content").input_value() == ""
    return share_url


def open_as(context: BrowserContext, share_url: str, email: str, *,
            heading: str = "Someone shared a secret with you") -> Page:
    """Open a link signed out, check the visitor page's heading, sign in as ``email``."""
    page = context.new_page()
    page.goto(share_url)
    expect(page.locator("h1")).to_have_text(heading)
    page.get_by_role("link", name=re.compile("Sign in")).click()
    sign_in_at_idp(page, email)
    return page


def test_share_reveal_deny_burn_and_leave_no_trace(browser_stack: BrowserStack) -> None:
    base_url = browser_stack.stack.base_url
    requests: list[Request] = []
    people = [browser_stack.person() for _ in range(3)]
    for context in people:
        # A bound builtin cannot be a Playwright handler (it sets attributes on handlers).
        context.on("request", lambda request: requests.append(request))  # noqa: PLW0108
    creator, colleague, outsider = people

    share_url = create_secret(creator, base_url)
    share_code = re.fullmatch(rf"{re.escape(base_url)}/s/([0-9A-Z-]{{14}})#([A-Za-z0-9_-]{{43}})",
                              share_url)
    assert share_code, share_url
    link_key_text = share_code.group(2)
    # While the secret is live its ciphertext is on disk, and still no trace of either.
    assert list(Path(browser_stack.data_dir, "blobs").rglob("*.csl1"))
    assert_no_trace(browser_stack, SECRET_TEXT, link_key_text)

    page = open_as(colleague, share_url, "bob@example.com")
    expect(page).to_have_url(f"{base_url}/s/{share_code.group(1)}")
    expect(page.locator("#share-label")).to_have_text(LABEL)
    expect(page.locator("#views-left")).to_have_text("1")
    page.get_by_role("button", name="Reveal content").click()
    expect(page.locator("#revealed")).to_be_visible()
    assert page.locator("#secret-text").input_value() == SECRET_TEXT
    expect(page.locator("#burn-notice")).to_contain_text("Copy it now — this was the last view")
    expect(page.locator("#views-left")).to_have_text("0")

    denied = open_as(outsider, share_url, "carol@example.com")
    expect(denied.locator("#share-status")).to_have_text("Access denied")
    # Opened again with the key while signed in: the denied page drops it from the URL too.
    denied.goto(share_url)
    expect(denied.locator("#share-status")).to_have_text("Access denied")
    expect(denied).to_have_url(share_url.split("#")[0])

    page.reload()
    expect(page.locator("#share-status")).to_have_text("Burned")
    again = colleague.new_page()
    again.goto(share_url)
    expect(again.locator("#share-status")).to_have_text("Burned")

    assert browser_stack.page_errors == []
    # The browser never sent the link key anywhere (fragments stay in the browser).
    for request in requests:
        assert link_key_text not in request.url
        assert link_key_text not in (request.post_data or "")
    assert_no_trace(browser_stack, SECRET_TEXT, link_key_text)


def assert_no_trace(browser_stack: BrowserStack, plaintext: str, link_key_text: str) -> None:
    link_key = b64url_decode(link_key_text)
    needles = {
        "plaintext": plaintext.encode(),
        "plaintext line": plaintext.splitlines()[1].encode(),
        "link key (base64url)": link_key_text.encode(),
        "link key (raw)": link_key,
        "link key (hex)": link_key.hex().encode(),
    }
    haystacks: dict[str, bytes] = {}
    for path in sorted(Path(browser_stack.data_dir).rglob("*")):
        if path.is_file():
            haystacks[str(path)] = path.read_bytes()
    assert any(name.endswith("cipherslip.db") for name in haystacks)
    haystacks["captured logs"] = browser_stack.logs.text().encode()
    assert len(browser_stack.logs.lines) > 20  # the capture really saw the run
    for where, content in haystacks.items():
        for what, needle in needles.items():
            assert needle not in content, f"{what} found in {where}"


def test_link_without_its_key_uses_no_view(browser_stack: BrowserStack) -> None:
    base_url = browser_stack.stack.base_url
    creator, colleague = browser_stack.person(), browser_stack.person()
    share_url = create_secret(creator, base_url)
    page = open_as(colleague, share_url.split("#")[0], "bob@example.com")
    expect(page.locator("#key-missing")).to_be_visible()
    expect(page.get_by_role("button", name="Reveal content")).to_be_hidden()
    page.goto(share_url.split("#")[0] + "#truncated-key")
    page.reload()
    expect(page.locator("#views-left")).to_have_text("1")
    assert browser_stack.page_errors == []


def test_the_reveal_button_waits_for_the_page_script(browser_stack: BrowserStack) -> None:
    """A click before the script listens (a slow phone, a busy CI machine) must not vanish:
    until the script has checked the link, the button is not offered."""
    base_url = browser_stack.stack.base_url
    share_url = create_secret(browser_stack.person(), base_url)
    colleague = browser_stack.person()
    colleague.route("**/static/dist/reveal.js", lambda route: route.abort())
    page = open_as(colleague, share_url, "bob@example.com")
    expect(page.get_by_role("button", name="Reveal content")).to_be_disabled()
    colleague.unroute("**/static/dist/reveal.js")
    page.reload()
    expect(page.get_by_role("button", name="Reveal content")).to_be_enabled()


def test_a_damaged_link_says_so_and_uses_no_view_then_the_whole_link_reveals(
    browser_stack: BrowserStack,
) -> None:
    base_url = browser_stack.stack.base_url
    creator, colleague = browser_stack.person(), browser_stack.person()
    share_url = create_secret(creator, base_url)
    address, _, key_text = share_url.partition("#")
    changed = "A" if key_text[10] != "A" else "B"
    one_character_changed = f"{address}#{key_text[:10]}{changed}{key_text[11:]}"
    half_the_key = f"{address}#{key_text[:len(key_text) // 2]}"

    page = open_as(colleague, one_character_changed, "bob@example.com")
    for damaged in (one_character_changed, half_the_key):
        page.goto(damaged)
        page.reload()
        warning = page.locator("#key-missing")
        expect(warning).to_be_visible()
        expect(warning).to_contain_text("damaged or incomplete")
        expect(warning).to_contain_text("No view was used")
        expect(page.get_by_role("button", name="Reveal content")).to_be_hidden()
        expect(page.locator("#views-left")).to_have_text("1")  # as the server counts them

    page.goto(share_url)
    page.reload()
    page.get_by_role("button", name="Reveal content").click()
    expect(page.locator("#revealed")).to_be_visible()
    assert page.locator("#secret-text").input_value() == SECRET_TEXT
    assert browser_stack.page_errors == []
