"""The hot path's database budget, counted on the wire: a proxy between the api and
PostgreSQL counts every round trip (statements, BEGIN/COMMIT, any liveness ping)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.support.pg_round_trips import RoundTripCounter, counting_proxy
from tests.support.stack import Stack, VaultServer, running_stack

# Per request, as documented in docs/ARCHITECTURE.md (the reveal transaction).
REVEAL_BUDGET = 2  # the secret with the viewer's right, the view
CREATE_BUDGET = 3  # reserve: one statement; complete: the pending secret, activation


@pytest.fixture
def proxied(tmp_path: Path, postgres_url: str, idp: str, vault: VaultServer) -> Iterator[
        tuple[Stack, RoundTripCounter]]:
    url = make_url(postgres_url)
    with counting_proxy(url.host or "127.0.0.1", url.port or 5432) as (port, counter):
        through_proxy = url.set(host="127.0.0.1", port=port,
                                query={"sslmode": "disable", "gssencmode": "disable"})
        with running_stack(data_dir=tmp_path, discovery_url=idp, vault=vault,
                           database_url=through_proxy.render_as_string(hide_password=False),
                           ) as stack:
            yield stack, counter
        from core.db.engine import create_db_engine
        from tests.support.databases import empty_all_tables

        engine = create_db_engine(postgres_url)
        empty_all_tables(engine)
        engine.dispose()


def test_creating_and_revealing_a_text_stay_within_their_round_trips(
    proxied: tuple[Stack, RoundTripCounter],
) -> None:
    stack, counter = proxied
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    alice.create_text("warm the pool", ["bob@example.com"])  # first use opens connections
    created, revealed = [], []
    for number in range(3):
        before = counter.read()
        link = alice.create_text(f"secret {number}", ["bob@example.com"])
        middle = counter.read()
        assert bob.reveal(link) == f"secret {number}"
        created.append(middle - before)
        revealed.append(counter.read() - middle)
    assert max(revealed) <= REVEAL_BUDGET, revealed
    assert max(created) <= CREATE_BUDGET, created
