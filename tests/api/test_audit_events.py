"""Audit events carry their documented fields, stored in columns and exported OCSF-like."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.clock import as_utc
from core.db.models import AuditEvent
from core.services.audit import to_ocsf
from tests.support.stack import Stack


def all_events(stack: Stack) -> list[AuditEvent]:
    with stack.services.db() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def test_each_event_names_secret_mode_type_actor_ip_agent_time_and_outcome(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    carol = stack.user("carol@example.com")
    link = alice.create_text("x", ["bob@example.com"], view_limit=None)
    bob.reveal(link)
    carol.api("GET", f"/api/v1/shares/{link.share_code}")
    alice.api("POST", f"/api/v1/secrets/{link.secret_id}/revoke")

    events = all_events(stack)
    assert [(e.activity_name, e.actor_email, e.status, e.status_detail) for e in events] == [
        ("paper_secret_created", "alice@example.com", "Success", None),
        ("paper_secret_opened_internal", "bob@example.com", "Success", None),
        ("paper_secret_access_denied", "carol@example.com", "Failure", "not_a_recipient"),
        ("paper_secret_revoked", "alice@example.com", "Success", None),
    ]
    for event in events:
        assert event.tenant_id == "default"
        assert (event.secret_id, event.share_code) == (link.secret_id, link.share_code)
        assert (event.mode, event.secret_type) == ("internal", "text")
        assert event.src_ip == "127.0.0.1"
        assert event.user_agent and "python-httpx" in event.user_agent
        assert event.actor_uid  # the user's id, next to the email
        assert abs(as_utc(event.time) - stack.clock.now()) < timedelta(minutes=1)


def test_ocsf_shape(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    link = alice.create_text("x", ["bob@example.com"])
    exported = to_ocsf(all_events(stack)[0])
    assert exported["activity_name"] == "paper_secret_created"
    assert exported["actor"]["user"]["email"] == "alice@example.com"
    assert exported["src_endpoint"]["ip"] == "127.0.0.1"
    assert exported["http_request"]["user_agent"].startswith("python-httpx")
    assert exported["secret"] == {"id": link.secret_id, "share_code": link.share_code,
                                  "mode": "internal", "type": "text"}
    assert exported["status"] == "Success"
    assert exported["time"].endswith("+00:00")
