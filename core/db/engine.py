"""Engines and sessions for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_SECONDS = 30
# On SQLite, a connection with this execution option leaves each statement to commit by itself.
_SQLITE_AUTOCOMMIT = "cipherslip_autocommit"
_IN_TRANSACTION = "cipherslip_in_transaction"


DEFAULT_POOL_SIZE = 8


def create_db_engine(database_url: str, *, pool_size: int = DEFAULT_POOL_SIZE) -> Engine:
    """``pool_size`` connections stay open: as many as the threads that may use them at once
    (the api's worker threads), so that no request opens a connection of its own. Beyond it a
    few more are lent for nested uses, and closed when returned."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=10)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
    )
    _serialize_sqlite_writers(engine)
    return engine


def _serialize_sqlite_writers(engine: Engine) -> None:
    """Take SQLite's write lock at BEGIN.

    A deferred transaction that reads and then writes can fail at once with "database is
    locked" when another writer got there first; BEGIN IMMEDIATE makes it wait its turn
    (busy timeout) instead, which is what exact view counting under concurrency needs.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below take over
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if not connection.get_execution_options().get(_SQLITE_AUTOCOMMIT):
            connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def autocommit_connection(engine: Engine) -> Iterator[Connection]:
    """One pooled connection on which every statement commits by itself.

    A request that needs several single statements (read, then an atomic write) pays one
    checkout and no BEGIN/COMMIT round trips, and holds no lock between statements.
    """
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            # The driver already autocommits (isolation_level None); SQLAlchemy's BEGIN is ours.
            yield connection.execution_options(**{_SQLITE_AUTOCOMMIT: True})
        else:
            yield connection.execution_options(isolation_level="AUTOCOMMIT")


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(connection: Connection) -> Iterator[Connection]:
    """Statements inside commit together, on a connection from ``autocommit_connection``
    (SQLite takes its write lock at once, as every transaction of ours does). Re-entrant: an
    inner block joins the outer one, which commits or rolls back everything."""
    if connection.info.get(_IN_TRANSACTION):
        yield connection
        return
    connection.exec_driver_sql("BEGIN IMMEDIATE" if connection.dialect.name == "sqlite"
                               else "BEGIN")
    connection.info[_IN_TRANSACTION] = True
    try:
        yield connection
    except BaseException:
        connection.exec_driver_sql("ROLLBACK")
        raise
    else:
        connection.exec_driver_sql("COMMIT")
    finally:
        connection.info[_IN_TRANSACTION] = False
