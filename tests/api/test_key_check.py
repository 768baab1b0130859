"""A damaged link never costs a view (docs/FORMATS.md, key check): the api refuses a reveal whose
key check does not match, before the vault is asked and before a view is taken."""

from __future__ import annotations

from cipherslip_crypto.encoding import b64url_decode, b64url_encode
from cipherslip_crypto.kdf import derive_key_check
from sqlalchemy import update

from core.db.models import Secret
from tests.api.test_reveal import events, reveal_status, stored
from tests.support.client import BrowserLikeClient, ShareLink, new_key_pair
from tests.support.stack import Stack


def reveal_with(client: BrowserLikeClient, link: ShareLink, **fields: object) -> tuple[
        int, dict[str, object]]:
    _, public_key = new_key_pair()
    response = client.api("POST", f"/api/v1/shares/{link.share_code}/reveal",
                          json={"public_key": b64url_encode(public_key), **fields})
    return response.status_code, response.json()


def test_the_share_hands_its_key_check_to_recipients_only(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    link = alice.create_text("x", ["bob@example.com"])
    share = bob.api("GET", f"/api/v1/shares/{link.share_code}").json()
    assert share["secret_id"] == link.secret_id
    assert b64url_decode(share["key_check"]) == derive_key_check(link.link_key, link.secret_id)
    outsider = stack.user("carol@example.com").api("GET", f"/api/v1/shares/{link.share_code}")
    assert outsider.status_code == 403 and "key_check" not in outsider.text
    page = bob.http.get(f"/s/{link.share_code}").text
    assert f'data-key-check="{share["key_check"]}"' in page
    assert f'data-secret-id="{link.secret_id}"' in page


def test_a_damaged_link_is_refused_audited_and_costs_no_view(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    link = alice.create_text("the text", ["bob@example.com"], view_limit=1)
    damaged_key = bytes([link.link_key[0] ^ 1]) + link.link_key[1:]
    status, answer = reveal_with(bob, link, key_check=b64url_encode(
        derive_key_check(damaged_key, link.secret_id)))
    assert status == 422
    error = answer["error"]
    assert isinstance(error, dict)
    assert error["code"] == "link_damaged" and error["field"] == "key_check"
    assert "No view was used" in str(error["message"])
    assert reveal_with(bob, link)[1]["error"] == {**error}  # no check at all: the same refusal
    assert stored(stack, link.secret_id).views_used == 0
    denied = events(stack, "paper_secret_access_denied")
    assert [event.status_detail for event in denied] == ["link_damaged", "link_damaged"]
    assert denied[0].actor_email == "bob@example.com"
    # The whole link still opens it, with its one view intact.
    assert bob.reveal(link) == "the text"
    assert stored(stack, link.secret_id).status == "burned"


def test_a_non_recipient_is_told_so_whatever_key_check_they_send(stack: Stack) -> None:
    alice, carol = stack.user("alice@example.com"), stack.user("carol@example.com")
    link = alice.create_text("x", ["bob@example.com"])
    status, answer = reveal_with(carol, link, key_check=b64url_encode(bytes(16)))
    assert status == 403 and answer["error"]["code"] == "access_denied"  # type: ignore[index]


def test_a_malformed_key_check_is_named(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    link = alice.create_text("x", ["bob@example.com"])
    status, answer = reveal_with(bob, link, key_check="not base64url!")
    assert status == 422 and "key_check" in str(answer)
    assert stored(stack, link.secret_id).views_used == 0


def test_completion_requires_a_sixteen_byte_key_check(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    response, _ = alice.start_secret(["bob@example.com"])
    created = response.json()
    for body, field_problem in [
        ({"sealed_meta": b64url_encode(bytes(40)), "content": "AAAA"}, "key_check"),
        ({"sealed_meta": b64url_encode(bytes(40)), "content": "AAAA",
          "key_check": b64url_encode(bytes(15))}, "key_check must be 16 bytes"),
    ]:
        refused = alice.api("POST", created["complete_url"], json=body)
        assert refused.status_code == 422, refused.text
        assert field_problem in refused.text
    assert stored(stack, created["id"]).status == "pending"  # nothing was stored


def test_secrets_shared_before_key_checks_still_reveal(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    link = alice.create_text("from last year", ["bob@example.com"], view_limit=2)
    with stack.services.db() as session, session.begin():
        session.execute(update(Secret).where(Secret.id == link.secret_id).values(key_check=None))
    assert bob.api("GET", f"/api/v1/shares/{link.share_code}").json()["key_check"] is None
    assert reveal_status(bob, link) == (200, None)
    status, _ = reveal_with(bob, link)  # without a check of its own
    assert status == 200
