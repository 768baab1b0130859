"""audit hash chain

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 13:20:00

Adds the per-tenant hash chain to audit events and chains the events already stored, in id
order, so `cipherslip audit verify` covers them too.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.services.audit_chain import GENESIS, HASHED_FIELDS, event_hash

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_events = sa.table(
    "audit_events",
    sa.column("id", sa.BigInteger()),
    sa.column("time", sa.DateTime(timezone=True)),
    sa.column("chain_seq", sa.BigInteger()),
    sa.column("prev_hash", sa.LargeBinary()),
    sa.column("hash", sa.LargeBinary()),
    *(sa.column(name, sa.String()) for name in HASHED_FIELDS
      if name not in ("time", "chain_seq")),
)
_heads = sa.table(
    "audit_chain_heads",
    sa.column("tenant_id", sa.String()),
    sa.column("seq", sa.BigInteger()),
    sa.column("hash", sa.LargeBinary()),
)


def _chain_existing_events() -> None:
    bind = op.get_bind()
    heads: dict[str, tuple[int, bytes]] = {}
    columns = [_events.c.id, *(_events.c[name] for name in HASHED_FIELDS if name != "chain_seq")]
    rows = bind.execute(sa.select(*columns).order_by(_events.c.tenant_id, _events.c.id)).all()
    for row in rows:
        seq, prev_hash = heads.get(row.tenant_id, (0, GENESIS))
        values = {**row._mapping, "chain_seq": seq + 1}
        digest = event_hash(prev_hash, values)
        bind.execute(_events.update().where(_events.c.id == row.id)
                     .values(chain_seq=seq + 1, prev_hash=prev_hash, hash=digest))
        heads[row.tenant_id] = (seq + 1, digest)
    for tenant_id, (seq, digest) in heads.items():
        bind.execute(_heads.insert().values(tenant_id=tenant_id, seq=seq, hash=digest))


def upgrade() -> None:
    op.create_table('audit_chain_heads',
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id')
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain_seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.LargeBinary(length=32), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.LargeBinary(length=32), nullable=True))
    _chain_existing_events()
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('chain_seq', existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.LargeBinary(length=32), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.LargeBinary(length=32), nullable=False)
        batch_op.drop_index('ix_audit_tenant_activity')
        batch_op.create_index('ix_audit_tenant_activity', ['tenant_id', 'activity_name', 'id'], unique=False)
        batch_op.drop_index('ix_audit_tenant_actor')
        batch_op.create_index('ix_audit_tenant_actor', ['tenant_id', 'actor_email', 'id'], unique=False)
        batch_op.drop_index('ix_audit_tenant_ip')
        batch_op.create_index('ix_audit_tenant_ip', ['tenant_id', 'src_ip', 'id'], unique=False)
        batch_op.create_index('ix_audit_tenant_id', ['tenant_id', 'id'], unique=False)
        batch_op.create_unique_constraint('uq_audit_tenant_chain_seq', ['tenant_id', 'chain_seq'])


def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint('uq_audit_tenant_chain_seq', type_='unique')
        batch_op.drop_index('ix_audit_tenant_id')
        batch_op.drop_index('ix_audit_tenant_ip')
        batch_op.create_index('ix_audit_tenant_ip', ['tenant_id', 'src_ip'], unique=False)
        batch_op.drop_index('ix_audit_tenant_actor')
        batch_op.create_index('ix_audit_tenant_actor', ['tenant_id', 'actor_email'], unique=False)
        batch_op.drop_index('ix_audit_tenant_activity')
        batch_op.create_index('ix_audit_tenant_activity', ['tenant_id', 'activity_name'], unique=False)
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('chain_seq')
    op.drop_table('audit_chain_heads')
