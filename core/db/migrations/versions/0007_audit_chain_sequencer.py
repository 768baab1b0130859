"""The audit chain is linked after commit by a sequencer: events arrive unlinked.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

_UNLINKED = sa.text("chain_seq IS NULL")


def upgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('chain_seq', existing_type=sa.BigInteger(), nullable=True)
        batch_op.alter_column('prev_hash', existing_type=sa.LargeBinary(length=32), nullable=True)
        batch_op.alter_column('hash', existing_type=sa.LargeBinary(length=32), nullable=True)
    op.create_index('ix_audit_unlinked', 'audit_events', ['tenant_id', 'id'], unique=False,
                    postgresql_where=_UNLINKED, sqlite_where=_UNLINKED)


def downgrade() -> None:
    # Events still unlinked must be linked first (`cipherslip audit link`): the old schema
    # has no place for them.
    op.drop_index('ix_audit_unlinked', table_name='audit_events',
                  postgresql_where=_UNLINKED, sqlite_where=_UNLINKED)
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('hash', existing_type=sa.LargeBinary(length=32), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.LargeBinary(length=32), nullable=False)
        batch_op.alter_column('chain_seq', existing_type=sa.BigInteger(), nullable=False)
