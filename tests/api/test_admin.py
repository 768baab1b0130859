"""The super admin console's API: roles, the tenant's secrets (metadata only), admin revoke,
the audit log with the filter language, JSON Lines export, and tenant isolation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cipherslip_crypto.encoding import b64url_encode
from sqlalchemy import event as sa_event
from sqlalchemy import select

from core.db.models import AuditEvent, Secret
from core.services.audit_chain import link_pending
from core.settings import TenantConfig
from tests.support.client import BrowserLikeClient, RevealFailed, ShareLink
from tests.support.idp import set_claims
from tests.support.stack import Stack

ADMIN = "root@example.com"
BETA_ADMIN = "boss@beta.test"


@pytest.fixture
def stack_options() -> dict[str, object]:
    return {
        "super_admin_emails": (ADMIN, BETA_ADMIN),
        "oidc_admin_claim": "groups", "oidc_admin_group": "cipherslip-admins",
        "tenants": (TenantConfig(id="beta", name="Beta", domains=("beta.test",)),),
        "reveal_rate_per_user": 1000, "reveal_rate_per_ip": 1000,
    }


def activity(stack: Stack) -> dict[str, Any]:
    """Alice shares two secrets; Bob opens one; Carol is refused; Alice revokes one."""
    alice, bob, carol = (stack.user(f"{n}@example.com") for n in ("alice", "bob", "carol"))
    db_link = alice.create_text("db", ["bob@example.com"], label="Prod DB", view_limit=5)
    vpn_link = alice.create_text("vpn", ["carol@example.com", "dave@example.com"],
                                 label="VPN", view_limit=None)
    bob.reveal(db_link)
    with pytest.raises(RevealFailed):
        carol.reveal(db_link)
    alice.api("POST", f"/api/v1/secrets/{vpn_link.secret_id}/revoke")
    return {"alice": alice, "bob": bob, "carol": carol, "db": db_link, "vpn": vpn_link}


def admin_get(client: BrowserLikeClient, path: str, **params: Any) -> Any:
    response = client.api("GET", path, params=params)
    assert response.status_code == 200, response.text
    return response.json() if "export" not in path else response.text


# --- roles ------------------------------------------------------------------------------
def test_basic_users_are_refused_everywhere_and_audited(stack: Stack) -> None:
    link = activity(stack)["db"]
    bob = stack.user("bob@example.com")
    for method, path in [
        ("GET", "/api/v1/admin/secrets"), ("GET", f"/api/v1/admin/secrets/{link.secret_id}"),
        ("POST", f"/api/v1/admin/secrets/{link.secret_id}/revoke"),
        ("GET", "/api/v1/admin/audit"), ("GET", "/api/v1/admin/audit/export"),
        ("GET", "/admin/secrets"), ("GET", "/admin/audit"),
    ]:
        response = bob.api(method, path)
        assert response.status_code == 403, (method, path)
        if path.startswith("/api/"):
            assert "only super admins" in response.text
        else:  # a page says it as a sentence
            assert "Only super admins can see the tenant's secrets and audit log." in (
                response.text.replace("&#39;", "'"))
    with stack.services.db() as session:
        refused = session.scalars(select(AuditEvent).where(
            AuditEvent.status_detail == "not_super_admin")).all()
        assert session.get(Secret, link.secret_id).status == "active"  # type: ignore[union-attr]
    assert len(refused) == 7
    assert {event.actor_email for event in refused} == {"bob@example.com"}


def test_admins_come_from_settings_or_the_idp_group(stack: Stack, idp: str) -> None:
    assert stack.user(ADMIN).api("GET", "/api/v1/admin/secrets").status_code == 200
    set_claims(idp, "grouped@example.com", {"email": "grouped@example.com",
                                            "email_verified": True,
                                            "groups": ["staff", "cipherslip-admins"]})
    grouped = BrowserLikeClient(stack.base_url, "grouped@example.com")
    stack.clients.append(grouped)
    from tests.support.idp import sign_in_without_registering

    sign_in_without_registering(grouped.http, "grouped@example.com")
    assert grouped.api("GET", "/api/v1/admin/secrets").status_code == 200


# --- secrets tab ------------------------------------------------------------------------
def test_secrets_tab_lists_searches_filters_and_pages(stack: Stack) -> None:
    seen = activity(stack)
    admin = stack.user(ADMIN)
    everything = admin_get(admin, "/api/v1/admin/secrets")
    assert everything["total"] == 2
    by_label = {row["label"]: row for row in everything["items"]}
    assert by_label["VPN"]["status"] == "revoked" and by_label["Prod DB"]["views_used"] == 1
    assert by_label["VPN"]["recipients_count"] == 2
    assert by_label["Prod DB"]["creator_email"] == "alice@example.com"
    searches = {"prod": ["Prod DB"], "DAVE@": ["VPN"], "alice": ["Prod DB", "VPN"],
                seen["db"].share_code.lower(): ["Prod DB"], "nothing-like-it": []}
    for term, labels in searches.items():
        found = admin_get(admin, "/api/v1/admin/secrets", q=term)["items"]
        assert sorted(row["label"] for row in found) == labels, term
    assert [r["label"] for r in admin_get(admin, "/api/v1/admin/secrets",
                                         status="revoked")["items"]] == ["VPN"]
    first = admin_get(admin, "/api/v1/admin/secrets", page_size=1)
    second = admin_get(admin, "/api/v1/admin/secrets", page_size=1, page=2)
    assert {first["items"][0]["id"], second["items"][0]["id"]} == {
        seen["db"].secret_id, seen["vpn"].secret_id}
    assert admin.api("GET", "/api/v1/admin/secrets", params={"status": "odd"}).status_code == 422


def test_metadata_view_holds_no_key_material(stack: Stack) -> None:
    link: ShareLink = activity(stack)["db"]
    with stack.services.db() as session:
        secret = session.get(Secret, link.secret_id)
        assert secret is not None and secret.wrapped_key and secret.sealed_meta
        wrapped, sealed, blob_key = secret.wrapped_key, secret.sealed_meta, secret.blob_key
    metadata = admin_get(stack.user(ADMIN), f"/api/v1/admin/secrets/{link.secret_id}")
    text = json.dumps(metadata)
    for secret_bytes in (wrapped, sealed, link.link_key):
        for form in (b64url_encode(secret_bytes), secret_bytes.hex()):
            assert form not in text
    assert blob_key is not None and blob_key not in text
    assert metadata["share_code"] == link.share_code
    assert metadata["recipients"] == ["bob@example.com"]
    assert metadata["content"]["present"] is True and metadata["views_left"] == 4


def test_admin_revoke_destroys_content_and_is_recorded(stack: Stack) -> None:
    seen = activity(stack)
    link: ShareLink = seen["db"]
    admin = stack.user(ADMIN)
    response = admin.api("POST", f"/api/v1/admin/secrets/{link.secret_id}/revoke")
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    assert response.json()["content"] == {"present": False, "ciphertext_bytes": None}
    assert stack.stored_blobs(link.secret_id) == []
    with pytest.raises(RevealFailed) as refused:
        seen["bob"].reveal(link)
    assert refused.value.response.json()["error"]["status"] == "revoked"
    [event] = admin_get(admin, "/api/v1/admin/audit",
                        filter='activity_name = "paper_secret_revoked_admin"')["items"]
    assert event["actor"]["user"]["email"] == ADMIN
    assert event["secret"]["id"] == link.secret_id
    again = admin.api("POST", f"/api/v1/admin/secrets/{link.secret_id}/revoke")
    assert again.status_code == 409


# --- audit log --------------------------------------------------------------------------
def test_audit_log_newest_first_with_pages_and_quick_filters(stack: Stack) -> None:
    activity(stack)
    admin = stack.user(ADMIN)
    page = admin_get(admin, "/api/v1/admin/audit", limit=3)
    ids = [item["id"] for item in page["items"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == 3
    older = admin_get(admin, "/api/v1/admin/audit", limit=3, before=page["next_before"])
    assert max(item["id"] for item in older["items"]) < min(ids)
    bobs = admin_get(admin, "/api/v1/admin/audit", actor="BOB@example.com")["items"]
    assert [item["activity_name"] for item in bobs] == ["paper_secret_opened_internal"]
    local = admin_get(admin, "/api/v1/admin/audit", ip="127.0.0.1")["items"]
    assert local and all(item["src_endpoint"]["ip"] == "127.0.0.1" for item in local)
    assert admin_get(admin, "/api/v1/admin/audit", ip="10.9.9.9")["items"] == []


def test_seed_filters_through_the_api(stack: Stack) -> None:
    activity(stack)
    admin = stack.user(ADMIN)

    def names(filter_text: str) -> list[str]:
        items = admin_get(admin, "/api/v1/admin/audit", filter=filter_text, limit=200)["items"]
        return sorted(item["activity_name"] for item in items)

    with stack.services.db() as session:
        stored = sorted(session.scalars(select(AuditEvent.activity_name)))
    assert names('activity_name starts with "paper_secret_"') == stored
    assert names('activity_name in ("paper_secret_opened", "paper_secret_opened_internal")') == [
        "paper_secret_opened_internal"]
    assert names('activity_name = "paper_secret_access_denied"') == ["paper_secret_access_denied"]
    assert names('activity_name starts with "paper_secret_" AND '
                 'actor.user.email = "carol@example.com"') == ["paper_secret_access_denied"]
    assert names('actor.user.email = "x\' OR \'1\'=\'1"') == []  # injection is just data


MALFORMED = [
    "activity_name", 'activity_name =', '= "x"', 'activity_name == "x"',
    'activity_name = "unterminated', '(activity_name = "x"', 'activity_name = "x")',
    'nosuchfield = "x"', 'activity_name < "x"', 'time > "yesterday"', 'activity_name in ()',
    'activity_name in ("a" "b")', 'activity_name = "x" AND', 'AND activity_name = "x"',
    'NOT', 'activity_name starts "x"', 'activity_name contains', '"just a value"',
    'activity_name = x', 'activity_name = "x" OR OR actor.user.email = "y"',
]


def test_malformed_filters_are_400_with_a_position_and_run_no_sql(stack: Stack) -> None:
    admin = stack.user(ADMIN)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    sa_event.listen(stack.services.engine, "before_cursor_execute", count)
    try:
        for text in MALFORMED:
            for path in ("/api/v1/admin/audit", "/api/v1/admin/audit/export"):
                response = admin.api("GET", path, params={"filter": text})
                assert response.status_code == 400, (text, response.text)
                error = response.json()["error"]
                assert 0 <= error["position"] <= len(text)
                assert (error["field"] == "filter" and "character" in error["message"]) or (
                    "end of" in error["message"]), (text, error)
    finally:
        sa_event.remove(stack.services.engine, "before_cursor_execute", count)
    assert statements == []


def test_export_streams_json_lines_matching_the_filter(stack: Stack) -> None:
    activity(stack)
    admin = stack.user(ADMIN)

    def export() -> list[dict[str, Any]]:
        response = admin.api("GET", "/api/v1/admin/audit/export",
                             params={"filter": 'activity_name = "paper_secret_created"'})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-ndjson")
        assert "attachment" in response.headers["content-disposition"]
        return [json.loads(line) for line in response.text.splitlines()]

    # Until the sequencer has linked them, events carry no chain position or hashes.
    assert [line["metadata"] for line in export()] == [
        {"sequence": None, "prev_hash": None, "hash": None}] * 2
    link_pending(stack.services.db)
    lines = export()
    assert [line["activity_name"] for line in lines] == ["paper_secret_created"] * 2
    assert all(line["metadata"]["hash"] and line["actor"]["user"]["email"] for line in lines)
    assert lines[0]["metadata"]["sequence"] < lines[1]["metadata"]["sequence"]
    assert lines[0]["id"] < lines[1]["id"]  # oldest first, like a log file


# --- tenants ----------------------------------------------------------------------------
def test_a_tenant_admin_sees_nothing_of_another_tenant(stack: Stack) -> None:
    activity(stack)
    beta_user = stack.user("eve@beta.test")
    beta_link = beta_user.create_text("beta secret", ["frank@beta.test"], label="Beta only")
    admin = stack.user(ADMIN)
    assert all(row["label"] != "Beta only"
               for row in admin_get(admin, "/api/v1/admin/secrets")["items"])
    assert admin_get(admin, "/api/v1/admin/secrets", q="beta")["items"] == []
    assert admin.api("GET", f"/api/v1/admin/secrets/{beta_link.secret_id}").status_code == 404
    assert admin.api("POST",
                     f"/api/v1/admin/secrets/{beta_link.secret_id}/revoke").status_code == 404
    assert admin.http.get(f"/admin/secrets/{beta_link.secret_id}").status_code == 404
    for query in ({"filter": f'secret.id = "{beta_link.secret_id}"'},
                  {"actor": "eve@beta.test"}, {"filter": 'actor.user.email contains "beta"'}):
        assert admin_get(admin, "/api/v1/admin/audit", **query)["items"] == []
        assert admin_get(admin, "/api/v1/admin/audit/export", **query) == ""
    assert "beta.test" not in admin.http.get("/admin/audit").text
    secrets_page = admin.http.get("/admin/secrets?status=all").text
    assert "Beta only" not in secrets_page and beta_link.share_code not in secrets_page
    assert "Prod DB" in secrets_page
    # And the other way around.
    boss = stack.user(BETA_ADMIN)
    labels = [row["label"] for row in admin_get(boss, "/api/v1/admin/secrets")["items"]]
    assert labels == ["Beta only"]
    exported = admin_get(boss, "/api/v1/admin/audit/export")
    assert "example.com" not in exported.replace("@beta.test", "")


@pytest.mark.parametrize(("path", "field"), [
    (f"/api/v1/admin/secrets?page={10**17}&page_size=100", "page"),
    ("/api/v1/admin/secrets?page=0", "page"),
    ("/api/v1/admin/secrets?page_size=100000", "page_size"),
    (f"/api/v1/admin/audit?before={2**70}", "before"),
    (f"/api/v1/admin/audit?before={-(2**70)}", "before"),
    ("/api/v1/admin/audit?limit=0", "limit"),
])
def test_out_of_range_numbers_are_422_naming_the_field(
    stack: Stack, path: str, field: str
) -> None:
    response = stack.user(ADMIN).api("GET", path)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field


def test_an_out_of_range_page_of_the_console_is_a_page_saying_so(stack: Stack) -> None:
    admin = stack.user(ADMIN)
    for path in (f"/admin/audit?before={2**70}", f"/admin/secrets?page={10**17}"):
        response = admin.http.get(path)
        assert response.status_code == 422, (path, response.status_code)
        assert "must be" in response.text


@pytest.mark.parametrize("query", [{"actor": "a\x00b"}, {"ip": "\x00"},
                                   {"filter": 'actor.user.email = "a\\u0000"'}])
def test_nul_characters_are_refused_before_an_export_starts(
    stack: Stack, query: dict[str, str]
) -> None:
    admin = stack.user(ADMIN)
    for path in ("/api/v1/admin/audit", "/api/v1/admin/audit/export"):
        response = admin.api("GET", path, params=query)
        assert response.status_code in (400, 422), (path, response.status_code, response.text)
