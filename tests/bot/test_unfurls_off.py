"""CIPHERSLIP_SLACK_UNFURLS=false: link_shared events are ignored, keys and all."""

from __future__ import annotations

import pytest

from tests.bot.test_unfurl_and_home import link_shared
from tests.support.slack import FakeSlack, SlackSender, slack_settings
from tests.support.stack import Stack

# Database-independent (see tests/conftest.py): SQLite only.
pytestmark = pytest.mark.one_database


@pytest.fixture
def stack_options(slack: FakeSlack) -> dict[str, object]:
    return {**slack_settings(slack), "slack_unfurls": False}


def test_share_links_are_not_unfurled(stack: Stack, slack: FakeSlack, sender: SlackSender) -> None:
    link = stack.user("alice@example.com").create_text("x", ["bob@example.com"])
    sender.event(link_shared(link.url))
    sender.event({"type": "app_home_opened", "user": "U0ALICE", "tab": "home"})
    slack.wait_for("views.publish")  # the events ran in order; the unfurl had its chance
    assert slack.calls_to("chat.unfurl") == []
