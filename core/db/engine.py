"""Engines and sessions for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_SECONDS = 30
# On SQLite, a connection with this execution option leaves each statement to commit by itself.
_SQLITE_AUTOCOMMIT = "cipherslip_autocommit"
_IN_TRANSACTION = "cipherslip_in_transaction"


DEFAULT_POOL_SIZE = 8
# A pooled connection idle this long is pinged before it is lent (one round trip). One in
# steady use is not: its last statement proved it alive, and a ping on every checkout was a
# round trip on every request.
IDLE_PING_SECONDS = 5.0
_RETURNED_AT = "cipherslip_returned_at"


def create_db_engine(database_url: str, *, pool_size: int = DEFAULT_POOL_SIZE) -> Engine:
    """``pool_size`` connections stay open: as many as the threads that may use them at once
    (the api's worker threads), so that no request opens a connection of its own. Beyond it a
    few more are lent for nested uses, and closed when returned."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        engine = create_engine(url, pool_size=pool_size, max_overflow=10)
        _ping_idle_connections(engine)
        _durable_commits(engine)
        return engine
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
    )
    _serialize_sqlite_writers(engine)
    return engine


def _durable_commits(engine: Engine) -> None:
    """Refuse a server's ``synchronous_commit = off`` on our connections.

    With it off, PostgreSQL answers a commit before the commit is on disk, and a crash then
    forgets it: a reveal whose text was delivered would no longer be counted, and its secret
    could be opened again (the server-crash fault test saw 1 to 4 such views in every run). A
    setting an operator may choose for speed must not undo exact view counting. Stronger
    settings (``remote_apply`` …) are kept. Once per connection, never per request."""

    @event.listens_for(engine, "connect")
    def _opened(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            (setting,) = cursor.fetchone()
            if setting == "off":
                cursor.execute("SET synchronous_commit TO on")
        dbapi_connection.commit()


def _ping_idle_connections(engine: Engine) -> None:
    """Check a connection that sat idle before lending it, and only then.

    A connection the server dropped while it was idle (a restart, a proxy's idle timeout) is
    replaced before any request sees it. One that dies in use fails that statement, and
    SQLAlchemy then invalidates every older connection in the pool, so the others reconnect
    on their next checkout instead of failing one by one.
    """
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _lent(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned_at = record.info.get(_RETURNED_AT)
        if returned_at is None or time.monotonic() - returned_at < IDLE_PING_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                # The pool discards this connection and lends a new one.
                raise exc.DisconnectionError(str(error)) from error
            raise


def database_unreachable(error: BaseException) -> bool:
    """A pool timeout, a refused or broken connection — not a bug in a statement. Every
    process treats these alike: answer or retry later, and let the pool reconnect."""
    if isinstance(error, exc.TimeoutError | exc.OperationalError | exc.InterfaceError):
        return True
    return isinstance(error, exc.DBAPIError) and error.connection_invalidated


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
