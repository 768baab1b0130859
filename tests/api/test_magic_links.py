"""External recipients prove their email with single-use magic links (issue: external
recipients), against a real SMTP server."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from cipherslip_crypto.encoding import b64url_decode
from sqlalchemy import select

from core.db.models import AuditEvent, MagicLink, Secret
from tests.support.client import BrowserLikeClient, RevealFailed, ShareLink
from tests.support.smtp import html_text, links_in, plain_text
from tests.support.stack import Stack

GUEST = "guest@partner.test"


def external_secret(
    stack: Stack, text: str = "s3cr3t for a partner", **fields: object
) -> ShareLink:
    alice = stack.user("alice@example.com")
    return alice.create_text(text, [GUEST, "Other@Partner.test"], audience="external",
                             label="VPN credentials", **fields)


def mails_to(stack: Stack, address: str) -> list[str]:
    return [links_in(m)[0] for m in stack.smtp.mail.messages if m["To"] == address]


def audit(stack: Stack, activity: str) -> list[AuditEvent]:
    with stack.services.db() as session:
        return list(session.scalars(select(AuditEvent).where(
            AuditEvent.activity_name == activity).order_by(AuditEvent.id)))


def test_recipient_gets_one_mail_confirms_and_reveals(stack: Stack) -> None:
    link = external_secret(stack, view_limit=2)
    guest = stack.anonymous()
    page = guest.http.get(f"/s/{link.share_code}")
    assert "Email me a sign-in link" in page.text and "VPN" not in page.text
    response = guest.request_link(link.share_code, "Guest@Partner.TEST")
    assert response.status_code == 202
    [mail] = stack.smtp.mail.wait_for(1)
    assert mail["To"] == GUEST
    assert mail["Subject"] == "alice@example.com shared a secret with you"
    assert "VPN credentials" in plain_text(mail) and "VPN credentials" in html_text(mail)
    [magic_link] = links_in(mail)
    assert magic_link.startswith(f"{stack.base_url}/verify#")
    # The mail carries neither the content nor the share link's key.
    for part in (plain_text(mail), html_text(mail)):
        assert "s3cr3t" not in part and link.url.split("#")[1] not in part

    assert guest.confirm_link(magic_link).json() == {"next": f"/s/{link.share_code}"}
    assert guest.reveal(link) == "s3cr3t for a partner"
    [opened] = audit(stack, "paper_secret_opened")
    assert (opened.actor_email, opened.actor_uid, opened.mode) == (GUEST, None, "external")
    [created] = audit(stack, "paper_secret_magic_link_created")
    assert created.actor_email == GUEST


def test_get_and_head_of_the_link_do_not_consume_it(stack: Stack) -> None:
    link = external_secret(stack)
    guest = stack.anonymous()
    guest.request_link(link.share_code, GUEST)
    [magic_link] = mails_to(stack, GUEST)
    path = magic_link.split("#")[0]
    for _ in range(3):
        assert guest.http.get(magic_link).status_code == 200
        assert guest.http.head(path).status_code == 200
    with stack.services.db() as session:
        assert session.scalar(select(MagicLink.used_at)) is None
    assert guest.confirm_link(magic_link).status_code == 200


def test_a_link_works_once(stack: Stack) -> None:
    link = external_secret(stack)
    guest, thief = stack.anonymous(), stack.anonymous()
    guest.request_link(link.share_code, GUEST)
    [magic_link] = mails_to(stack, GUEST)
    assert guest.confirm_link(magic_link).status_code == 200
    second = thief.confirm_link(magic_link)
    assert second.status_code == 403
    assert "already used" in second.json()["error"]["message"]
    with pytest.raises(RevealFailed):
        thief.reveal(link)
    denied = audit(stack, "paper_secret_access_denied")
    assert denied[0].status_detail == "link_reused"


def test_a_link_expires_after_15_minutes(stack: Stack) -> None:
    link = external_secret(stack)
    guest = stack.anonymous()
    guest.request_link(link.share_code, GUEST)
    [magic_link] = mails_to(stack, GUEST)
    stack.clock.advance(timedelta(minutes=15))
    late = guest.confirm_link(magic_link)
    assert late.status_code == 403
    assert "expired" in late.json()["error"]["message"]
    assert [e.status_detail for e in audit(stack, "paper_secret_access_denied")] == [
        "link_expired"]


def test_asking_again_invalidates_the_earlier_link(stack: Stack) -> None:
    link = external_secret(stack)
    guest = stack.anonymous()
    guest.request_link(link.share_code, GUEST)
    guest.request_link(link.share_code, GUEST)
    first, second = mails_to(stack, GUEST)
    assert guest.confirm_link(first).status_code == 403
    assert guest.confirm_link(second).status_code == 200


def test_database_holds_only_hashes(stack: Stack) -> None:
    link = external_secret(stack)
    stack.anonymous().request_link(link.share_code, GUEST)
    [magic_link] = mails_to(stack, GUEST)
    token = b64url_decode(magic_link.split("#")[1])
    with stack.services.db() as session:
        [stored] = session.scalars(select(MagicLink)).all()
    assert stored.token_hash == hashlib.sha256(token).digest()
    if stack.settings.effective_database_url.startswith("sqlite"):
        database = stack.settings.data_dir / "cipherslip.db"
        raw = b"".join(p.read_bytes() for p in database.parent.glob("cipherslip.db*"))
        assert token not in raw and magic_link.split("#")[1].encode() not in raw
        assert stored.token_hash in raw


def test_non_recipient_gets_the_identical_answer_and_no_mail(stack: Stack) -> None:
    link = external_secret(stack)
    visitor = stack.anonymous()
    answers = {}
    for email in (GUEST, "stranger@partner.test"):
        response = visitor.request_link(link.share_code, email)
        answers[email] = (response.status_code, response.json()["message"].replace(email, "X"))
    assert answers[GUEST] == answers["stranger@partner.test"]
    stack.smtp.mail.wait_for(1)
    assert mails_to(stack, "stranger@partner.test") == []
    assert len(stack.smtp.mail.messages) == 1


def test_internal_and_ended_secrets_send_no_links(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    internal = alice.create_text("x", ["bob@example.com"], view_limit=1)
    burned = alice.create_text("y", [GUEST], audience="external", view_limit=1)
    bob.reveal(internal)
    visitor = stack.anonymous()
    assert visitor.request_link(internal.share_code, "bob@example.com").status_code == 202
    alice.api("POST", f"/api/v1/secrets/{burned.secret_id}/revoke")
    assert visitor.request_link(burned.share_code, GUEST).status_code == 202
    assert stack.smtp.mail.messages == []


def test_sixth_request_in_a_minute_is_throttled(stack: Stack) -> None:
    link = external_secret(stack)
    visitor = stack.anonymous()
    statuses = [visitor.request_link(link.share_code, GUEST).status_code for _ in range(6)]
    assert statuses == [202] * 5 + [429]
    assert len(mails_to(stack, GUEST)) == 5
    # Throttling is per address: the same for a non-recipient, so it reveals nothing.
    others = [visitor.request_link(link.share_code, "nobody@x.test").status_code
              for _ in range(6)]
    assert others == [202] * 5 + [429]


def test_requests_are_throttled_per_ip(stack: Stack) -> None:
    link = external_secret(stack)
    visitor = stack.anonymous()
    statuses = [visitor.request_link(link.share_code, f"p{i}@x.test").status_code
                for i in range(21)]
    assert statuses == [202] * 20 + [429]


def test_mail_server_down_says_so_and_loses_nothing(stack: Stack) -> None:
    link = external_secret(stack)
    guest = stack.anonymous()
    guest.request_link(link.share_code, GUEST)
    [earlier_link] = mails_to(stack, GUEST)
    stack.smtp.stop()
    for email in (GUEST, "stranger@partner.test"):  # the same answer for both
        response = guest.request_link(link.share_code, email)
        assert response.status_code == 503
        assert response.json()["error"]["message"] == (
            "the mail server could not be reached; try again later")
    with stack.services.db() as session:
        assert len(session.scalars(select(MagicLink)).all()) == 1
        secret = session.get(Secret, link.secret_id)
        assert secret is not None and secret.status == "active" and secret.wrapped_key
    # The link sent before the outage still works.
    assert guest.confirm_link(earlier_link).status_code == 200
    assert guest.reveal(link) == "s3cr3t for a partner"


def test_invalid_email_is_a_clear_422(stack: Stack) -> None:
    link = external_secret(stack)
    response = stack.anonymous().request_link(link.share_code, "not an email")
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "email"


def test_a_guest_is_limited_to_the_confirmed_secret(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    first = alice.create_text("one", [GUEST], audience="external", view_limit=5)
    second = alice.create_text("two", [GUEST], audience="external", view_limit=5)
    guest = stack.anonymous()
    guest.request_link(first.share_code, GUEST)
    guest.confirm_link(mails_to(stack, GUEST)[0])
    assert guest.reveal(first) == "one"
    with pytest.raises(RevealFailed) as refused:
        guest.reveal(second)
    assert refused.value.response.status_code == 403
    # The second secret's page asks for its own link, and confirming it adds to the session.
    assert "Email me a sign-in link" in guest.http.get(f"/s/{second.share_code}").text
    guest.request_link(second.share_code, GUEST)
    guest.confirm_link(mails_to(stack, GUEST)[1])
    assert guest.reveal(second) == "two"
    assert guest.reveal(first) == "one"
    # A guest is not an org user: no creating, no listing.
    assert guest.api("GET", "/api/v1/secrets").status_code == 401
    assert guest.start_secret(["x@example.com"])[0].status_code == 401


def test_guest_of_one_address_cannot_open_a_secret_for_another(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    theirs = alice.create_text("x", ["someone-else@partner.test"], audience="external")
    mine = alice.create_text("y", [GUEST], audience="external")
    guest = stack.anonymous()
    guest.request_link(mine.share_code, GUEST)
    guest.confirm_link(mails_to(stack, GUEST)[0])
    with pytest.raises(RevealFailed) as refused:
        guest.reveal(theirs)
    assert refused.value.response.status_code == 403


def test_colleague_listed_as_external_recipient_opens_with_sso(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    link = alice.create_text("x", ["bob@example.com"], audience="external")
    assert bob.reveal(link) == "x"
    [opened] = audit(stack, "paper_secret_opened")
    assert opened.actor_email == "bob@example.com"


def test_external_recipients_limit_is_64(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    too_many = [f"p{i}@partner.test" for i in range(65)]
    response, _ = alice.start_secret(too_many, audience="external")
    assert response.status_code == 422
    assert "at most 64 recipients" in response.json()["error"]["message"]
    response, _ = alice.start_secret(too_many[:64], audience="external")
    assert response.status_code == 201


def test_confirm_needs_csrf(stack: Stack) -> None:
    link = external_secret(stack)
    guest = stack.anonymous()
    guest.request_link(link.share_code, GUEST)
    token = mails_to(stack, GUEST)[0].split("#")[1]
    forged = BrowserLikeClient(stack.base_url, GUEST)
    stack.clients.append(forged)
    response = forged.http.post("/api/v1/magic-links/consume", json={"token": token})
    assert response.status_code == 401  # no session at all: nothing to check a token against
    forged.http.get("/verify")  # now a session, but the request carries no token
    response = forged.http.post("/api/v1/magic-links/consume", json={"token": token})
    assert response.status_code == 403 and response.json()["error"]["code"] == "csrf_failed"
    assert guest.confirm_link(mails_to(stack, GUEST)[0]).status_code == 200


def test_a_creator_name_with_line_breaks_cannot_break_the_mail_nor_tell_recipients_apart(
    stack: Stack,
) -> None:
    link = external_secret(stack)
    # A name stored before claims were cleaned (or by an IdP we trusted too much).
    with stack.services.db() as session, session.begin():
        secret = session.get(Secret, link.secret_id)
        assert secret is not None
        secret.creator.name = "Mallory\r\nBcc: everyone@example.org\r\n"
    visitor = stack.anonymous()
    answers = {email: visitor.request_link(link.share_code, email)
               for email in (GUEST, "stranger@partner.test")}
    assert {response.status_code for response in answers.values()} == {202}
    [message] = stack.smtp.mail.wait_for(1)
    assert message["Subject"] == "Mallory Bcc: everyone@example.org shared a secret with you"
    assert message["Bcc"] is None and message["To"] == GUEST
