"""Personal API tokens, and the token a request was made with on its audit events.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 14:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'api_tokens',
        sa.Column('id', sa.String(length=36), primary_key=True),
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.String(length=36),
                  sa.ForeignKey('users.id', ondelete='CASCADE'), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('token_hash', sa.LargeBinary(length=32), nullable=False, unique=True),
        sa.Column('hint', sa.String(length=8), nullable=False),
        sa.Column('scopes', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_used_ip', sa.String(length=64), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_by', sa.String(length=320), nullable=True),
    )
    op.create_index('ix_api_tokens_tenant_user', 'api_tokens', ['tenant_id', 'user_id'])
    # Nullable, and outside the hash while empty: earlier events keep verifying.
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('api_token_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('api_token_name', sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('api_token_name')
        batch_op.drop_column('api_token_id')
    op.drop_index('ix_api_tokens_tenant_user', table_name='api_tokens')
    op.drop_table('api_tokens')
