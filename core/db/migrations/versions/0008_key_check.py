"""Secrets keep their link key's check, so a damaged link never costs a view.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 08:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: secrets shared before this revision have no check, and keep working.
    with op.batch_alter_table('secrets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_check', sa.LargeBinary(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('secrets', schema=None) as batch_op:
        batch_op.drop_column('key_check')
