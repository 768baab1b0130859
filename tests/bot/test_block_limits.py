"""Every view and message the Slack app can send, built from the worst valid data, passes
slack_sdk's Block Kit models and Slack's documented text limits (Slack refuses the whole
message with invalid_blocks otherwise)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.blocks import share_modal as modal
from bot.blocks.audit import audit_message
from bot.blocks.common import CONTEXT_TEXT_MAX, MESSAGE_TEXT_MAX, SECTION_TEXT_MAX
from bot.blocks.notice import notice_blocks, notice_text
from bot.blocks.secrets import HELP, home_view, list_message
from bot.blocks.unfurl import unfurl_blocks
from core.db.models import AuditEvent
from core.services.audit_filter import MAX_FILTER_LENGTH, parse_filter
from core.services.link_preview import LinkPreview
from core.services.manage import SecretSummary
from core.services.notice_state import NoticeState, Opening

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
BASE_URL = "https://cipherslip.example.com"
# 254 characters: the longest address; every "&" becomes five characters once escaped.
LONGEST_EMAIL = "&" * 64 + "@" + ("a" * 62 + ".") * 3 + "a" * 2
LONGEST_LABEL = "&<>" * 66 + "&&"  # 200 characters, 1,000 once escaped
MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100


def longest_filter() -> str:
    """The longest filter the grammar accepts, made of characters Slack escapes."""
    head = 'actor.user.email = "'
    text = head + "&" * (MAX_FILTER_LENGTH - len(head) - 1) + '"'
    parse_filter(text)  # accepted
    return text


def texts(value: Any, kind: str = "") -> list[tuple[str, str]]:
    """(where, text) of every text object, by the kind of block it is in."""
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        kind = value.get("type", kind) if value.get("type") in (
            "section", "context", "header", "button", "input") else kind
        if value.get("type") in ("mrkdwn", "plain_text") and isinstance(value.get("text"), str):
            found.append((kind, value["text"]))
        for key, child in value.items():
            # A confirmation dialog's texts have limits of their own.
            found += texts(child, "confirm" if key == "confirm" else kind)
    elif isinstance(value, list):
        for child in value:
            found += texts(child, kind)
    return found


LIMITS = {"section": SECTION_TEXT_MAX, "context": CONTEXT_TEXT_MAX, "header": 150,
          "button": 75, "input": 2000, "confirm": 300}


def check_blocks(blocks: list[dict[str, Any]], maximum: int) -> None:
    assert len(blocks) <= maximum
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None, block
        parsed.validate_json()
        for kind, text in texts(block):
            assert len(text) <= LIMITS.get(kind, SECTION_TEXT_MAX), (kind, len(text))


def check_view(view: dict[str, Any]) -> None:
    View(**view).validate_json()
    check_blocks(view["blocks"], VIEW_BLOCKS_MAX)


def check_message(text: str, blocks: list[dict[str, Any]]) -> None:
    assert len(text) <= MESSAGE_TEXT_MAX
    check_blocks(blocks, MESSAGE_BLOCKS_MAX)


def submissions() -> list[modal.Submission]:
    people = [f"U{number:010d}" for number in range(128)]
    addresses = [f"{number:03d}" + LONGEST_EMAIL[3:] for number in range(64)]
    return [modal.Submission("internal", people, [], "file", LONGEST_LABEL, 30 * 86400, 1000),
            modal.Submission("external", [], addresses, "env", LONGEST_LABEL, 3600, None)]


@pytest.mark.parametrize("submission", submissions(), ids=["128 people", "64 addresses"])
def test_the_share_modal_in_every_state(submission: modal.Submission) -> None:
    long_error = "Not members of your organization: " + ", ".join([LONGEST_EMAIL] * 64)
    check_view(modal.share_modal(submission.audience))
    check_view(modal.share_modal(submission.audience, submitted=submission, errors={
        modal.AUDIENCE: long_error, modal.recipients_block({}) if submission.audience ==
        "internal" else modal.EMAILS: long_error, modal.LABEL: long_error}))
    check_view(modal.preparing_view(submission))
    check_view(modal.handoff_view(f"{BASE_URL}/new?draft={'d' * 43}", submission, 128))


def preview(status: str) -> LinkPreview:
    return LinkPreview("ABCD-EFGH-JKMN", LONGEST_LABEL, LONGEST_EMAIL * 2, status,
                       NOW + timedelta(days=30), 999, 1000)


@pytest.mark.parametrize("status", ["active", "burned", "expired", "revoked"])
@pytest.mark.parametrize("shared_externally", [False, True])
def test_unfurls(status: str, shared_externally: bool) -> None:
    unfurl = unfurl_blocks(preview(status), shared_externally=shared_externally)
    check_blocks(unfurl["blocks"], MESSAGE_BLOCKS_MAX)


def notice(status: str, openings: int) -> NoticeState:
    return NoticeState(
        secret_id="7f3c2a9e-4b1d-4c8e-9a6f-2d5e8b1c0f47", share_code="ABCD-EFGH-JKMN",
        label=LONGEST_LABEL, audience="external", secret_type="file", status=status,
        recipients=64, view_limit=1000, views_used=openings, views_left=1000 - openings,
        expires_at=NOW + timedelta(days=30), ended_at=None, creator_email=LONGEST_EMAIL,
        opens=list(Opening(LONGEST_EMAIL, NOW - timedelta(minutes=minute))
                    for minute in range(openings)),
        revoked_by=LONGEST_EMAIL if status == "revoked" else None,
    )


@pytest.mark.parametrize("status", ["active", "burned", "revoked", "expired"])
def test_the_creator_dm_with_a_thousand_openings(status: str) -> None:
    state = notice(status, 1000)
    check_message(notice_text(state), notice_blocks(state, BASE_URL))
    opened = next(text for _, text in texts(notice_blocks(state, BASE_URL))
                  if text.startswith("*Opened*"))
    assert opened.endswith("more")  # says how many it could not list


def event(number: int) -> AuditEvent:
    return AuditEvent(time=NOW, activity_name="paper_secret_access_denied",
                      actor_email=LONGEST_EMAIL, src_ip="2001:db8::ffff:ffff:ffff:ffff",
                      share_code="ABCD-EFGH-JKMN", status="Failure",
                      status_detail="&" * 200, id=number)


@pytest.mark.parametrize("events", [0, 20])
def test_the_audit_answer_with_the_longest_filter(events: int) -> None:
    text, blocks = audit_message([event(n) for n in range(events)], longest_filter(), BASE_URL,
                                 more=True)
    check_message(text, blocks)


def secret(number: int, status: str = "active") -> SecretSummary:
    return SecretSummary(
        id=f"7f3c2a9e-4b1d-4c8e-9a6f-{number:012d}", share_code="ABCD-EFGH-JKMN",
        label=LONGEST_LABEL, status=status, audience="internal", secret_type="text",
        recipients=[LONGEST_EMAIL] * 128, views_used=999, view_limit=1000, views_left=1,
        created_at=NOW, expires_at=NOW + timedelta(days=30), ended_at=None)


def test_the_secrets_list_help_and_app_home() -> None:
    check_message(*list_message([secret(n) for n in range(200)], BASE_URL))
    check_message(HELP, [])
    check_view(home_view([secret(n) for n in range(200)], BASE_URL, "hint"))
    check_view(home_view(None, BASE_URL, "Sign in to Cipherslip once at " + BASE_URL))
