"""`/secrets list | revoke | audit | help`, as the caller's Cipherslip user, roles included."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from core.services import audit
from tests.support.slack import FakeSlack, SlackSender, blocks_text
from tests.support.stack import Stack

# Database-independent (see tests/conftest.py): SQLite only.
pytestmark = pytest.mark.one_database


def answer(sender: SlackSender, slack: FakeSlack, text: str, user_id: str = "U0ALICE") -> str:
    before = len(slack.calls_to("response_url"))
    response = sender.command("/secrets", text, user_id=user_id)
    assert response.status_code == 200
    reply: dict[str, Any] = slack.wait_for("response_url", count=before + 1)[-1].args
    assert not slack.calls_to("response_url!refused"), "Slack would refuse these blocks"
    assert reply["response_type"] == "ephemeral"  # only the caller sees it
    return blocks_text(reply)


def events(stack: Stack, name: str) -> list[Any]:
    admin = stack.user("admin@example.com")
    found: list[Any] = admin.api(
        "GET", "/api/v1/admin/audit", params={"filter": f'activity_name = "{name}"'}
    ).json()["items"]
    return found


def test_help_and_unknown_subcommands(stack: Stack, slack: FakeSlack, sender: SlackSender) -> None:
    for text in ("", "help"):
        reply = answer(sender, slack, text)
        assert "/secrets revoke" in reply and "/secrets audit" in reply
    reply = answer(sender, slack, "frobnicate now")
    assert "Unknown subcommand `frobnicate`" in reply and "/secrets list" in reply


def test_list_shows_the_callers_secrets_only(
    stack: Stack, slack: FakeSlack, sender: SlackSender
) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    mine = alice.create_text("a", ["bob@example.com"], label="Mine <b>", view_limit=3)
    bob.create_text("b", ["alice@example.com"], label="Bob's")
    bob.reveal(mine)
    reply = answer(sender, slack, "list")
    assert "Mine &lt;b&gt;" in reply and mine.share_code in reply
    assert "2 of 3 views left" in reply and "Active" in reply
    assert "Bob's" not in reply
    stack.user("carol@example.com")
    assert "You have no secrets yet" in answer(sender, slack, "list", user_id="U0CAROL")


def test_someone_who_never_signed_in_is_told_how(
    stack: Stack, slack: FakeSlack, sender: SlackSender
) -> None:
    reply = answer(sender, slack, "list", user_id="U0CAROL")
    assert "Sign in to Cipherslip once" in reply and stack.base_url in reply


def test_revoke_own_admin_and_refused(stack: Stack, slack: FakeSlack, sender: SlackSender) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    stack.user("admin@example.com")
    own = alice.create_text("a", ["bob@example.com"])
    others = bob.create_text("b", ["alice@example.com"])
    third = bob.create_text("c", ["alice@example.com"])

    assert "Revoked" in answer(sender, slack, f"revoke {own.share_code.lower()}")
    assert alice.api("GET", f"/api/v1/secrets/{own.secret_id}").json()["status"] == "revoked"

    refused = answer(sender, slack, f"revoke {others.share_code}")
    assert "Only its creator or a super admin" in refused
    assert bob.api("GET", f"/api/v1/secrets/{others.secret_id}").json()["status"] == "active"
    [denied] = [event for event in events(stack, audit.ACCESS_DENIED)
                if event["status_detail"] == "not_creator"]
    assert denied["actor"]["user"]["email"] == "alice@example.com"

    assert "as a super admin" in answer(sender, slack, f"revoke {third.share_code}",
                                        user_id="U0ADMIN")
    [admin_event] = events(stack, audit.REVOKED_ADMIN)
    assert admin_event["secret"]["share_code"] == third.share_code
    assert [e["secret"]["share_code"] for e in events(stack, audit.REVOKED)] == [own.share_code]

    assert "already revoked" in answer(sender, slack, f"revoke {own.share_code}")
    assert "no secret" in answer(sender, slack, "revoke ZZZZ-ZZZZ-ZZZZ").lower()
    assert "Usage" in answer(sender, slack, "revoke")
    assert "A share code has 12 symbols" in answer(sender, slack, "revoke hello")


def test_audit_is_for_super_admins(stack: Stack, slack: FakeSlack, sender: SlackSender) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    stack.user("admin@example.com")
    link = alice.create_text("a", ["bob@example.com"])
    bob.reveal(link)

    refused = answer(sender, slack, "audit")
    assert "Only super admins" in refused
    assert any(e["status_detail"] == "not_super_admin" for e in events(stack, audit.ACCESS_DENIED))

    everything = answer(sender, slack, "audit", user_id="U0ADMIN")
    assert "paper_secret_created" in everything and "paper_secret_opened_internal" in everything
    assert "/admin/audit?filter=activity_name+starts+with" in everything

    opened = answer(sender, slack, 'audit activity_name = "paper_secret_opened_internal"',
                    user_id="U0ADMIN")
    assert "paper_secret_opened_internal" in opened and "paper_secret_created" not in opened
    assert "bob@example.com" in opened and link.share_code in opened

    bad = answer(sender, slack, "audit activity_name ==", user_id="U0ADMIN")
    assert ":no_entry:" in bad


def test_audit_shows_the_newest_twenty(stack: Stack, slack: FakeSlack, sender: SlackSender) -> None:
    alice = stack.user("alice@example.com")
    stack.user("admin@example.com")
    codes = [alice.create_text("x", ["bob@example.com"]).share_code for _ in range(22)]
    reply = answer(sender, slack, 'audit activity_name = "paper_secret_created"',
                   user_id="U0ADMIN")
    assert all(code in reply for code in codes[-20:])
    assert not any(code in reply for code in codes[:2])
    assert "More in the audit console" in reply


def test_an_idp_granted_admin_role_lapses_without_a_fresh_sign_in(stack: Stack) -> None:
    users = stack.services.users
    granted = users.sign_in(issuer="https://idp.test", subject="dora", email="dora@example.com",
                            name="Dora", in_admin_group=True)
    assert granted.is_super_admin
    from_slack = users.principal_for_email(stack.settings.tenant_id, "dora@example.com")
    assert from_slack is not None and from_slack.is_super_admin
    stack.clock.advance(timedelta(hours=9))  # longer than a web session lives
    lapsed = users.principal_for_email(stack.settings.tenant_id, "dora@example.com")
    assert lapsed is not None and not lapsed.is_super_admin
    # Named in settings: an admin whatever the IdP says.
    stack.user("admin@example.com")
    stack.clock.advance(timedelta(days=30))
    named = users.principal_for_email(stack.settings.tenant_id, "admin@example.com")
    assert named is not None and named.is_super_admin


def test_an_answer_slack_refuses_falls_back_to_a_short_text(
    stack: Stack, slack: FakeSlack, sender: SlackSender
) -> None:
    stack.user("alice@example.com").create_text("x", ["bob@example.com"], label="Mine")
    slack.refuse_responses = 1
    sender.command("/secrets", "list")
    [fallback] = slack.wait_for("response_url")
    assert slack.calls_to("response_url!refused")  # the first answer was refused...
    assert fallback.args["text"] == (  # ...and the caller still hears where to look
        f"Slack could not show this answer; see {stack.base_url}/secrets instead.")
