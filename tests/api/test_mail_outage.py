"""The SMTP server going away while external recipients ask for sign-in links and colleagues
reveal: every link request meanwhile is a 202 or a 503 naming the mail server (never a 500, and
the same for recipients and strangers), reveals go on untouched, and once the server is back
on its port every recipient gets a link and reveals, with views used equal to contents
delivered."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.db.models import Secret
from tests.support.client import ShareLink
from tests.support.databases import sqlite_database
from tests.support.smtp import links_in
from tests.support.stack import Stack

GUESTS = 16
COLLEAGUE_SECRETS = 16
WORKERS = 8


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """One database is enough: the outage under test is the mail server's."""
    with sqlite_database(tmp_path) as url:
        yield url


@pytest.fixture
def stack_options() -> dict[str, object]:
    return {"magic_link_rate_per_ip": 10_000, "reveal_rate_per_user": 10_000,
            "reveal_rate_per_ip": 10_000, "create_rate_per_user": 10_000}


def guest(number: int) -> str:
    return f"guest{number}@partner.test"


def latest_link_to(stack: Stack, address: str) -> str | None:
    links = [links_in(m)[0] for m in stack.smtp.mail.messages if m["To"] == address]
    return links[-1] if links else None


def test_a_mail_outage_under_load_answers_503_and_loses_nothing(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    external = {guest(n): alice.create_text(f"for {guest(n)}", [guest(n)], audience="external")
                for n in range(GUESTS)}
    internal = [alice.create_text(f"colleague {n}", ["bob@example.com"])
                for n in range(COLLEAGUE_SECRETS)]
    visitors = {address: stack.anonymous() for address in external}  # one browser each
    outcomes: Counter[str] = Counter()
    revealed: dict[str, str] = {}
    lock = threading.Lock()
    started = threading.Event()

    def ask(address: str, link: ShareLink) -> None:
        started.set()
        for email in (address, f"stranger-{address}"):  # a recipient, then a non-recipient
            response = visitors[address].request_link(link.share_code, email)
            outcome = str(response.status_code)
            if response.status_code == 503:
                assert response.headers.get("retry-after")
                outcome += " " + response.json()["error"]["code"]
            with lock:
                outcomes[outcome] += 1
            time.sleep(0.05)

    def reveal(link: ShareLink) -> None:
        text = bob.reveal(link)
        with lock:
            revealed[link.secret_id] = text

    with ThreadPoolExecutor(WORKERS) as pool:
        futures = [pool.submit(ask, address, link) for address, link in external.items()]
        futures += [pool.submit(reveal, link) for link in internal]
        started.wait(30)
        time.sleep(0.2)
        stack.smtp.stop()  # under load: sends in flight lose their server
        time.sleep(1.0)
        stack.smtp.start()
        for future in futures:
            future.result()

    assert set(outcomes) <= {"202", "503 mail_unavailable"}, outcomes
    assert outcomes["503 mail_unavailable"] > 0, outcomes  # the outage was seen
    assert revealed == {link.secret_id: f"colleague {n}" for n, link in enumerate(internal)}

    # Back on its port, no restart of the api: whoever got no mail asks again and gets one.
    for address, link in external.items():
        if latest_link_to(stack, address) is None:
            assert visitors[address].request_link(link.share_code, address).status_code == 202
    stack.smtp.mail.wait_for(GUESTS)
    for address, link in external.items():
        magic_link = latest_link_to(stack, address)
        assert magic_link is not None, f"no sign-in link reached {address}"
        recipient = stack.anonymous()
        assert recipient.confirm_link(magic_link).status_code == 200
        revealed[link.secret_id] = recipient.reveal(link)
    assert all(revealed[link.secret_id] == f"for {address}"
               for address, link in external.items())
    assert not any(m["To"].startswith("stranger-") for m in stack.smtp.mail.messages)
    with stack.services.db() as session:
        assert session.scalar(select(func.sum(Secret.views_used))) == len(revealed)
