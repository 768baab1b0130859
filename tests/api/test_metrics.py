"""Prometheus /metrics: created/revealed/denied by mode, reveal latency, purge lag."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.client import RevealFailed
from tests.support.stack import Stack

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(stack: Stack, token: str | None = None) -> Samples:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = httpx.get(f"{stack.base_url}/metrics", headers=headers)
    assert response.status_code == 200, response.text
    found = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def test_counts_latency_and_purge_lag(stack: Stack) -> None:
    alice, bob, carol = (stack.user(f"{n}@example.com") for n in ("alice", "bob", "carol"))
    internal = alice.create_text("x", ["bob@example.com"], view_limit=5)
    alice.create_text("y", ["guest@partner.test"], audience="external")
    bob.reveal(internal)
    bob.reveal(internal)
    with pytest.raises(RevealFailed):
        carol.reveal(internal)
    found = samples(stack)
    assert found[("cipherslip_secrets_created_total", frozenset({("mode", "internal")}))] == 1
    assert found[("cipherslip_secrets_created_total", frozenset({("mode", "external")}))] == 1
    assert found[("cipherslip_secrets_revealed_total", frozenset({("mode", "internal")}))] == 2
    assert found[("cipherslip_access_denied_total",
                  frozenset({("mode", "internal"), ("reason", "not_a_recipient")}))] == 1
    assert found[("cipherslip_reveal_seconds_count", frozenset({("mode", "internal")}))] == 2
    assert found[("cipherslip_purge_lag_seconds", frozenset())] == 0

    stack.clock.advance(timedelta(days=1, minutes=5))  # both secrets are now overdue
    lag = samples(stack)[("cipherslip_purge_lag_seconds", frozenset())]
    assert 4 * 60 < lag < 6 * 60


def test_labels_carry_no_people_or_secrets(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    link = alice.create_text("x", ["bob@example.com"])
    text = httpx.get(f"{stack.base_url}/metrics").text
    for private in ("alice@example.com", "bob@example.com", link.share_code, link.secret_id):
        assert private not in text


@pytest.fixture
def stack_options(request: pytest.FixtureRequest) -> dict[str, object]:
    if "token" in request.node.name:
        return {"metrics_token": "m" * 40}
    return {}


def test_metrics_token_when_configured(stack: Stack) -> None:
    assert httpx.get(f"{stack.base_url}/metrics").status_code == 401
    wrong = httpx.get(f"{stack.base_url}/metrics", headers={"authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert samples(stack, "m" * 40)
