"""With the vault down nothing is created and no view is consumed (SPEC §3)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.db.models import AuditEvent, Secret
from tests.support.client import RevealFailed
from tests.support.stack import Stack, running_stack, vault_server


@pytest.fixture
def stack_with_own_vault(tmp_path: Path, database_url: str, idp: str) -> Iterator[Stack]:
    with vault_server(tmp_path / "vault-data") as own_vault, running_stack(
        data_dir=tmp_path, database_url=database_url, discovery_url=idp, vault=own_vault,
    ) as stack:
        yield stack


def test_reveal_with_vault_down_answers_503_and_keeps_the_view(
    stack_with_own_vault: Stack,
) -> None:
    stack = stack_with_own_vault
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    link = alice.create_text("still here", ["bob@example.com"], view_limit=1)
    stack.vault.server.stop()
    with pytest.raises(RevealFailed) as failure:
        bob.reveal(link)
    assert failure.value.response.status_code == 503
    assert failure.value.response.json()["error"]["code"] == "vault_unavailable"
    with stack.services.db() as session:
        secret = session.get(Secret, link.secret_id)
        assert secret is not None
        assert (secret.status, secret.views_used) == ("active", 0)
        opened = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.activity_name == "paper_secret_opened_internal"))
        assert opened == 0
    stack.vault.server.start()
    assert bob.reveal(link) == "still here"


def test_create_with_vault_down_stores_nothing(stack_with_own_vault: Stack) -> None:
    stack = stack_with_own_vault
    alice = stack.user("alice@example.com")
    stack.vault.server.stop()
    response, _ = alice.start_secret(["bob@example.com"])
    assert response.status_code == 503
    with stack.services.db() as session:
        assert session.scalar(select(func.count()).select_from(Secret)) == 0
