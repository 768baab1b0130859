"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from core.db.engine import create_db_engine, create_session_factory
from core.db.migrate import alembic_config
from core.db.models import Base
from core.services.audit_chain import verify_chain


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_db_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_migrations_downgrade_and_upgrade_again(database_url: str) -> None:
    config = alembic_config(database_url)
    command.downgrade(config, "base")
    engine = create_db_engine(database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(config, "head")
    assert {"users", "secrets", "secret_recipients", "audit_events"} <= set(
        inspect(engine).get_table_names())
    engine.dispose()


def test_upgrade_chains_events_recorded_before_the_chain_existed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    config = alembic_config(url)
    command.upgrade(config, "0003")
    engine = create_db_engine(url)
    with engine.begin() as connection:
        for index, tenant in enumerate(["a", "b", "a", "a"]):
            connection.execute(text(
                "INSERT INTO audit_events (tenant_id, time, activity_name, actor_email, status)"
                " VALUES (:tenant, :time, 'paper_secret_created', :actor, 'Success')"),
                {"tenant": tenant, "time": f"2026-11-0{index + 1} 10:00:00.000000",
                 "actor": f"u{index}@example.com"})
    command.upgrade(config, "head")
    db = create_session_factory(engine)
    reports = {tenant: verify_chain(db, tenant) for tenant in ("a", "b")}
    engine.dispose()
    assert reports["a"].ok and reports["a"].events == 3
    assert reports["b"].ok and reports["b"].events == 1
