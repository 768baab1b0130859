"""Requests: ask named responders for a secret; the answer points back at its request.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 16:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'secret_requests',
        sa.Column('id', sa.String(length=36), primary_key=True),
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('request_code', sa.String(length=14), nullable=False, unique=True),
        sa.Column('requester_id', sa.String(length=36), sa.ForeignKey('users.id'),
                  nullable=False),
        sa.Column('audience', sa.String(length=16), nullable=False),
        sa.Column('label', sa.String(length=500), nullable=True),
        sa.Column('expected_format', sa.String(length=8), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('open_until', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('answer_expires_in_seconds', sa.Integer(), nullable=False),
        sa.Column('answer_view_limit', sa.Integer(), nullable=True),
        sa.Column('key_check', sa.LargeBinary(length=16), nullable=True),
        sa.Column('answer_secret_id', sa.String(length=36), nullable=True),
        sa.Column('answered_by', sa.String(length=320), nullable=True),
    )
    op.create_index('ix_secret_requests_tenant_requester', 'secret_requests',
                    ['tenant_id', 'requester_id', 'created_at'])
    op.create_index('ix_secret_requests_status_open_until', 'secret_requests',
                    ['status', 'open_until'])
    op.create_table(
        'secret_request_responders',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), primary_key=True,
                  autoincrement=True),
        sa.Column('request_id', sa.String(length=36),
                  sa.ForeignKey('secret_requests.id', ondelete='CASCADE'), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.UniqueConstraint('request_id', 'email'),
    )
    op.create_index('ix_secret_request_responders_email', 'secret_request_responders',
                    ['email'])
    with op.batch_alter_table('secrets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_id', sa.String(length=36), nullable=True))
        batch_op.create_foreign_key('fk_secrets_request_id', 'secret_requests',
                                    ['request_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index('ix_secrets_request_id', ['request_id'])


def downgrade() -> None:
    with op.batch_alter_table('secrets', schema=None) as batch_op:
        batch_op.drop_index('ix_secrets_request_id')
        batch_op.drop_constraint('fk_secrets_request_id', type_='foreignkey')
        batch_op.drop_column('request_id')
    op.drop_index('ix_secret_request_responders_email', table_name='secret_request_responders')
    op.drop_table('secret_request_responders')
    op.drop_index('ix_secret_requests_status_open_until', table_name='secret_requests')
    op.drop_index('ix_secret_requests_tenant_requester', table_name='secret_requests')
    op.drop_table('secret_requests')
