"""The hot path's lean routes (http_layer.lean): answered, refused and documented as FastAPI's."""

from __future__ import annotations

from typing import Any

import pytest
from cipherslip_crypto.encoding import b64url_encode

from core.db.models import Secret
from tests.support.client import new_key_pair
from tests.support.stack import Stack

# Database-independent (see tests/conftest.py): SQLite only.
pytestmark = pytest.mark.one_database

LEAN_JSON_ROUTES = [
    ("post", "/api/v1/secrets", "CreateSecretBody", "201", "CreatedSecretOut"),
    ("post", "/api/v1/secrets/{secret_id}/complete", "CompleteBody", "200", "CompletedOut"),
    ("post", "/api/v1/shares/{share_code}/reveal", "RevealBody", "200", "RevealedOut"),
]


def schema_ref(content: dict[str, Any]) -> str:
    ref: str = content["application/json"]["schema"]["$ref"]
    return ref.removeprefix("#/components/schemas/")


@pytest.mark.parametrize(("method", "path", "body", "status", "answer"), LEAN_JSON_ROUTES)
def test_the_openapi_document_describes_each_lean_route(
    stack: Stack, method: str, path: str, body: str, status: str, answer: str,
) -> None:
    document = stack.anonymous().http.get("/api/openapi.json").json()
    operation = document["paths"][path][method]
    in_path = {parameter["name"] for parameter in operation.get("parameters", [])
               if parameter["in"] == "path"}
    assert in_path == {part.strip("{}") for part in path.split("/") if part.startswith("{")}
    assert schema_ref(operation["requestBody"]["content"]) == body
    assert schema_ref(operation["responses"][status]["content"]) == answer
    assert "422" in operation["responses"]
    schemas = document["components"]["schemas"]
    assert body in schemas and answer in schemas
    assert operation["security"], "the session and token schemes are named on it too"


def test_a_bad_reveal_body_is_a_422_naming_the_field_and_uses_no_view(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    link = alice.create_text("the password", ["bob@example.com"])
    path = f"/api/v1/shares/{link.share_code}/reveal"

    missing = bob.api("POST", path, json={"key_check": "AAAA"})
    assert missing.status_code == 422
    assert missing.json()["error"]["field"] == "public_key"
    assert "required" in missing.json()["error"]["message"].lower()

    extra = bob.api("POST", path, json={"public_key": "x", "surprise": 1})
    assert extra.status_code == 422 and extra.json()["error"]["field"] == "surprise"
    broken = bob.api("POST", path, content=b'{"public_key": ',
                     headers={"content-type": "application/json"})
    assert broken.status_code == 422 and broken.json()["error"]["code"] == "invalid_input"

    with stack.services.db() as session:
        secret = session.get(Secret, link.secret_id)
        assert secret is not None and secret.views_used == 0
    assert bob.reveal(link) == "the password"


def test_lean_routes_refuse_as_the_others_do(stack: Stack) -> None:
    visitor, bob = stack.anonymous(), stack.user("bob@example.com")
    _, public_raw = new_key_pair()
    unknown = bob.api("POST", "/api/v1/shares/ABCD-EFGH-JKMN/reveal",
                      json={"public_key": b64url_encode(public_raw)})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    anonymous = visitor.http.post("/api/v1/secrets", json={})
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"]
    wrong_method = bob.http.get("/api/v1/shares/ABCD-EFGH-JKMN/reveal")
    assert wrong_method.status_code == 405
    page = visitor.http.get("/s/ABCD-EFGH-JKMN")
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    assert page.headers["content-security-policy"] and page.headers["x-request-id"]
    assert visitor.http.get("/s/abcd-efgh-jkmn").headers["location"] == "/s/ABCD-EFGH-JKMN"
