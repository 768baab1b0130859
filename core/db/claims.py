"""Claiming rows for work that several processes share (purge jobs, notice delivery)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, Select
from sqlalchemy.orm import Session


def claim(session: Session, query: Select[*tuple[Any, ...]], limit: int) -> list[Row[Any]]:
    """Up to ``limit`` rows of ``query`` that no other worker holds, locked until this
    transaction ends: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so replicas split the work
    instead of waiting on each other; SQLite has one writer at a time anyway."""
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.execute(query.limit(limit)))
