"""Requests over the JSON API, against the real api and vault: alice asks bob for a secret,
bob answers once under the request link's key, alice reveals the answer as a share; carol is
refused (audited), a second answer is refused, a cancelled or expired request takes none, and
every event is in the audit log."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from cipherslip_crypto.encoding import b64url_decode, b64url_encode
from cipherslip_crypto.kdf import derive_key_check
from sqlalchemy import select

from core.db.models import AuditEvent, Secret, SecretRequest
from tests.support.client import BrowserLikeClient, RevealFailed, ShareLink, new_key_pair
from tests.support.smtp import links_in
from tests.support.stack import Stack

ASK = {"audience": "internal", "responders": ["bob@example.com"],
       "label": "The staging database password, please", "expected_format": None,
       "open_for_seconds": 86400, "answer_expires_in_seconds": 3600, "answer_view_limit": 1}


@pytest.fixture
def stack_options() -> dict[str, object]:
    return {"super_admin_emails": ("admin@example.com",)}


def open_request(alice: BrowserLikeClient, **changes: Any) -> tuple[dict[str, Any], bytes]:
    """What the requester's browser does: reserve, make the link key, send its key check."""
    started = alice.api("POST", "/api/v1/requests", json={**ASK, **changes})
    assert started.status_code == 201, started.text
    link_key = os.urandom(32)
    opened = alice.api("POST", started.json()["open_url"], json={
        "key_check": b64url_encode(derive_key_check(link_key, started.json()["id"]))})
    assert opened.status_code == 200, opened.text
    return opened.json(), link_key


def refusal(call: Callable[..., object], *arguments: object) -> httpx.Response:
    """The api's answer to a step that must be refused."""
    with pytest.raises(RevealFailed) as refused:
        call(*arguments)
    return refused.value.response


def events(stack: Stack, activity: str) -> list[AuditEvent]:
    with stack.services.db() as session:
        return list(session.scalars(select(AuditEvent).where(
            AuditEvent.activity_name == activity).order_by(AuditEvent.id)))


def test_ask_answer_once_and_read_the_answer(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    request, link_key = open_request(alice)
    code = request["request_code"]
    assert request["request_url"] == f"{stack.base_url}/r/{code}"
    assert (request["role"], request["status"]) == ("requester", "open")
    assert request["responders"] == ["bob@example.com"]

    # The responder sees who asks and why, and the key check to test the link against.
    seen = bob.api("GET", f"/api/v1/requests/{code.lower()}").json()
    assert (seen["role"], seen["status"], seen["requester_email"]) == (
        "responder", "open", "alice@example.com")
    assert seen["label"] == ASK["label"] and seen["responders"] == []
    assert b64url_decode(seen["key_check"]) == derive_key_check(link_key, seen["id"])

    answer = bob.answer_request(code, "pg: hunter2", link_key)
    assert refusal(bob.answer_request, code, "second", link_key).status_code == 409  # once

    read = alice.api("GET", f"/api/v1/requests/{code}").json()
    assert (read["status"], read["answered_by"]) == ("fulfilled", "bob@example.com")
    assert read["answer_share_code"] == answer.share_code
    assert alice.reveal(ShareLink("", answer.share_code, answer.secret_id, link_key)) == (
        "pg: hunter2")
    with stack.services.db() as session:
        secret = session.get(Secret, answer.secret_id)
        assert secret is not None and secret.request_id == request["id"]
        assert [r.email for r in secret.recipients] == ["alice@example.com"]
        assert secret.status == "burned"  # one view, as the request said
    [created] = events(stack, "paper_secret_request_created")
    [fulfilled] = events(stack, "paper_secret_request_fulfilled")
    assert (created.actor_email, created.share_code, created.secret_type) == (
        "alice@example.com", code, "request")
    assert (fulfilled.actor_email, fulfilled.status_detail) == (
        "bob@example.com", f"answer {answer.share_code}")


def test_outsiders_are_refused_and_audited(stack: Stack) -> None:
    alice, carol = stack.user("alice@example.com"), stack.user("carol@example.com")
    request, link_key = open_request(alice)
    code = request["request_code"]
    assert carol.api("GET", f"/api/v1/requests/{code}").status_code == 403
    assert refusal(carol.answer_request, code, "x", link_key).status_code == 403
    # The requester cannot answer her own request either.
    assert refusal(alice.answer_request, code, "x", link_key).status_code == 403
    denied = events(stack, "paper_secret_access_denied")
    assert [(event.actor_email, event.status_detail) for event in denied][:1] == [
        ("carol@example.com", "not_a_responder")]
    assert stack.user("alice@example.com").api(
        "GET", f"/api/v1/requests/{code}").json()["status"] == "open"


def test_cancelled_and_expired_requests_take_no_answer(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    request, link_key = open_request(alice)
    code = request["request_code"]
    assert bob.api("POST", f"/api/v1/requests/{code}/cancel").status_code == 403
    cancelled = alice.api("POST", f"/api/v1/requests/{code}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert refusal(bob.answer_request, code, "x", link_key).status_code == 409
    assert alice.api("POST", f"/api/v1/requests/{code}/cancel").status_code == 409
    [event] = events(stack, "paper_secret_request_cancelled")
    assert event.actor_email == "alice@example.com"

    later, later_key = open_request(alice)
    with stack.services.db.begin() as session:
        row = session.get(SecretRequest, later["id"])
        assert row is not None
        row.open_until = row.created_at - timedelta(seconds=1)
    assert bob.api("GET", f"/api/v1/requests/{later['request_code']}").json()[
        "status"] == "expired"
    assert refusal(bob.answer_request, later["request_code"], "x", later_key
                   ).status_code == 409


def test_an_answer_started_before_a_cancel_is_not_kept(stack: Stack) -> None:
    """The race the fulfil-in-one-transaction rule exists for."""
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    request, link_key = open_request(alice)
    code = request["request_code"]
    private_key, public_raw = new_key_pair()
    reserved = bob.api("POST", f"/api/v1/requests/{code}/answer", json={
        "format": "text", "public_key": b64url_encode(public_raw)})
    assert reserved.status_code == 201, reserved.text
    assert alice.api("POST", f"/api/v1/requests/{code}/cancel").status_code == 200
    late = refusal(bob.complete_text, reserved.json(), private_key, "too late", link_key,
                   "text")
    assert late.status_code == 409 and "not kept" in late.json()["error"]["message"]
    with stack.services.db() as session:
        answer = session.get(Secret, reserved.json()["id"])
        assert answer is not None and answer.status == "pending"  # never activated
    assert stack.stored_blobs(reserved.json()["id"]) == []
    assert alice.api("GET", f"/api/v1/requests/{code}").json()["status"] == "cancelled"


@pytest.mark.parametrize(("change", "field"), [
    ({"responders": []}, "responders"),
    ({"responders": ["stranger@elsewhere.test"]}, "responders"),
    ({"label": "x" * 501}, "label"),
    ({"expected_format": "xml"}, "expected_format"),
    ({"open_for_seconds": 60}, "open_for_seconds"),
    ({"open_for_seconds": 8 * 86400}, "open_for_seconds"),
    ({"answer_view_limit": 0}, "view_limit"),
])
def test_bad_requests_are_refused_and_nothing_is_stored(stack: Stack, change: dict[str, Any],
                                                        field: str) -> None:
    alice = stack.user("alice@example.com")
    refused = alice.api("POST", "/api/v1/requests", json={**ASK, **change})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"].get("field") == field
    assert alice.api("GET", "/api/v1/requests").json() == []


def test_a_wrong_format_answer_is_refused(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    request, link_key = open_request(alice, expected_format="env")
    assert refusal(bob.answer_request, request["request_code"], "x", link_key, "text"
                   ).status_code == 422
    bob.answer_request(request["request_code"], "A=1\n", link_key, "env")
    [listed] = alice.api("GET", "/api/v1/requests").json()
    assert (listed["status"], listed["answered_by"]) == ("fulfilled", "bob@example.com")


def test_an_external_responder_answers_after_the_emailed_link(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    request, link_key = open_request(alice, audience="external",
                                     responders=["vendor@partner.test"])
    code = request["request_code"]
    vendor, stranger = stack.anonymous(), stack.anonymous()
    # Before the link, nothing: the request's page only offers the email step.
    assert "Email me a sign-in link" in vendor.http.get(f"/r/{code}").text
    assert vendor.api("GET", f"/api/v1/requests/{code}").status_code == 401
    assert stranger.api("POST", f"/api/v1/requests/{code}/magic-link",
                        json={"email": "someone@else.test"}).status_code == 202
    asked = vendor.api("POST", f"/api/v1/requests/{code}/magic-link",
                       json={"email": "Vendor@Partner.test"})
    assert asked.status_code == 202, asked.text
    [mail] = stack.smtp.mail.wait_for(1)  # the stranger got nothing
    assert mail["To"] == "vendor@partner.test"
    assert mail["Subject"] == "alice@example.com asks you for a secret"
    assert link_key.hex() not in str(mail) and b64url_encode(link_key) not in str(mail)
    [magic_link] = links_in(mail)
    assert vendor.confirm_link(magic_link).json() == {"next": f"/r/{code}"}

    seen = vendor.api("GET", f"/api/v1/requests/{code}").json()
    assert (seen["role"], seen["requester_email"]) == ("responder", "alice@example.com")
    answer = vendor.answer_request(code, "vpn: s3cr3t", link_key)
    read = alice.api("GET", f"/api/v1/requests/{code}").json()
    assert (read["status"], read["answered_by"]) == ("fulfilled", "vendor@partner.test")
    assert alice.reveal(ShareLink("", answer.share_code, answer.secret_id, link_key)) == (
        "vpn: s3cr3t")
    [fulfilled] = events(stack, "paper_secret_request_fulfilled")
    [created] = [event for event in events(stack, "paper_secret_created")
                 if event.secret_id == answer.secret_id]
    for event in (fulfilled, created):  # the responder acted, with no user id of theirs
        assert (event.actor_email, event.actor_uid) == ("vendor@partner.test", None)
    # The guest's proof covers this request only: not another one, not a secret.
    other, _ = open_request(alice, audience="external", responders=["vendor@partner.test"])
    assert vendor.api("GET", f"/api/v1/requests/{other['request_code']}").status_code == 403


def test_a_full_size_text_answer_passes_the_body_limit(stack: Stack) -> None:
    """The answer's own routes take what a secret's take (a file's parts: tests/e2e)."""
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    request, link_key = open_request(alice)
    big = "x" * (64 * 1024)
    answer = bob.answer_request(request["request_code"], big, link_key)
    assert alice.reveal(ShareLink("", answer.share_code, answer.secret_id, link_key)) == big


def test_the_admin_console_lists_every_request_by_status_and_address(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    answered, link_key = open_request(alice, label="Answered one")
    bob.answer_request(answered["request_code"], "x", link_key)
    waiting, _ = open_request(alice, label="Still open",
                              responders=["carol@example.com"])
    admin = stack.user("admin@example.com")
    everything = admin.http.get("/admin/requests")
    assert everything.status_code == 200
    for code in (answered["request_code"], waiting["request_code"]):
        assert code in everything.text
    fulfilled = admin.http.get("/admin/requests", params={"status": "fulfilled"}).text
    assert answered["request_code"] in fulfilled and waiting["request_code"] not in fulfilled
    by_responder = admin.http.get("/admin/requests", params={"q": "carol@"}).text
    assert waiting["request_code"] in by_responder
    assert answered["request_code"] not in by_responder
    assert admin.http.get("/admin/requests", params={"status": "bogus"}).status_code == 422
    # The events are in the audit log and its filter language like any other.
    found = admin.api("GET", "/api/v1/admin/audit", params={
        "filter": 'activity_name = "paper_secret_request_fulfilled"'}).json()["items"]
    assert [event["secret"]["share_code"] for event in found] == [answered["request_code"]]
    assert found[0]["secret"]["type"] == "request"
    assert bob.http.get("/admin/requests").status_code == 403  # super admins only


def test_an_answer_too_large_is_refused_and_the_request_stays_open(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    request, link_key = open_request(alice)
    refused = refusal(bob.answer_request, request["request_code"], "x" * (64 * 1024 + 1),
                      link_key)
    assert refused.status_code == 413 and "65536 bytes" in refused.json()["error"]["message"]
    assert alice.api("GET", f"/api/v1/requests/{request['request_code']}").json()[
        "status"] == "open"
    file_too_large = bob.api("POST", f"/api/v1/requests/{request['request_code']}/answer",
                             json={"format": "file", "public_key": b64url_encode(
                                 new_key_pair()[1]), "plaintext_size": 2**30 + 1})
    assert file_too_large.status_code == 422
    assert file_too_large.json()["error"]["field"] == "plaintext_size"
