"""Reveal attempts are rate-limited per user and per IP, and throttled attempts are audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.db.models import AuditEvent, Secret
from tests.support.client import RevealFailed
from tests.support.stack import Stack


@pytest.fixture
def stack_options() -> dict[str, object]:
    return {"reveal_rate_per_user": 3, "reveal_rate_per_ip": 5}


def attempt(client: object, link: object) -> int:
    try:
        client.reveal(link)  # type: ignore[attr-defined]
    except RevealFailed as failure:
        return failure.response.status_code
    return 200


def test_per_user_limit(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    link = alice.create_text("x", ["bob@example.com"], view_limit=None)
    assert [attempt(bob, link) for _ in range(4)] == [200, 200, 200, 429]
    with stack.services.db() as session:
        assert session.get(Secret, link.secret_id).views_used == 3  # type: ignore[union-attr]
        denied = session.scalars(select(AuditEvent.status_detail).where(
            AuditEvent.activity_name == "paper_secret_access_denied")).all()
    assert denied == ["rate_limited"]


def test_per_ip_limit_spans_users(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    bob, carol = stack.user("bob@example.com"), stack.user("carol@example.com")
    link = alice.create_text("x", ["bob@example.com", "carol@example.com"], view_limit=None)
    results = [attempt(bob, link) for _ in range(3)] + [attempt(carol, link) for _ in range(3)]
    assert results == [200, 200, 200, 200, 200, 429]


def test_throttled_answer_says_when_to_retry(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    link = alice.create_text("x", ["bob@example.com"], view_limit=None)
    for _ in range(3):
        attempt(bob, link)
    with pytest.raises(RevealFailed) as failure:
        bob.reveal(link)
    assert 1 <= int(failure.value.response.headers["retry-after"]) <= 60
