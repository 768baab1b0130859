"""A creator lists, inspects and revokes their own secrets (and nobody else's)."""

from __future__ import annotations

from datetime import timedelta

from tests.support.stack import Stack


def test_list_shows_views_and_status(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    burned = alice.create_text("a", ["bob@example.com"], view_limit=1, label="burned one")
    alice.create_text("b", ["bob@example.com"], view_limit=5, label="active one",
                      expires_in_seconds=7 * 86400)
    alice.create_text("c", ["bob@example.com"], expires_in_seconds=3600, label="short one")
    bob.reveal(burned)
    stack.clock.advance(timedelta(hours=1))

    active = alice.api("GET", "/api/v1/secrets?status=active").json()
    assert [(s["label"], s["status"], s["views_used"], s["view_limit"]) for s in active] == [
        ("active one", "active", 0, 5)]
    everything = alice.api("GET", "/api/v1/secrets?status=all").json()
    assert {s["label"]: (s["status"], s["views_used"]) for s in everything} == {
        "burned one": ("burned", 1), "active one": ("active", 0), "short one": ("expired", 0),
    }
    assert alice.api("GET", "/api/v1/secrets?status=bogus").status_code == 422


def test_secrets_are_private_to_their_creator(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    link = alice.create_text("a", ["bob@example.com"])
    assert bob.api("GET", "/api/v1/secrets?status=all").json() == []
    assert bob.api("GET", f"/api/v1/secrets/{link.secret_id}").status_code == 404
    assert bob.api("POST", f"/api/v1/secrets/{link.secret_id}/revoke").status_code == 404
    assert bob.reveal(link) == "a"  # bob is a recipient, not an owner


def test_detail_shows_activity_newest_first(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    carol = stack.user("carol@example.com")
    link = alice.create_text("a", ["bob@example.com"], view_limit=3)
    bob.reveal(link)
    carol.api("GET", f"/api/v1/shares/{link.share_code}")
    detail = alice.api("GET", f"/api/v1/secrets/{link.secret_id}").json()
    assert detail["share_url"].endswith(f"/s/{link.share_code}")
    assert "#" not in detail["share_url"]
    assert [(a["activity_name"], a["actor_email"]) for a in detail["activity"]] == [
        ("paper_secret_access_denied", "carol@example.com"),
        ("paper_secret_opened_internal", "bob@example.com"),
        ("paper_secret_created", "alice@example.com"),
    ]


def test_revoke_destroys_content_once(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    link = alice.create_text("a", ["bob@example.com"], view_limit=None)
    revoked = alice.api("POST", f"/api/v1/secrets/{link.secret_id}/revoke")
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    assert stack.stored_blobs(link.secret_id) == []
    again = alice.api("POST", f"/api/v1/secrets/{link.secret_id}/revoke")
    assert again.status_code == 409
    assert "already revoked" in again.json()["error"]["message"]
    activity = alice.api("GET", f"/api/v1/secrets/{link.secret_id}").json()["activity"]
    assert activity[0]["activity_name"] == "paper_secret_revoked"


def test_revoking_an_expired_secret_says_so(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    link = alice.create_text("a", ["bob@example.com"], expires_in_seconds=3600)
    stack.clock.advance(timedelta(hours=2))
    response = alice.api("POST", f"/api/v1/secrets/{link.secret_id}/revoke")
    assert response.status_code == 409
    assert "expired" in response.json()["error"]["message"]
    assert stack.stored_blobs(link.secret_id) == []
