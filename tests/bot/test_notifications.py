"""The creator's DM: posted when the secret goes live, then edited on every open, burn,
expiry and revoke; a Slack outage delays it and never loses it."""

from __future__ import annotations

import dataclasses
import os
from datetime import timedelta
from typing import Any

from cipherslip_crypto.encoding import b64url_encode
from cipherslip_crypto.kdf import derive_key_check

from bot.app import build_request_notices
from bot.notifier import SlackNoticeSender
from tests.support.client import BrowserLikeClient, ShareLink
from tests.support.slack import (
    FakeSlack,
    SlackSender,
    draft_of,
    handoff_url_in,
    modal_values,
    submitted_view,
)
from tests.support.stack import Stack


def share_from_slack(sender: SlackSender, alice: BrowserLikeClient, *, label: str,
                     view_limit: int | None) -> ShareLink:
    values = modal_values(label=label, view_limit=str(view_limit) if view_limit else None)
    url = handoff_url_in(submitted_view(sender, values))
    return alice.create_text("the password", ["bob@example.com"], draft=draft_of(url),
                             label=label, view_limit=view_limit)


def only_message(slack: FakeSlack) -> tuple[tuple[str, str], str]:
    [key] = list(slack.messages)
    return key, slack.message_text(*key)


def revoke_button(slack: FakeSlack, key: tuple[str, str]) -> dict[str, Any] | None:
    for block in slack.messages[key].get("blocks", []):
        for element in block.get("elements", []):
            if element.get("action_id") == "revoke_secret":
                return dict(element)
    return None


def test_the_dm_follows_the_secret_from_live_to_burned(
    stack: Stack, slack: FakeSlack, sender: SlackSender
) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    link = share_from_slack(sender, alice, label="Staging DB", view_limit=2)
    assert stack.notifier().run().processed == [link.secret_id]

    [post] = slack.calls_to("chat.postMessage")
    assert post.args["channel"] == "U0ALICE"  # the draft's Slack user: no lookup needed
    assert post.token == "xoxb-test-bot-token"
    key, text = only_message(slack)
    assert "Staging DB" in text and link.share_code in text
    assert "Team members: 1 recipient" in text and "2 of 2 views left" in text
    assert "Not opened yet" in text
    assert revoke_button(slack, key) == {**revoke_button(slack, key), "value": link.secret_id}  # type: ignore[dict-item]
    assert stack.notifier().run().processed == []  # nothing changed: nothing sent

    bob.reveal(link)
    stack.notifier().run()
    [update] = slack.calls_to("chat.update")
    assert (update.args["channel"], update.args["ts"]) == key
    _, text = only_message(slack)
    assert "bob@example.com" in text and "1 of 2 views left" in text
    assert "was opened by bob@example.com" in update.args["text"]

    bob.reveal(link)
    stack.notifier().run()
    _, text = only_message(slack)
    assert "Burned" in text and revoke_button(slack, key) is None
    assert len(slack.calls_to("chat.postMessage")) == 1  # one message, edited in place
    # The link key never reached Slack (the server never had it to send).
    assert b64url_encode(link.link_key) not in slack.everything_sent()


def test_expiry_and_revoke_update_the_dm(
    stack: Stack, slack: FakeSlack, sender: SlackSender
) -> None:
    alice = stack.user("alice@example.com")
    short = share_from_slack(sender, alice, label="Short one", view_limit=None)
    stack.notifier().run()
    stack.clock.advance(timedelta(days=2))
    assert stack.purge_jobs().expire_overdue().processed == [short.secret_id]
    stack.notifier().run()
    _, text = only_message(slack)
    assert "Expired" in text

    slack.messages.clear()
    alice = stack.user("alice@example.com")  # two days on, the old session has ended
    kept = share_from_slack(sender, alice, label="Revoke me", view_limit=1)
    stack.notifier().run()
    key, _ = only_message(slack)
    button = revoke_button(slack, key)
    assert button is not None
    response = sender.block_action({"action_id": "revoke_secret", "value": button["value"],
                                    "type": "button"},
                                   container={"type": "message", "channel_id": key[0]},
                                   channel={"id": key[0]})
    assert response.status_code == 200
    slack.wait_for("chat.update", count=2)
    _, text = only_message(slack)
    assert "Revoked by alice@example.com" in text
    assert alice.api("GET", f"/api/v1/secrets/{kept.secret_id}").json()["status"] == "revoked"


def test_a_secret_made_on_the_web_is_announced_to_its_creator_found_by_email(
    stack: Stack, slack: FakeSlack
) -> None:
    alice = stack.user("alice@example.com")
    alice.create_text("x", ["bob@example.com"], label="From the web")
    stack.notifier().run()
    [lookup] = slack.calls_to("users.lookupByEmail")
    assert lookup.args["email"] == "alice@example.com"
    [post] = slack.calls_to("chat.postMessage")
    assert post.args["channel"] == "U0ALICE"

    # A creator with no Slack account: nothing to deliver, and no retries.
    dan = stack.user("dan@example.com")
    dan.create_text("x", ["bob@example.com"])
    report = stack.notifier().run()
    assert report.failed == 1
    stack.clock.advance(timedelta(hours=2))
    assert stack.notifier().run().processed == []
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_a_slack_outage_delays_the_dm_and_never_blocks_a_reveal(
    stack: Stack, slack: FakeSlack, sender: SlackSender
) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    slack.failures["chat.postMessage"] = "service_unavailable"
    link = share_from_slack(sender, alice, label="Outage", view_limit=3)
    assert stack.notifier().run().failed == 1
    assert bob.reveal(link) == "the password"
    assert stack.notifier().run().processed == []  # backing off
    stack.clock.advance(timedelta(seconds=30))
    assert stack.notifier().run().processed == [link.secret_id]
    _, text = only_message(slack)
    assert "bob@example.com" in text and "2 of 3 views left" in text


def test_an_unreachable_slack_is_retried_and_the_batch_goes_on(
    stack: Stack, slack: FakeSlack
) -> None:
    alice = stack.user("alice@example.com")
    link = alice.create_text("x", ["bob@example.com"], label="Unreachable")
    notifier = stack.notifier()
    assert isinstance(notifier.sender, SlackNoticeSender)
    offline = dataclasses.replace(notifier, sender=dataclasses.replace(
        notifier.sender, settings=stack.settings.model_copy(
            update={"slack_api_url": "http://127.0.0.1:9/api/"})))
    assert offline.run().failed == 1  # connection refused: counted, not raised
    assert stack.notifier().run().processed == []  # backing off
    stack.clock.advance(timedelta(seconds=10))
    assert stack.notifier().run().processed == [link.secret_id]
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_a_message_slack_calls_malformed_is_not_sent_again_and_again(
    stack: Stack, slack: FakeSlack, sender: SlackSender
) -> None:
    slack.failures["chat.postMessage"] = "invalid_blocks"
    share_from_slack(sender, stack.user("alice@example.com"), label="Malformed", view_limit=1)
    assert stack.notifier().run().failed == 1
    stack.clock.advance(timedelta(hours=1))
    assert stack.notifier().run().processed == []  # given up at once, not retried
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_the_requester_hears_who_answered_and_when_the_answer_is_opened(
    stack: Stack, slack: FakeSlack
) -> None:
    """A request made on the web: its requester is found by email; the message follows the
    answer (bob answered → alice opened it), and never goes to the responder."""
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    link_key = os.urandom(32)
    started = alice.api("POST", "/api/v1/requests", json={
        "audience": "internal", "responders": ["bob@example.com"], "label": "Staging DB",
        "open_for_seconds": 86400, "answer_expires_in_seconds": 3600,
        "answer_view_limit": 1}).json()
    alice.api("POST", started["open_url"], json={
        "key_check": b64url_encode(derive_key_check(link_key, started["id"]))})
    answer = bob.answer_request(started["request_code"], "pg: hunter2", link_key)
    assert stack.notifier().run().processed == [answer.secret_id]
    [post] = slack.calls_to("chat.postMessage")
    assert post.args["channel"] == "U0ALICE"  # alice, found by her email: not bob
    assert "Your request “Staging DB” was answered by bob@example.com" in post.args["text"]
    assert "hunter2" not in str(post.args) and b64url_encode(link_key) not in str(post.args)
    alice.reveal(ShareLink("", answer.share_code, answer.secret_id, link_key))
    stack.notifier().run()
    [update] = slack.calls_to("chat.update")
    assert "answered by bob@example.com" in update.args["text"]
    assert "burned" in update.args["text"]  # one view: opened, and so destroyed


def test_a_request_from_slack_is_followed_in_the_dm_of_whoever_ran_it(
    stack: Stack, slack: FakeSlack, sender: SlackSender
) -> None:
    before = len(slack.calls_to("views.update"))
    sender.view_submission({
        "users": {"users": {"type": "multi_users_select", "selected_users": ["U0BOB"]}},
        "emails": {"emails": {"type": "plain_text_input", "value": ""}},
        "label": {"label": {"type": "plain_text_input", "value": "Deploy key"}},
        "format": {"format": {"type": "static_select", "selected_option": {"value": "any"}}},
        "open_for": {"open_for": {"type": "static_select",
                                  "selected_option": {"value": "86400"}}},
        "expiry": {"expiry": {"type": "static_select", "selected_option": {"value": "3600"}}},
        "view_limit": {"view_limit": {"type": "number_input", "value": "1"}},
    }, callback_id="request_secret")
    view = slack.wait_for("views.update", before + 1)[-1].args["view"]
    [button] = [element for block in view["blocks"] if block["type"] == "actions"
                for element in block["elements"]]
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    link_key = os.urandom(32)
    started = alice.api("POST", "/api/v1/requests", json={
        "audience": "internal", "responders": ["bob@example.com"], "label": "Deploy key",
        "open_for_seconds": 86400, "answer_expires_in_seconds": 3600, "answer_view_limit": 1,
        "draft": draft_of(button["url"])}).json()
    alice.api("POST", started["open_url"], json={
        "key_check": b64url_encode(derive_key_check(link_key, started["id"]))})
    lookups = len(slack.calls_to("users.lookupByEmail"))
    bob.answer_request(started["request_code"], "ssh-ed25519 AAAA", link_key)
    stack.notifier().run()
    [post] = slack.calls_to("chat.postMessage")
    assert post.args["channel"] == "U0ALICE"  # the Slack user who ran /secrets request
    assert len(slack.calls_to("users.lookupByEmail")) == lookups  # no lookup needed
    assert "Your request “Deploy key” was answered by bob@example.com" in post.args["text"]


def test_a_request_nobody_answered_is_reported_once_when_it_closes(
    stack: Stack, slack: FakeSlack
) -> None:
    alice = stack.user("alice@example.com")
    started = alice.api("POST", "/api/v1/requests", json={
        "audience": "internal", "responders": ["bob@example.com"], "label": "Deploy key",
        "open_for_seconds": 3600, "answer_expires_in_seconds": 3600,
        "answer_view_limit": 1}).json()
    alice.api("POST", started["open_url"], json={
        "key_check": b64url_encode(derive_key_check(os.urandom(32), started["id"]))})
    closures = build_request_notices(stack.settings, stack.services)
    assert closures.run().processed == []  # still open: nothing to say
    stack.clock.advance(timedelta(hours=2))
    stack.purge_jobs().close_expired_requests()
    assert closures.run().processed == [started["id"]]
    [post] = slack.calls_to("chat.postMessage")
    assert post.args["channel"] == "U0ALICE"
    assert "Your request “Deploy key” closed: nobody answered" in post.args["text"]
    assert closures.run().processed == []  # once
    assert len(slack.calls_to("chat.postMessage")) == 1
