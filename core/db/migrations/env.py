"""Alembic environment: the URL comes from the caller (core.db.migrate) or the settings."""

from __future__ import annotations

from alembic import context

from core.db.engine import create_db_engine
from core.db.models import Base
from core.settings import Settings

config = context.config
database_url = config.attributes.get("database_url") or Settings().effective_database_url
engine = create_db_engine(database_url)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
engine.dispose()
