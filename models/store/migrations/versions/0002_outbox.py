"""notification outbox: one row per message, claimed by a unique idempotency key

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import models.store.tables

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('idem_key', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('occurrence_id', sa.Integer(), nullable=True),
    sa.Column('measure', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('step', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('recipient', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', models.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('masked_target', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('batch_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('claimed_at', models.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', models.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', models.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', models.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['occurrence_id'], ['occurrence.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idem_key', name='uq_outbox_idem_key')
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_org_occurrence', ['org', 'occurrence_id'], unique=False)
        batch_op.create_index('ix_outbox_status_next', ['status', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_status_next')
        batch_op.drop_index('ix_outbox_org_occurrence')

    op.drop_table('outbox_message')
