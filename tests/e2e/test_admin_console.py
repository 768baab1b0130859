"""Issue acceptance (admin console): a super admin filters the audit log by actor email,
opens a secret's JSON metadata and revokes it; a basic user is refused."""

from __future__ import annotations

import json

import pytest
from cipherslip_crypto.encoding import b64url_encode
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from core.db.models import Secret
from tests.e2e.conftest import BrowserStack
from tests.e2e.test_share_text import sign_in_at_idp

pytestmark = pytest.mark.browser
ADMIN = "root@example.com"


@pytest.fixture
def stack_options() -> dict[str, object]:
    return {"super_admin_emails": (ADMIN,)}


def signed_in(context: BrowserContext, base_url: str, email: str, path: str) -> Page:
    page = context.new_page()
    page.goto(base_url + path)
    sign_in_at_idp(page, email)
    return page


def test_super_admin_filters_inspects_and_revokes(browser_stack: BrowserStack) -> None:
    stack = browser_stack.stack
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    link = alice.create_text("db password", ["bob@example.com"], label="Prod DB", view_limit=3)
    alice.create_text("other", ["carol@example.com"], label="Other")
    bob.reveal(link)
    with stack.services.db() as session:
        wrapped_key = session.scalar(select(Secret.wrapped_key).where(Secret.id == link.secret_id))
    assert wrapped_key is not None

    admin = signed_in(browser_stack.person(), stack.base_url, ADMIN, "/admin/audit")
    expect(admin.get_by_role("link", name="Admin")).to_be_visible()
    admin.get_by_label("Actor email").fill("bob@example.com")
    admin.get_by_role("button", name="Apply").click()
    rows = admin.locator("#audit-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("paper_secret_opened_internal")
    expect(rows.first).to_contain_text("bob@example.com")

    admin.get_by_label("Actor email").fill("")
    admin.locator("#audit-filter").fill('activity_name = "paper_secret_created" AND')
    admin.get_by_role("button", name="Apply").click()
    expect(admin.locator("#filter-error")).to_contain_text("expected a field name")

    admin.get_by_role("link", name="Secrets", exact=True).click()
    row = admin.locator("#admin-secrets tr", has_text="Prod DB")
    expect(row).to_contain_text("1 / 3")
    row.get_by_role("link", name="View").click()
    metadata = json.loads(admin.locator("#secret-metadata").inner_text())
    assert metadata["share_code"] == link.share_code and metadata["views_used"] == 1
    page_text = admin.content()
    assert b64url_encode(wrapped_key) not in page_text and wrapped_key.hex() not in page_text
    admin.get_by_role("button", name="Revoke").click()
    admin.get_by_role("dialog", name="Revoke this secret as an administrator?").get_by_role(
        "button", name="Revoke").click()
    expect(admin.locator("#secret-status")).to_have_text("Revoked")
    expect(admin.get_by_role("status")).to_contain_text("Revoked")
    assert stack.stored_blobs(link.secret_id) == []

    admin.goto(stack.base_url + "/admin/audit?filter=" +
               'activity_name = "paper_secret_revoked_admin"')
    expect(admin.locator("#audit-table tbody tr")).to_contain_text(ADMIN)
    assert browser_stack.page_errors == []


def test_basic_user_is_refused(browser_stack: BrowserStack) -> None:
    page = signed_in(browser_stack.person(), browser_stack.stack.base_url,
                     "carol@example.com", "/admin/secrets")
    expect(page.locator("h1")).to_have_text("Access denied")
    expect(page.locator("main")).to_contain_text("Only super admins can see")
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)
