"""Unfurls show metadata only and never carry the link key; App Home lists active secrets
with Revoke buttons."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cipherslip_crypto.encoding import b64url_encode

from tests.support.slack import FakeSlack, SlackSender, blocks_text
from tests.support.stack import Stack, capture_logs

# Database-independent (see tests/conftest.py): SQLite only.
pytestmark = pytest.mark.one_database


def link_shared(url: str, *others: str) -> dict[str, Any]:
    return {"type": "link_shared", "channel": "C0GENERAL", "message_ts": "1700000001.000100",
            "user": "U0ALICE", "links": [{"domain": "127.0.0.1", "url": link}
                                         for link in (url, *others)]}


def test_share_links_unfurl_with_metadata_and_without_the_fragment(
    stack: Stack, slack: FakeSlack, sender: SlackSender
) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    link = alice.create_text("s3cret", ["bob@example.com"], label="VPN <config>", view_limit=4)
    bob.reveal(link)
    link_key = b64url_encode(link.link_key)
    assert link.url.endswith("#" + link_key)
    with capture_logs() as logs:
        response = sender.event(link_shared(link.url, "https://example.org/elsewhere#x"))
        assert response.status_code == 200
        [call] = slack.wait_for("chat.unfurl")
    assert call.args["channel"] == "C0GENERAL" and call.args["ts"] == "1700000001.000100"
    # Keyed by the URL exactly as Slack sent it (Slack's rule; it holds the link already)...
    assert list(call.args["unfurls"]) == [link.url]
    shown = blocks_text(call.args["unfurls"][link.url])
    assert "VPN &lt;config&gt;" in shown and "Shared by alice@example.com" in shown
    assert "3 of 4 views left" in shown and "expires" in shown
    assert "s3cret" not in shown
    # ...and the key goes nowhere else: not into the preview, not into any log.
    assert link_key not in json.dumps(call.args["unfurls"][link.url])
    assert slack.everything_sent().count(link_key) == 1
    assert link_key not in logs.text()
    # Looking uses no view.
    assert alice.api("GET", f"/api/v1/secrets/{link.secret_id}").json()["views_used"] == 1


def test_ended_and_unknown_links_say_so(
    stack: Stack, slack: FakeSlack, sender: SlackSender
) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    burned = alice.create_text("x", ["bob@example.com"], view_limit=1)
    bob.reveal(burned)
    unknown = f"{stack.base_url}/s/ZZZZ-ZZZZ-ZZZZ#whatever"
    sender.event(link_shared(burned.url, unknown))
    [call] = slack.wait_for("chat.unfurl")
    unfurls = call.args["unfurls"]
    assert "Burned" in blocks_text(unfurls[burned.url])
    assert "not found" in blocks_text(unfurls[unknown])


def test_a_composer_preview_is_unfurled_by_its_unfurl_id_and_source(
    stack: Stack, slack: FakeSlack, sender: SlackSender
) -> None:
    # Slack's documented composer payload: the link is still being typed, there is no message.
    link = stack.user("alice@example.com").create_text("x", ["bob@example.com"], label="Draft")
    with capture_logs() as logs:
        sender.event({"type": "link_shared", "channel": "COMPOSER", "is_bot_user_member": True,
                      "user": "U0ALICE", "message_ts": "Uxxxxxxx-909b5454-75f8-4ac4-b325",
                      "unfurl_id": "Uxxxxxxx-909b5454-75f8-4ac4-b325", "source": "composer",
                      "event_ts": "1700000002.000200",
                      "links": [{"domain": "127.0.0.1", "url": link.url}]})
        [call] = slack.wait_for("chat.unfurl")
    assert call.args["unfurl_id"] == "Uxxxxxxx-909b5454-75f8-4ac4-b325"
    assert call.args["source"] == "composer"
    assert "channel" not in call.args and "ts" not in call.args
    assert list(call.args["unfurls"]) == [link.url]
    assert b64url_encode(link.link_key) not in logs.text()


def test_in_a_channel_shared_with_another_organization_only_status_and_expiry_show(
    stack: Stack, slack: FakeSlack, sender: SlackSender
) -> None:
    link = stack.user("alice@example.com").create_text("x", ["bob@example.com"],
                                                       label="Payroll export")
    sender.event(link_shared(link.url), is_ext_shared_channel=True)
    [call] = slack.wait_for("chat.unfurl")
    shown = blocks_text(call.args["unfurls"][link.url])
    assert "Active" in shown and "expires" in shown
    assert "Payroll" not in shown and "alice" not in shown


def test_links_to_other_sites_are_left_alone(stack: Stack, slack: FakeSlack,
                                             sender: SlackSender) -> None:
    sender.event(link_shared("https://example.org/s/ABCD-EFGH-JKMN#key"), event_id="Ev0OTHER")
    sender.event({"type": "app_home_opened", "user": "U0ALICE", "tab": "home"})
    slack.wait_for("views.publish")  # the events ran in order; the unfurl had its chance
    assert slack.calls_to("chat.unfurl") == []


def test_app_home_lists_active_secrets_and_revokes_from_there(
    stack: Stack, slack: FakeSlack, sender: SlackSender
) -> None:
    alice = stack.user("alice@example.com")
    keep = alice.create_text("a", ["bob@example.com"], label="Keep me")
    drop = alice.create_text("b", ["bob@example.com"], label="Drop me")
    ended = alice.create_text("c", ["bob@example.com"], label="Ended already")
    alice.api("POST", f"/api/v1/secrets/{ended.secret_id}/revoke")

    sender.event({"type": "app_home_opened", "user": "U0ALICE", "tab": "home"})
    [publish] = slack.wait_for("views.publish")
    assert publish.args["user_id"] == "U0ALICE"
    view = publish.args["view"]
    assert view["type"] == "home"
    text = blocks_text(view)
    assert "Keep me" in text and "Drop me" in text and "Ended already" not in text
    buttons = {block["accessory"]["value"]: block["accessory"] for block in view["blocks"]
               if block.get("accessory", {}).get("action_id") == "revoke_secret"}
    assert set(buttons) == {keep.secret_id, drop.secret_id}
    assert buttons[drop.secret_id]["confirm"]["confirm"]["text"] == "Revoke"

    sender.block_action({"action_id": "revoke_secret", "value": drop.secret_id,
                         "type": "button"}, view={"id": "V0HOME", "type": "home"})
    publishes = slack.wait_for("views.publish", count=2)
    text = blocks_text(publishes[-1].args["view"])
    assert "Keep me" in text and "Drop me" not in text
    assert alice.api("GET", f"/api/v1/secrets/{drop.secret_id}").json()["status"] == "revoked"


def test_a_revoke_button_cannot_revoke_someone_elses_secret(
    stack: Stack, slack: FakeSlack, sender: SlackSender
) -> None:
    alice = stack.user("alice@example.com")
    stack.user("bob@example.com")
    secret = alice.create_text("a", ["bob@example.com"])
    sender.block_action({"action_id": "revoke_secret", "value": secret.secret_id,
                         "type": "button"}, user_id="U0BOB",
                        view={"id": "V0HOME", "type": "home"},
                        response_url=f"{slack.url}/respond/bob")
    [reply] = slack.wait_for("response_url")
    assert "No such secret of yours" in blocks_text(reply.args)
    assert alice.api("GET", f"/api/v1/secrets/{secret.secret_id}").json()["status"] == "active"


def test_app_home_for_someone_who_never_signed_in(
    stack: Stack, slack: FakeSlack, sender: SlackSender
) -> None:
    sender.event({"type": "app_home_opened", "user": "U0CAROL", "tab": "home"})
    [publish] = slack.wait_for("views.publish")
    assert "Sign in to Cipherslip once" in blocks_text(publish.args["view"])
