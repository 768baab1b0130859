"""Issue acceptance: `/share-secret` in Slack → the hand-off page in Chromium → content
encrypted in the browser → a colleague reveals it; the creator's DM was posted, then updated
to say who opened it. Nothing of the content or the link key reaches Slack."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import BrowserStack
from tests.e2e.test_share_text import assert_no_trace, open_as, sign_in_at_idp
from tests.support.slack import (
    FakeSlack,
    SlackSender,
    fake_slack,
    handoff_url_in,
    modal_values,
    slack_settings,
    submitted_view,
)

pytestmark = pytest.mark.browser

CONTENT = "# staging\nDB_PASSWORD=correct horse battery staple\nexport API_KEY=sk_test_42\n"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with fake_slack() as fake:
        fake.add_user("U0ALICE", "alice@example.com", "Alice")
        fake.add_user("U0BOB", "bob@example.com", "Bob")
        yield fake


@pytest.fixture
def stack_options(slack: FakeSlack) -> dict[str, object]:
    return slack_settings(slack)


def test_share_secret_from_slack_to_a_colleague(
    browser_stack: BrowserStack, slack: FakeSlack
) -> None:
    stack = browser_stack.stack
    base_url = stack.base_url
    sender = SlackSender(base_url, slack)
    assert sender.command("/share-secret", user_id="U0ALICE").status_code == 200
    slack.wait_for("views.open")
    url = handoff_url_in(submitted_view(sender, modal_values(
        users=("U0BOB",), fmt="env", label="Staging env", view_limit="2")))

    creator = browser_stack.person()
    page = creator.new_page()
    page.goto(url)
    sign_in_at_idp(page, "alice@example.com")
    expect(page).to_have_url(url)  # back on the hand-off page, draft and all
    expect(page.locator("#draft-notice")).to_be_visible()
    expect(page.locator("#recipient-list li span")).to_have_text(["bob@example.com"])
    expect(page.locator("#format")).to_have_value("env")
    expect(page.locator("#label")).to_have_value("Staging env")
    expect(page.locator("#view-limit")).to_have_value("2")
    page.locator("#content").fill(CONTENT)
    page.get_by_role("button", name="Share secret").click()
    expect(page.locator("#result")).to_be_visible()
    share_url = page.locator("#share-url").input_value()
    match = re.fullmatch(rf"{re.escape(base_url)}/s/([0-9A-Z-]{{14}})#([A-Za-z0-9_-]{{43}})",
                         share_url)
    assert match, share_url
    share_code, link_key_text = match.groups()

    # The draft is used up: the page refuses a second go.
    again = creator.new_page()
    again.goto(url)
    expect(again.locator("h1")).to_have_text("This draft cannot be used")

    stack.notifier().run()
    [post] = slack.calls_to("chat.postMessage")
    assert post.args["channel"] == "U0ALICE"
    [(channel, ts)] = list(slack.messages)
    posted = slack.message_text(channel, ts)
    assert "Staging env" in posted and share_code in posted and "Not opened yet" in posted

    colleague = open_as(browser_stack.person(), share_url, "bob@example.com")
    colleague.get_by_role("button", name="Reveal content").click()
    expect(colleague.locator("#revealed")).to_be_visible()
    expect(colleague.locator("#views-left")).to_have_text("1")

    stack.notifier().run()
    [update] = slack.calls_to("chat.update")
    assert (update.args["channel"], update.args["ts"]) == (channel, ts)
    updated = slack.message_text(channel, ts)
    assert "Opened" in updated and "bob@example.com" in updated and "1 of 2 views left" in updated

    assert browser_stack.page_errors == []
    everything_slack_got = slack.everything_sent()
    assert link_key_text not in everything_slack_got
    assert "correct horse" not in everything_slack_got
    assert_no_trace(browser_stack, CONTENT, link_key_text)
