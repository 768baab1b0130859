"""PostgreSQL going away under load — the test's own cluster crashing and restarting, or the
network to it cut — every answer meanwhile is a 503 naming the database (never a 500), service
comes back by itself without restarting the api, and no view is used without its content."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from core.db.models import Secret
from tests.support.databases import postgres_database
from tests.support.faults import reveals_through_outage, tcp_outage
from tests.support.pg_cluster import PostgresCluster, postgres_cluster
from tests.support.stack import Stack, VaultServer, running_stack

pytestmark = pytest.mark.postgres
SECRETS = 40
READERS = 8


class Outage(Protocol):
    def down(self) -> None: ...
    def up(self) -> None: ...


@dataclass
class ClusterCrash:
    """The server itself goes: every backend killed at once, then a restart with recovery."""

    cluster: PostgresCluster

    def down(self) -> None:
        self.cluster.crash()

    def up(self) -> None:
        self.cluster.start()


@contextmanager
def database_with_outage(kind: str) -> Iterator[tuple[str, Outage]]:
    if kind == "server crash":
        with postgres_cluster() as cluster:
            yield cluster.url, ClusterCrash(cluster)
        return
    # The network goes: connections cut mid-statement, new ones refused, the server fine.
    with postgres_database() as database_url:
        url = make_url(database_url)
        with tcp_outage(url.host or "127.0.0.1", url.port or 5432) as outage:
            through = url.set(host="127.0.0.1", port=outage.port,
                              query={"sslmode": "disable", "gssencmode": "disable"})
            yield through.render_as_string(hide_password=False), outage


@pytest.fixture(params=["server crash", "network cut"])
def outage_stack(request: pytest.FixtureRequest, tmp_path: Path, idp: str,
                 vault: VaultServer) -> Iterator[tuple[Stack, Outage]]:
    with database_with_outage(request.param) as (database_url, outage), running_stack(
            data_dir=tmp_path, discovery_url=idp, vault=vault, database_url=database_url,
            reveal_rate_per_user=100_000, reveal_rate_per_ip=100_000,
            create_rate_per_user=100_000) as stack:
        yield stack, outage


def test_reveals_while_the_database_is_down_are_503_and_resume_by_themselves(
    outage_stack: tuple[Stack, Outage],
) -> None:
    stack, outage = outage_stack
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    links = [alice.create_text(f"secret {n}", ["bob@example.com"], view_limit=1)
             for n in range(SECRETS)]
    seen = reveals_through_outage(bob, links, down=outage.down, up=outage.up,
                                  readers=READERS)
    outcomes, delivered = seen.outcomes, seen.delivered
    assert set(outcomes) <= {"200", "503 database_unavailable"}, outcomes
    assert outcomes["503 database_unavailable"] > 0, outcomes  # the outage was seen

    # Back without restarting anything; the refused reveals used no view and work now.
    delivered = seen.reveal_the_rest(bob, links)
    assert delivered == {link.secret_id: f"secret {n}" for n, link in enumerate(links)}
    with stack.services.db() as session:
        assert session.scalar(select(func.sum(Secret.views_used))) == SECRETS
