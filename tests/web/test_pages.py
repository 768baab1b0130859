"""The server-rendered pages: what each person sees, and the revoke form."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.db.models import User
from tests.support.idp import csrf_token_from
from tests.support.stack import Stack

# Database-independent (see tests/conftest.py): SQLite only.
pytestmark = pytest.mark.one_database


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_signed_out_share_page_reveals_nothing_about_the_secret(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    link = alice.create_text("x", ["bob@example.com"], label="Quarterly payroll export")
    page = stack.anonymous().http.get(f"/s/{link.share_code}")
    assert page.status_code == 200
    assert "Someone shared a secret with you" in page.text
    assert f'href="/auth/login?next=/s/{link.share_code}"' in page.text
    assert "payroll" not in page.text and "alice" not in page.text


def test_an_external_recipient_is_told_who_shares_and_what_each_step_does(
    stack: Stack,
) -> None:
    alice = stack.user("alice@example.com")
    link = alice.create_text("x", ["ops@partner.test"], audience="external",
                             label="Quarterly payroll export")
    with stack.services.db() as session:
        sender = session.scalar(select(User.name).where(User.email == "alice@example.com"))
    words = text_of(stack.anonymous().http.get(f"/s/{link.share_code}").text)
    organization = stack.settings.tenant_name
    assert f"{sender} at {organization} shared a secret with you" in words
    assert "Confirm your email address." in words and "Press Reveal." in words
    assert "payroll" not in words  # the label is for recipients only


def test_recipient_sees_label_sender_expiry_and_views_left(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    link = alice.create_text("x", ["bob@example.com"], label="<b>Prod</b> & more", view_limit=3)
    page = bob.http.get(f"/s/{link.share_code}")
    assert page.status_code == 200
    # Labels are text, never HTML.
    assert "&lt;b&gt;Prod&lt;/b&gt; &amp; more" in page.text
    assert "<b>Prod</b>" not in page.text
    words = text_of(page.text)
    assert "alice@example.com" in words and "Views left 3" in words
    assert 'id="reveal-button"' in page.text


def test_share_page_states(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    carol = stack.user("carol@example.com")
    link = alice.create_text("x", ["bob@example.com"], view_limit=1)

    denied = carol.http.get(f"/s/{link.share_code}")
    assert (denied.status_code, "Access denied" in denied.text) == (403, True)
    missing = bob.http.get("/s/ZZZZ-ZZZZ-ZZZZ")
    assert (missing.status_code, "Not found" in missing.text) == (404, True)
    lower = bob.http.get(f"/s/{link.share_code.lower()}")
    assert (lower.status_code, lower.headers["location"]) == (308, f"/s/{link.share_code}")

    bob.reveal(link)
    burned = bob.http.get(f"/s/{link.share_code}")
    assert burned.status_code == 410
    assert re.search(r'id="share-status">Burned<', burned.text)
    assert "view limit" in burned.text


def test_my_secrets_page_lists_and_filters(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    used = alice.create_text("x", ["bob@example.com"], view_limit=1, label="used up")
    alice.create_text("y", ["bob@example.com", "carol@example.com"], view_limit=10,
                      label="still live")
    bob.reveal(used)
    active = text_of(alice.http.get("/secrets").text)
    assert "still live" in active and "used up" not in active
    assert "0 / 10" in active
    everything = text_of(alice.http.get("/secrets?status=all").text)
    assert "used up" in everything and "Burned" in everything and "1 / 1" in everything


def test_detail_page_shows_activity_and_revokes_through_its_form(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    link = alice.create_text("x", ["bob@example.com"], view_limit=5, label="revoke me")
    bob.reveal(link)
    detail = alice.http.get(f"/secrets/{link.secret_id}")
    words = text_of(detail.text)
    assert "Opened by bob@example.com" in words and "Shared by alice@example.com" in words
    assert "paper_secret" not in words
    assert f"/s/{link.share_code}#…" in words  # the key is not known to the server
    assert "1 of 5" in words

    response = alice.http.post(f"/secrets/{link.secret_id}/revoke",
                               data={"csrf_token": csrf_token_from(detail.text)})
    assert (response.status_code, response.headers["location"]) == (
        303, f"/secrets/{link.secret_id}?revoked=1")
    after = alice.http.get(response.headers["location"])
    assert re.search(r'id="secret-status"[^>]*>Revoked<', after.text)
    assert "revoke-button" not in after.text
    assert bob.http.get(f"/s/{link.share_code}").status_code == 410


def test_someone_elses_detail_page_is_not_found(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    link = alice.create_text("x", ["bob@example.com"])
    page = bob.http.get(f"/secrets/{link.secret_id}")
    assert page.status_code == 404
    assert "No such secret of yours." in page.text


def test_create_page_carries_the_limits_for_the_browser(stack: Stack) -> None:
    page = stack.user("alice@example.com").http.get("/new")
    assert 'data-recipients-max="128"' in page.text
    assert 'data-text-max-bytes="65536"' in page.text
    assert '<script type="module" src="/static/dist/create.js">' in page.text


def test_the_share_button_waits_for_the_page_script(stack: Stack) -> None:
    # Until create.js has run, a click would submit the form as a plain page load (losing
    # what was typed): the page serves the button disabled, and the script enables it.
    page = stack.user("alice@example.com").http.get("/new").text
    assert '<button id="share-button" type="submit" disabled>' in page
