"""What Slack users expect to find: Share from App Home, Open and Revoke next to each secret
in `/secrets list` and the creator's DM, and headers over lists and help."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bot.test_notifications import share_from_slack
from tests.support.slack import FakeSlack, SlackSender
from tests.support.stack import Stack

# Database-independent (see tests/conftest.py): SQLite only.
pytestmark = pytest.mark.one_database


def buttons(blocks: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [(element["text"]["text"], element.get("url"))
            for block in blocks if block["type"] in ("actions", "section")
            for element in (block.get("elements") or [block.get("accessory") or {}])
            if element.get("type") == "button"]


def test_app_home_offers_share_a_secret_which_opens_the_modal(
    stack: Stack, slack: FakeSlack, sender: SlackSender
) -> None:
    stack.user("alice@example.com")
    sender.event({"type": "app_home_opened", "user": "U0ALICE", "tab": "home"})
    [publish] = slack.wait_for("views.publish")
    assert ("Share a secret", None) in buttons(publish.args["view"]["blocks"])
    sender.block_action({"action_id": "share_from_home", "block_id": "home_actions",
                         "type": "button"})
    [opened] = slack.wait_for("views.open")
    assert opened.args["view"]["callback_id"] == "share_secret"


def test_the_list_has_a_header_and_open_and_revoke_for_each_secret(
    stack: Stack, slack: FakeSlack, sender: SlackSender
) -> None:
    alice = stack.user("alice@example.com")
    live = alice.create_text("a", ["bob@example.com"], label="Live one")
    ended = alice.create_text("b", ["bob@example.com"], label="Ended one")
    alice.api("POST", f"/api/v1/secrets/{ended.secret_id}/revoke")
    sender.command("/secrets", "list")
    [reply] = slack.wait_for("response_url")
    blocks = reply.args["blocks"]
    assert blocks[0]["type"] == "header"
    shown = buttons(blocks)
    assert ("Open", f"{stack.base_url}/secrets/{live.secret_id}") in shown
    assert ("Open", f"{stack.base_url}/secrets/{ended.secret_id}") in shown
    assert [label for label, _ in shown].count("Revoke") == 1  # only the live one


def test_help_has_a_header(slack: FakeSlack, sender: SlackSender) -> None:
    sender.command("/secrets", "help")
    [reply] = slack.wait_for("response_url")
    assert reply.args["blocks"][0]["type"] == "header"


def test_the_creators_dm_links_to_the_secrets_page(
    stack: Stack, slack: FakeSlack, sender: SlackSender
) -> None:
    link = share_from_slack(sender, stack.user("alice@example.com"), label="Staging DB",
                            view_limit=2)
    stack.notifier().run()
    [post] = slack.calls_to("chat.postMessage")
    shown = buttons(post.args["blocks"])
    assert ("Open", f"{stack.base_url}/secrets/{link.secret_id}") in shown
    assert ("Revoke", None) in shown
