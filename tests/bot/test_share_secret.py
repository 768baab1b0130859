"""`/share-secret`: the modal, its validation per field, and the draft handed to the web."""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from core.db.models import Base, Draft, Secret
from tests.support.slack import (
    FakeSlack,
    SlackSender,
    blocks_text,
    draft_of,
    handoff_url_in,
    modal_values,
    notes_under,
    submitted_view,
)
from tests.support.stack import Stack

# Database-independent (see tests/conftest.py): SQLite only.
pytestmark = pytest.mark.one_database


def count(stack: Stack, model: type[Base]) -> int:
    with stack.services.db() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_command_opens_the_modal_without_a_content_field(
    sender: SlackSender, slack: FakeSlack
) -> None:
    response = sender.command("/share-secret")
    assert response.status_code == 200
    [call] = slack.wait_for("views.open")
    view = call.args["view"]
    assert call.args["trigger_id"].startswith("trigger.")
    blocks = {block.get("block_id"): block for block in view["blocks"]}
    assert list(blocks)[1:] == ["audience", "users", "format", "label", "expiry", "view_limit"]
    assert blocks["users"]["element"]["type"] == "multi_users_select"
    assert blocks["users"]["element"]["max_selected_items"] == 128
    assert [o["value"] for o in blocks["format"]["element"]["options"]] == [
        "text", "json", "yaml", "env", "file"]
    expiries = [int(o["value"]) for o in blocks["expiry"]["element"]["options"]]
    assert min(expiries) == 3600 and max(expiries) == 30 * 86400
    assert blocks["label"]["element"]["max_length"] == 200
    assert blocks["view_limit"]["element"]["max_value"] == "1000"
    # No field takes the secret itself: content is never typed into Slack.
    assert "secret" not in " ".join(blocks_text(b["label"]).lower()
                                    for b in view["blocks"] if b["type"] == "input")


def test_choosing_external_recipients_swaps_the_people_picker_for_emails(
    sender: SlackSender, slack: FakeSlack
) -> None:
    sender.block_action(
        {"action_id": "audience", "block_id": "audience", "type": "radio_buttons",
         "selected_option": {"value": "external"}},
        view={"id": "V0MODAL", "hash": "h1", "type": "modal"},
    )
    [call] = slack.wait_for("views.update")
    assert call.args["view_id"] == "V0MODAL" and call.args["hash"] == "h1"
    block_ids = [block.get("block_id") for block in call.args["view"]["blocks"]]
    assert "emails" in block_ids and "users" not in block_ids


@pytest.mark.parametrize(("values", "block", "words"), [
    (modal_values(users=()), "users", "at least one"),
    (modal_values(audience="external", emails="ana@partner.com, not-an-address"), "emails",
     "not-an-address"),
    (modal_values(audience="external", emails=""), "emails", "at least one"),
    (modal_values(audience="external",
                  emails=",".join(f"p{i}@partner.com" for i in range(65))), "emails", "64"),
    (modal_values(label="x" * 201), "label", "200"),
    (modal_values(view_limit="0"), "view_limit", "1 to 1,000"),
    (modal_values(view_limit="1001"), "view_limit", "1 to 1,000"),
    (modal_values(expiry="60"), "expiry", "1 hour"),
], ids=["no-users", "bad-email", "no-emails", "65-emails", "long-label", "limit-0",
        "limit-1001", "expiry"])
def test_invalid_input_is_reported_on_its_block(
    sender: SlackSender, stack: Stack, values: dict[str, object], block: str, words: str
) -> None:
    response = sender.view_submission(values)
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == [block]
    assert words in answer["errors"][block]
    assert count(stack, Draft) == 0


def test_recipients_outside_the_organization_are_refused_for_team_audience(
    sender: SlackSender, slack: FakeSlack, stack: Stack
) -> None:
    slack.add_user("U0GUEST", "guest@elsewhere.org", "Guest")
    slack.add_user("U0BOT", None, "Deploy bot", is_bot=True)
    view = submitted_view(sender, modal_values(users=("U0BOB", "U0GUEST")))
    # The form comes back as it was sent, the problem under the recipients.
    assert view["callback_id"] == "share_secret"
    assert view["blocks"][2]["element"]["initial_users"] == ["U0BOB", "U0GUEST"]
    assert notes_under(view) == {
        "users": ":warning: Not members of your organization: guest@elsewhere.org"}
    view = submitted_view(sender, modal_values(users=("U0BOT", "U0GHOST")))
    note = notes_under(view)["users"]
    assert "Deploy bot" in note and "an unknown user (U0GHOST)" in note and "<@" not in note
    assert count(stack, Draft) == 0


def test_a_creator_without_a_confirmed_email_is_told_why(
    sender: SlackSender, slack: FakeSlack, stack: Stack
) -> None:
    slack.add_user("U0NEW", "new@example.com", "New", confirmed=False)
    view = submitted_view(sender, modal_values(), user_id="U0NEW")
    assert "no confirmed email" in notes_under(view)["audience"]
    assert count(stack, Draft) == 0


def test_a_valid_submission_becomes_a_draft_the_creator_completes_on_the_web(
    sender: SlackSender, stack: Stack
) -> None:
    url = handoff_url_in(submitted_view(sender, modal_values(
        users=("U0BOB", "U0CAROL"), fmt="json", label="Staging DB", expiry="604800",
        view_limit="3")))
    assert url.startswith(f"{stack.base_url}/new?draft=")

    alice = stack.user("alice@example.com")
    page = alice.http.get(urlsplit(url).path + "?" + urlsplit(url).query)
    assert page.status_code == 200
    assert 'data-draft-recipients="bob@example.com,carol@example.com"' in page.text
    assert 'value="Staging DB"' in page.text
    assert '<option value="json" selected>' in page.text
    assert '<option value="604800" selected>' in page.text
    assert 'value="3"' in page.text

    link = alice.create_text('{"password": "hunter2"}', ["bob@example.com"],
                             draft=draft_of(url), format="json")
    assert stack.user("bob@example.com").reveal(link) == '{"password": "hunter2"}'
    # Single use: the same draft cannot make a second secret.
    response, _ = alice.start_secret(["bob@example.com"], draft=draft_of(url))
    assert response.status_code == 409 and "already used" in response.json()["error"]["message"]
    assert "already used" in alice.http.get(urlsplit(url).path + "?"
                                            + urlsplit(url).query).text


def test_the_draft_is_refused_to_anyone_else_and_after_30_minutes(
    sender: SlackSender, stack: Stack
) -> None:
    url = handoff_url_in(submitted_view(sender, modal_values(
        audience="external", emails="ana@partner.com\nben@vendor.io")))
    path = urlsplit(url).path + "?" + urlsplit(url).query
    bob = stack.user("bob@example.com")
    refused = bob.http.get(path)
    assert refused.status_code == 403 and "someone else" in refused.text
    response, _ = bob.start_secret(["ana@partner.com"], audience="external",
                                   draft=draft_of(url))
    assert response.status_code == 403

    alice = stack.user("alice@example.com")
    assert 'data-draft-recipients="ana@partner.com,ben@vendor.io"' in alice.http.get(path).text
    stack.clock.advance(timedelta(minutes=31))
    expired = alice.http.get(path)
    assert expired.status_code == 409 and "expired" in expired.text
    response, _ = alice.start_secret(["ana@partner.com"], audience="external",
                                     draft=draft_of(url))
    assert response.status_code == 409
    assert count(stack, Secret) == 0


def test_the_hand_off_page_asks_for_sign_in_and_keeps_the_draft(
    sender: SlackSender, stack: Stack
) -> None:
    url = handoff_url_in(submitted_view(sender, modal_values()))
    visitor = stack.anonymous()
    response = visitor.http.get(urlsplit(url).path + "?" + urlsplit(url).query,
                                follow_redirects=False)
    assert response.status_code == 303
    assert "draft%3D" in response.headers["location"]


def test_a_slack_rate_limit_is_not_mistaken_for_a_missing_email(
    sender: SlackSender, slack: FakeSlack
) -> None:
    slack.failures["users.info"] = "ratelimited"
    view = submitted_view(sender, modal_values(users=("U0BOB",)))
    assert notes_under(view) == {"users": ":warning: Slack did not answer (ratelimited); try "
                                          "again in a minute."}
    handoff_url_in(submitted_view(sender, modal_values(users=("U0BOB",))))


def test_the_audience_and_the_recipients_field_disagreeing_is_reported_on_the_audience(
    sender: SlackSender,
) -> None:
    values = modal_values(users=("U0BOB",))
    values["audience"]["audience"]["selected_option"]["value"] = "external"  # not switched yet
    answer = sender.view_submission(values).json()
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == ["audience"]  # a block the submitted view holds


def test_people_looked_up_once_are_not_asked_for_again_right_away(
    sender: SlackSender, slack: FakeSlack
) -> None:
    handoff_url_in(submitted_view(sender, modal_values(users=("U0BOB", "U0CAROL"))))
    asked = len(slack.calls_to("users.info"))
    handoff_url_in(submitted_view(sender, modal_values(users=("U0BOB", "U0CAROL"))))
    assert len(slack.calls_to("users.info")) == asked


def test_a_modal_closed_before_its_hand_off_leaves_no_draft(
    sender: SlackSender, slack: FakeSlack, stack: Stack
) -> None:
    slack.failures["views.update"] = "not_found"
    sender.view_submission(modal_values())
    slack.wait_for("views.update")
    deadline = time.monotonic() + 5
    while count(stack, Draft) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert count(stack, Draft) == 0
