"""PostgreSQL going away under load: every answer meanwhile is a 503 naming the database
(never a 500), service comes back by itself, and no view is used without its content."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from core.db.models import Secret
from tests.support.client import RevealFailed, ShareLink
from tests.support.databases import postgres_database
from tests.support.faults import TcpOutage, tcp_outage
from tests.support.stack import Stack, VaultServer, running_stack

pytestmark = pytest.mark.postgres
SECRETS = 40
READERS = 8


@pytest.fixture
def outage_stack(tmp_path: Path, idp: str, vault: VaultServer) -> Iterator[
        tuple[Stack, TcpOutage]]:
    with postgres_database() as database_url:
        url = make_url(database_url)
        with tcp_outage(url.host or "127.0.0.1", url.port or 5432) as outage:
            through = url.set(host="127.0.0.1", port=outage.port,
                              query={"sslmode": "disable", "gssencmode": "disable"})
            with running_stack(data_dir=tmp_path, discovery_url=idp, vault=vault,
                               database_url=through.render_as_string(hide_password=False),
                               reveal_rate_per_user=100_000, reveal_rate_per_ip=100_000,
                               create_rate_per_user=100_000,
                               ) as stack:
                yield stack, outage


def test_reveals_while_the_database_is_down_are_503_and_resume_by_themselves(
    outage_stack: tuple[Stack, TcpOutage],
) -> None:
    stack, outage = outage_stack
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    links = [alice.create_text(f"secret {n}", ["bob@example.com"], view_limit=1)
             for n in range(SECRETS)]
    outcomes: Counter[str] = Counter()
    delivered: dict[str, str] = {}
    lock = threading.Lock()
    half_way = threading.Event()

    def reveal(index: int, link: ShareLink) -> None:
        if index == SECRETS // 4:
            half_way.set()
        try:
            text = bob.reveal(link)
        except RevealFailed as failed:
            error = failed.response.json()["error"]
            with lock:
                outcomes[f"{failed.response.status_code} {error['code']}"] += 1
            assert failed.response.headers.get("retry-after")
            return
        with lock:
            outcomes["200"] += 1
            delivered[link.secret_id] = text

    with ThreadPoolExecutor(READERS) as readers:
        futures = [readers.submit(reveal, index, link) for index, link in enumerate(links)]
        half_way.wait(30)
        outage.down()  # under load: reveals in flight lose their connections
        time.sleep(1.0)
        outage.up()
        for future in futures:
            future.result()
    assert set(outcomes) <= {"200", "503 database_unavailable"}, outcomes
    assert outcomes["503 database_unavailable"] > 0, outcomes  # the outage was seen

    # Back without restarting anything; the refused reveals used no view and work now.
    for link in links:
        if link.secret_id not in delivered:
            delivered[link.secret_id] = bob.reveal(link)
    assert delivered == {link.secret_id: f"secret {n}" for n, link in enumerate(links)}
    with stack.services.db() as session:
        assert session.scalar(select(func.sum(Secret.views_used))) == SECRETS
