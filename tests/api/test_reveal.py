"""Revealing: recipients only, exact view counting, burn and expiry destroy content."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.db.models import AuditEvent, Secret
from tests.support.client import BrowserLikeClient, RevealFailed, ShareLink
from tests.support.stack import Stack


def stored(stack: Stack, secret_id: str) -> Secret:
    with stack.services.db() as session:
        secret = session.get(Secret, secret_id)
        assert secret is not None
        return secret


def events(stack: Stack, activity: str) -> list[AuditEvent]:
    with stack.services.db() as session:
        return list(session.scalars(
            select(AuditEvent).where(AuditEvent.activity_name == activity)
            .order_by(AuditEvent.id)))


def reveal_status(client: BrowserLikeClient, link: ShareLink) -> tuple[int, str | None]:
    try:
        client.reveal(link)
    except RevealFailed as failure:
        body = failure.response.json()["error"]
        return failure.response.status_code, body.get("status") or body["code"]
    return 200, None


def assert_content_destroyed(stack: Stack, secret_id: str) -> None:
    secret = stored(stack, secret_id)
    assert secret.wrapped_key is None
    assert secret.sealed_meta is None
    assert secret.blob_key is None
    assert stack.stored_blobs(secret_id) == []
    # Metadata stays for the audit trail.
    assert secret.creator_id and secret.recipients and secret.share_code


def test_recipient_sees_exact_text_and_view_is_counted(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    text = "db-password: pässwörd 🔑\nline two"
    link = alice.create_text(text, ["bob@example.com"], view_limit=3, label="Prod DB")
    share = bob.api("GET", f"/api/v1/shares/{link.share_code}").json()
    assert share["label"] == "Prod DB"
    assert share["creator_email"] == "alice@example.com"
    assert share["views_left"] == 3
    assert bob.reveal(link) == text
    assert bob.api("GET", f"/api/v1/shares/{link.share_code}").json()["views_left"] == 2
    assert stored(stack, link.secret_id).views_used == 1


def test_share_code_is_case_insensitive(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    link = alice.create_text("x", ["bob@example.com"], view_limit=2)
    lower = ShareLink(link.url, link.share_code.lower(), link.secret_id, link.link_key)
    assert bob.reveal(lower) == "x"


def test_non_recipient_is_denied_and_audited(stack: Stack) -> None:
    alice, carol = stack.user("alice@example.com"), stack.user("carol@example.com")
    link = alice.create_text("x", ["bob@example.com"])
    assert reveal_status(carol, link) == (403, "access_denied")
    assert carol.api("GET", f"/api/v1/shares/{link.share_code}").status_code == 403
    denied = events(stack, "paper_secret_access_denied")
    assert [e.status_detail for e in denied] == ["not_a_recipient", "not_a_recipient"]
    assert denied[0].actor_email == "carol@example.com"
    assert stored(stack, link.secret_id).views_used == 0


def test_last_view_burns_and_destroys_content(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    link = alice.create_text("once", ["bob@example.com"], view_limit=1)
    assert bob.reveal(link) == "once"
    assert stored(stack, link.secret_id).status == "burned"
    assert_content_destroyed(stack, link.secret_id)
    assert reveal_status(bob, link) == (410, "burned")
    assert bob.api("GET", f"/api/v1/shares/{link.share_code}").json()["status"] == "burned"
    assert [e.status_detail for e in events(stack, "paper_secret_access_denied")] == ["burned"]


def test_unknown_share_code_is_404(stack: Stack) -> None:
    bob = stack.user("bob@example.com")
    assert bob.api("GET", "/api/v1/shares/ZZZZ-ZZZZ-ZZZZ").status_code == 404
    assert bob.api("GET", "/api/v1/shares/not-a-code").status_code == 404


def test_expiry_is_enforced_at_read_time(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    link = alice.create_text("soon gone", ["bob@example.com"], expires_in_seconds=3600,
                             view_limit=None)
    stack.clock.advance(timedelta(minutes=59))
    assert bob.reveal(link) == "soon gone"
    stack.clock.advance(timedelta(minutes=1))
    # Reading the page does not change anything, but it shows the truth.
    assert bob.api("GET", f"/api/v1/shares/{link.share_code}").json()["status"] == "expired"
    assert reveal_status(bob, link) == (410, "expired")
    assert stored(stack, link.secret_id).status == "expired"
    assert_content_destroyed(stack, link.secret_id)


def test_revoked_secret_answers_revoked(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    link = alice.create_text("x", ["bob@example.com"], view_limit=None)
    assert alice.api("POST", f"/api/v1/secrets/{link.secret_id}/revoke").status_code == 200
    assert reveal_status(bob, link) == (410, "revoked")
    assert_content_destroyed(stack, link.secret_id)


def test_get_of_share_never_consumes_a_view(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    link = alice.create_text("x", ["bob@example.com"], view_limit=1)
    for _ in range(5):
        assert bob.http.get(f"/s/{link.share_code}").status_code == 200
        assert bob.http.head(f"/s/{link.share_code}").status_code in (200, 405)
        assert bob.api("GET", f"/api/v1/shares/{link.share_code}").status_code == 200
    assert stored(stack, link.secret_id).views_used == 0
    assert bob.reveal(link) == "x"


def test_fifty_concurrent_reveals_with_a_limit_of_five(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    recipients = [stack.user(f"r{i}@example.com") for i in range(10)]
    link = alice.create_text("race", [r.email for r in recipients], view_limit=5)
    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(lambda i: reveal_status(recipients[i % 10], link), range(50)))
    assert outcomes.count((200, None)) == 5, outcomes
    assert outcomes.count((410, "burned")) == 45, sorted(set(outcomes), key=str)
    secret = stored(stack, link.secret_id)
    assert (secret.views_used, secret.status) == (5, "burned")
    assert len(events(stack, "paper_secret_opened_internal")) == 5
    assert_content_destroyed(stack, link.secret_id)


@pytest.fixture
def stack_options() -> dict[str, object]:
    # Generous limits so the concurrency test measures counting, not throttling; the
    # throttling tests below use their own stacks.
    return {"reveal_rate_per_user": 1000, "reveal_rate_per_ip": 1000}


def test_a_storage_failure_is_a_503_that_names_no_internal_path(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    link = alice.create_text("x", ["bob@example.com"], view_limit=1)
    [blob] = stack.stored_blobs(link.secret_id)
    blob.unlink()
    blob.mkdir()  # reading it now fails with an OS error, not "not found"
    with pytest.raises(RevealFailed) as failed:
        bob.reveal(link)
    response = failed.value.response
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "10"
    error = response.json()["error"]
    assert error["code"] in ("blob_store_unavailable", "service_unavailable")
    for internal in (blob.name, link.secret_id, str(stack.settings.data_dir), "blob store:"):
        assert internal not in response.text
    assert stored(stack, link.secret_id).views_used == 0
