"""Test databases: a fresh SQLite file or a fresh PostgreSQL database, migrated to head."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from core.db.migrate import upgrade_to_head
from core.db.models import Base
from tests.support.requirements import require_postgres

_migrated_sqlite: list[Path] = []  # one per test process, made on first use


def _sqlite_template() -> Path:
    """A SQLite file migrated to head once per test process: copying it is ~1 ms, running the
    migrations ~70 ms, and most of the suite's tests start from an empty database. The
    migrations themselves are tested in tests/core/db/."""
    if not _migrated_sqlite:
        template = Path(tempfile.mkdtemp(prefix="cipherslip-sqlite-")) / "template.db"
        upgrade_to_head(f"sqlite:///{template}")
        _migrated_sqlite.append(template)
    return _migrated_sqlite[0]


@contextmanager
def sqlite_database(directory: Path) -> Iterator[str]:
    """A fresh SQLite database at head in ``directory``."""
    database = directory / "cipherslip.db"
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_sqlite_template(), database)
    yield f"sqlite:///{database}"


@contextmanager
def postgres_database() -> Iterator[str]:
    admin_url = make_url(require_postgres())
    name = f"cipherslip_test_{secrets.token_hex(6)}"
    conninfo = (f"host={admin_url.host} port={admin_url.port or 5432} "
                f"user={admin_url.username} dbname={admin_url.database}")
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_to_head(url)
        yield url
    finally:
        with psycopg.connect(conninfo, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def empty_all_tables(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(text(f"DELETE FROM {table.name}"))
