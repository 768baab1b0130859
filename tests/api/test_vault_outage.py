"""With the vault down nothing is created and no view is consumed (docs/ARCHITECTURE.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.db.models import AuditEvent, Secret
from tests.support.client import RevealFailed
from tests.support.faults import reveals_through_outage
from tests.support.stack import Stack, VaultServer, running_stack, vault_server
from tests.support.vault_process import VaultProcess, vault_process

RATES = {"reveal_rate_per_user": 1000, "reveal_rate_per_ip": 1000,
         "create_rate_per_user": 1000}


@pytest.fixture
def stack_with_own_vault(tmp_path: Path, database_url: str, idp: str) -> Iterator[
        tuple[Stack, VaultServer]]:
    with vault_server(tmp_path / "vault-data") as own_vault, running_stack(
        data_dir=tmp_path, database_url=database_url, discovery_url=idp, vault=own_vault,
        **RATES,
    ) as stack:
        yield stack, own_vault


@pytest.fixture
def stack_with_vault_process(tmp_path: Path, database_url: str, idp: str) -> Iterator[
        tuple[Stack, VaultProcess]]:
    with vault_process(tmp_path / "vault-data") as own_vault, running_stack(
        data_dir=tmp_path, database_url=database_url, discovery_url=idp, vault=own_vault,
        **RATES,
    ) as stack:
        yield stack, own_vault


def test_reveal_with_vault_down_answers_503_and_keeps_the_view(
    stack_with_own_vault: tuple[Stack, VaultServer],
) -> None:
    stack, vault = stack_with_own_vault
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    link = alice.create_text("still here", ["bob@example.com"], view_limit=1)
    vault.server.stop()
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
    vault.server.start()
    assert bob.reveal(link) == "still here"


def test_create_with_vault_down_stores_nothing(
    stack_with_own_vault: tuple[Stack, VaultServer],
) -> None:
    stack, vault = stack_with_own_vault
    alice = stack.user("alice@example.com")
    vault.server.stop()
    response, _ = alice.start_secret(["bob@example.com"])
    assert response.status_code == 503
    with stack.services.db() as session:
        assert session.scalar(select(func.count()).select_from(Secret)) == 0


def test_the_vault_crashing_under_concurrent_reveals_uses_no_view_without_content(
    stack_with_vault_process: tuple[Stack, VaultProcess],
) -> None:
    stack, vault = stack_with_vault_process
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    links = [alice.create_text(f"text {n}", ["bob@example.com"], view_limit=1)
             for n in range(24)]
    # SIGKILL: calls in flight see their connection reset; back on the same port and key.
    seen = reveals_through_outage(bob, links, down=vault.kill, up=vault.start, readers=6,
                                  down_seconds=0.5)
    assert set(seen.outcomes) == {"200", "503 vault_unavailable"}, seen.outcomes  # never 500
    delivered = seen.reveal_the_rest(bob, links)  # the refused ones' views were still there
    assert delivered == {link.secret_id: f"text {n}" for n, link in enumerate(links)}
    with stack.services.db() as session:
        assert session.scalar(select(func.sum(Secret.views_used))) == len(links)
