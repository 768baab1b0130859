"""The API tokens pages: a person's own under their menu, the tenant's in the admin console."""

from __future__ import annotations

import re

import pytest

from tests.support.client import BrowserLikeClient, TokenClient
from tests.support.idp import csrf_token_from
from tests.support.stack import Stack

pytestmark = pytest.mark.one_database  # pages over the token service (tested on its own)


@pytest.fixture
def stack_options() -> dict[str, object]:
    return {"super_admin_emails": ("admin@example.com",)}


def create_on_the_page(person: BrowserLikeClient, **form: object) -> tuple[int, str]:
    page = person.http.get("/tokens")
    fields = {"csrf_token": csrf_token_from(page.text), "name": "laptop",
              "expires_in_days": "30", **form}
    answer = person.http.post("/tokens", data=fields)
    return answer.status_code, answer.text


def test_a_token_made_on_the_page_is_shown_once_and_works(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    assert "API tokens" in alice.http.get("/secrets").text  # in the menu
    status, html = create_on_the_page(alice, scopes=["secrets:read", "secrets:write"])
    assert status == 201
    [token] = re.findall(r"cipherslip_pat_[0-9A-Za-z]{49}", html)
    assert "shown only this once" in html
    later = alice.http.get("/tokens").text
    assert token not in later and token[-4:] in later and "laptop" in later
    assert TokenClient(stack.base_url, token).api("GET", "/api/v1/secrets").status_code == 200
    # Only super admins are offered audit:read.
    assert "audit:read" not in later


def test_a_bad_form_says_what_is_wrong_and_creates_nothing(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    status, html = create_on_the_page(alice)  # no scope chosen
    assert status == 422 and "Choose at least one scope" in html
    assert "cipherslip_pat_" not in html
    assert alice.api("GET", "/api/v1/tokens").json() == []


def test_revoking_on_the_page_and_in_the_admin_console(stack: Stack) -> None:
    alice, admin = stack.user("alice@example.com"), stack.user("admin@example.com")
    _, html = create_on_the_page(alice, scopes=["secrets:read"], name="first")
    [first] = re.findall(r"cipherslip_pat_[0-9A-Za-z]{49}", html)
    _, html = create_on_the_page(alice, scopes=["secrets:read"], name="second")
    [second] = re.findall(r"cipherslip_pat_[0-9A-Za-z]{49}", html)
    ids = {one["name"]: one["id"] for one in alice.api("GET", "/api/v1/tokens").json()}

    page = alice.http.get("/tokens")
    done = alice.http.post(f"/tokens/{ids['first']}/revoke",
                           data={"csrf_token": csrf_token_from(page.text)})
    assert done.status_code == 303 and done.headers["location"] == "/tokens?revoked=1"
    assert TokenClient(stack.base_url, first).api("GET", "/api/v1/secrets").status_code == 401

    console = admin.http.get("/admin/tokens")
    assert console.status_code == 200
    assert "alice@example.com" in console.text and "second" in console.text
    admin.http.post(f"/admin/tokens/{ids['second']}/revoke",
                    data={"csrf_token": csrf_token_from(console.text)})
    assert TokenClient(stack.base_url, second).api("GET", "/api/v1/secrets").status_code == 401
    assert alice.http.get("/admin/tokens").status_code == 403
