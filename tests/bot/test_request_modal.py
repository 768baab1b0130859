"""`/secrets request`: the form (no field for any secret), its checks, and the draft it hands
to the request page, which the requester (and only they) uses once — with signed requests
into the real Bolt app and a fake Slack."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

import pytest
from cipherslip_crypto.encoding import b64url_encode
from cipherslip_crypto.kdf import derive_key_check

from tests.support.slack import FakeSlack, SlackSender, blocks_text, draft_of, notes_under
from tests.support.stack import Stack

pytestmark = pytest.mark.one_database


def request_values(users: tuple[str, ...] = ("U0BOB",), emails: str = "",
                   label: str | None = "The staging DB password", fmt: str = "env",
                   open_for: str = "21600", expiry: str = "3600",
                   views: str = "2") -> dict[str, Any]:
    return {
        "users": {"users": {"type": "multi_users_select", "selected_users": list(users)}},
        "emails": {"emails": {"type": "plain_text_input", "value": emails}},
        "label": {"label": {"type": "plain_text_input", "value": label}},
        "format": {"format": {"type": "static_select", "selected_option": {"value": fmt}}},
        "open_for": {"open_for": {"type": "static_select",
                                  "selected_option": {"value": open_for}}},
        "expiry": {"expiry": {"type": "static_select", "selected_option": {"value": expiry}}},
        "view_limit": {"view_limit": {"type": "number_input", "value": views}},
    }


def submitted(sender: SlackSender, values: dict[str, Any]) -> dict[str, Any]:
    before = len(sender.fake.calls_to("views.update"))
    answer = sender.view_submission(values, callback_id="request_secret").json()
    assert answer["response_action"] == "update", answer
    assert answer["view"]["callback_id"] == "request_secret_preparing"
    view: dict[str, Any] = sender.fake.wait_for("views.update", before + 1)[-1].args["view"]
    return view


def test_the_subcommand_opens_the_form(sender: SlackSender, slack: FakeSlack) -> None:
    assert sender.command("/secrets", "request").status_code == 200
    [call] = slack.wait_for("views.open")
    view = call.args["view"]
    assert view["callback_id"] == "request_secret"
    blocks = {block.get("block_id"): block for block in view["blocks"]}
    assert list(blocks)[1:] == ["users", "emails", "label", "format", "open_for", "expiry",
                                "view_limit"]
    assert blocks["label"]["element"]["max_length"] == 500
    assert [o["value"] for o in blocks["format"]["element"]["options"]] == [
        "any", "text", "json", "yaml", "env", "file"]
    open_for = [int(o["value"]) for o in blocks["open_for"]["element"]["options"]]
    assert min(open_for) == 3600 and max(open_for) == 7 * 86400
    # Nothing in the form takes a secret: answers are typed on the encrypting page only.
    assert "password" not in " ".join(blocks_text(b["label"]).lower()
                                      for b in view["blocks"] if b["type"] == "input")


def test_a_submission_hands_off_a_draft_the_requester_uses_once(
        sender: SlackSender, stack: Stack) -> None:
    view = submitted(sender, request_values())
    buttons = [element for block in view["blocks"] if block["type"] == "actions"
               for element in block["elements"]]
    assert [button["text"]["text"] for button in buttons] == ["Open request page"]
    url = str(buttons[0]["url"])
    assert url.startswith(f"{stack.base_url}/requests/new?draft=")
    target = urlsplit(url).path + "?" + urlsplit(url).query

    alice = stack.user("alice@example.com")
    page = alice.http.get(target)
    assert page.status_code == 200
    assert 'data-draft-recipients="bob@example.com"' in page.text
    assert "The staging DB password</textarea>" in page.text
    assert '<option value="env" selected>' in page.text
    assert '<option value="21600" selected>' in page.text
    assert '<option value="3600" selected>' in page.text
    assert stack.user("carol@example.com").http.get(target).status_code == 403

    body = {"audience": "internal", "responders": ["bob@example.com"],
            "label": "The staging DB password", "expected_format": "env",
            "open_for_seconds": 21600, "answer_expires_in_seconds": 3600,
            "answer_view_limit": 2, "draft": draft_of(url)}
    started = alice.api("POST", "/api/v1/requests", json=body)
    assert started.status_code == 201, started.text
    opened = alice.api("POST", started.json()["open_url"], json={"key_check": b64url_encode(
        derive_key_check(os.urandom(32), started.json()["id"]))})
    assert opened.status_code == 200
    again = alice.api("POST", "/api/v1/requests", json=body)
    assert again.status_code == 409 and "already used" in again.json()["error"]["message"]
    # A share's page does not take a request's draft, nor the other way round.
    assert alice.http.get(f"/new?draft={draft_of(url)}").status_code in (404, 409)


def test_problems_come_back_under_their_fields(sender: SlackSender, slack: FakeSlack) -> None:
    both = sender.view_submission(request_values(emails="x@partner.test"),
                                  callback_id="request_secret").json()
    assert both["response_action"] == "errors" and "users" in both["errors"]
    bad = sender.view_submission(request_values(users=(), emails="not an address"),
                                 callback_id="request_secret").json()
    assert "emails" in bad["errors"]
    outsider = submitted(sender, request_values(users=("U0OUTSIDER",)))
    assert "users" in notes_under(outsider)
