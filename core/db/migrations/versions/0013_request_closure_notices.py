"""Requests: remember that the requester was told one closed unanswered.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 17:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('secret_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closure_notified_at', sa.DateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('secret_requests', schema=None) as batch_op:
        batch_op.drop_column('closure_notified_at')
