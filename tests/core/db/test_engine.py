"""The pool lends connections without a round trip of its own, and survives dropped ones."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, exc, text
from sqlalchemy.engine import make_url

from core.db import engine as engine_module
from core.db.engine import autocommit_connection, create_db_engine
from tests.support.databases import postgres_database
from tests.support.pg_round_trips import RoundTripCounter, counting_proxy


@pytest.fixture
def proxied_engine(postgres_url: str) -> Iterator[tuple[Engine, RoundTripCounter]]:
    url = make_url(postgres_url)
    with counting_proxy(url.host or "127.0.0.1", url.port or 5432) as (port, counter):
        through_proxy = url.set(host="127.0.0.1", port=port,
                                query={"sslmode": "disable", "gssencmode": "disable"})
        engine = create_db_engine(through_proxy.render_as_string(hide_password=False),
                                  pool_size=1)
        yield engine, counter
        engine.dispose()


def _backend_pid(engine: Engine) -> int:
    with autocommit_connection(engine) as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(postgres_url: str, pid: int) -> None:
    url = make_url(postgres_url)
    with psycopg.connect(host=url.host, port=url.port or 5432, user=url.username,
                         dbname=url.database, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_a_connection_in_steady_use_is_lent_without_a_ping(
    proxied_engine: tuple[Engine, RoundTripCounter],
) -> None:
    engine, counter = proxied_engine
    for _ in range(10):  # opens the pooled connection; psycopg prepares a repeated statement
        _backend_pid(engine)
    before = counter.read()
    for _ in range(5):
        _backend_pid(engine)
    assert counter.read() - before == 5  # the statements, nothing else


def test_an_idle_connection_is_pinged_and_a_dropped_one_replaced_unseen(
    proxied_engine: tuple[Engine, RoundTripCounter], postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine, counter = proxied_engine
    for _ in range(10):
        first_pid = _backend_pid(engine)
    monkeypatch.setattr(engine_module, "IDLE_PING_SECONDS", 0.0)
    before = counter.read()
    assert _backend_pid(engine) == first_pid
    assert counter.read() - before == 2  # the ping, then the statement

    _terminate(postgres_url, first_pid)  # as a server restart or a proxy's idle timeout would
    assert _backend_pid(engine) != first_pid  # no error: the ping found it dead


def test_a_connection_dropped_in_use_fails_once_then_the_pool_reconnects(
    proxied_engine: tuple[Engine, RoundTripCounter], postgres_url: str,
) -> None:
    engine, _ = proxied_engine
    first_pid = _backend_pid(engine)
    _terminate(postgres_url, first_pid)
    with pytest.raises(exc.DBAPIError) as failure:
        _backend_pid(engine)
    assert failure.value.connection_invalidated
    assert _backend_pid(engine) != first_pid


@pytest.mark.parametrize(("server_setting", "ours"), [("off", "on"), ("local", "local"),
                                                       ("remote_apply", "remote_apply")])
def test_commits_are_durable_whatever_the_server_prefers(server_setting: str,
                                                          ours: str) -> None:
    """A server tuned with synchronous_commit=off would forget answered commits in a crash
    (delivered views no longer counted); our connections turn that off, keep the rest."""
    with postgres_database() as database_url:
        url = make_url(database_url)
        with psycopg.connect(host=url.host, port=url.port or 5432, user=url.username,
                             dbname=url.database, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{url.database}" '
                          f"SET synchronous_commit TO {server_setting}")
        engine = create_db_engine(database_url)
        try:
            with engine.connect() as connection:
                assert connection.execute(text("SHOW synchronous_commit")).scalar() == ours
        finally:
            engine.dispose()
