"""Strict CSP with no inline script, no-referrer, no-store on pages and API."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.support.stack import Stack

# Database-independent (see tests/conftest.py): SQLite only.
pytestmark = pytest.mark.one_database


def assert_strict_headers(response: httpx.Response) -> None:
    csp = response.headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


def assert_no_inline_code(html: str) -> None:
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag, tag
    assert not re.search(r"<script\b[^>]*>(?!\s*</script>)", html), "inline script body"
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    assert not re.search(r"\sstyle\s*=", html), "inline style"


@pytest.fixture
def pages(stack: Stack) -> dict[str, httpx.Response]:
    alice = stack.user("alice@example.com")
    bob = stack.user("bob@example.com")
    link = alice.create_text("x", ["bob@example.com"])
    visitor = stack.anonymous()
    return {
        "home (signed out)": visitor.http.get("/"),
        "share (signed out)": visitor.http.get(f"/s/{link.share_code}"),
        "share (recipient)": bob.http.get(f"/s/{link.share_code}"),
        "share (denied)": stack.user("carol@example.com").http.get(f"/s/{link.share_code}"),
        "create": alice.http.get("/new"),
        "my secrets": alice.http.get("/secrets?status=all"),
        "detail": alice.http.get(f"/secrets/{link.secret_id}"),
        "not found page": alice.http.get("/nope"),
        "api": alice.api("GET", "/api/v1/secrets"),
        "api reveal": bob.api("POST", f"/api/v1/shares/{link.share_code}/reveal",
                              json={"public_key": "x"}),
        "api error": visitor.http.get("/api/v1/me"),
    }


def test_every_answer_has_strict_headers_and_no_store(pages: dict[str, httpx.Response]) -> None:
    for name, response in pages.items():
        assert_strict_headers(response)
        assert response.headers["cache-control"] == "no-store", name


def test_pages_have_no_inline_script_or_style(pages: dict[str, httpx.Response]) -> None:
    for name, response in pages.items():
        if response.headers["content-type"].startswith("text/html"):
            assert_no_inline_code(response.text)
        assert name


def test_static_assets_are_served_with_the_same_headers(stack: Stack) -> None:
    response = httpx.get(f"{stack.base_url}/static/css/app.css")
    assert response.status_code == 200
    assert_strict_headers(response)


def test_health_endpoints(stack: Stack) -> None:
    assert httpx.get(f"{stack.base_url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{stack.base_url}/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "blob_store": "ok", "vault": "ok",
                                      "cache": "ok"}
