"""Drafts for requests: /secrets request in Slack hands its options to the web page.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=8), nullable=False,
                                      server_default='secret'))
        batch_op.add_column(sa.Column('open_for_seconds', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('request_id', sa.String(length=36), nullable=True))
        batch_op.alter_column('label', existing_type=sa.String(length=200),
                              type_=sa.String(length=500))
        batch_op.create_index('ix_drafts_request_id', ['request_id'])


def downgrade() -> None:
    op.execute("DELETE FROM drafts WHERE kind = 'request'")
    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.drop_index('ix_drafts_request_id')
        batch_op.alter_column('label', existing_type=sa.String(length=500),
                              type_=sa.String(length=200))
        batch_op.drop_column('request_id')
        batch_op.drop_column('open_for_seconds')
        batch_op.drop_column('kind')
