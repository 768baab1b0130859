"""Magic links for external responders: a link proves an address for a secret or a request.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 16:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('magic_links', schema=None) as batch_op:
        batch_op.alter_column('secret_id', existing_type=sa.String(length=36), nullable=True)
        batch_op.add_column(sa.Column('request_id', sa.String(length=36), nullable=True))
        batch_op.create_foreign_key('fk_magic_links_request_id', 'secret_requests',
                                    ['request_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index('ix_magic_links_request_id', ['request_id'])


def downgrade() -> None:
    op.execute("DELETE FROM magic_links WHERE secret_id IS NULL")
    with op.batch_alter_table('magic_links', schema=None) as batch_op:
        batch_op.drop_index('ix_magic_links_request_id')
        batch_op.drop_constraint('fk_magic_links_request_id', type_='foreignkey')
        batch_op.drop_column('request_id')
        batch_op.alter_column('secret_id', existing_type=sa.String(length=36), nullable=False)
