"""targets and target readings

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import models.store.tables


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('measure_id', sa.Integer(), nullable=False),
    sa.Column('metric', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('direction', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('baseline_year', sa.Integer(), nullable=True),
    sa.Column('baseline_value', sa.Float(), nullable=True),
    sa.Column('target_year', sa.Integer(), nullable=False),
    sa.Column('target_value', sa.Float(), nullable=False),
    sa.Column('milestones', sa.JSON(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('updated_at', models.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['measure_id'], ['measure.id'], ),
    sa.ForeignKeyConstraint(['org'], ['organisation.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('org', 'measure_id', 'metric', name='uq_target_metric')
    )
    with op.batch_alter_table('target', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_target_org'), ['org'], unique=False)
        batch_op.create_index(batch_op.f('ix_target_measure_id'), ['measure_id'], unique=False)

    op.create_table('target_reading',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('recorded_at', models.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('evidence_ref', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('evidence_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.ForeignKeyConstraint(['org'], ['organisation.code'], ),
    sa.ForeignKeyConstraint(['target_id'], ['target.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('target_reading', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_target_reading_target_id'), ['target_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('target_reading', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_target_reading_target_id'))
    op.drop_table('target_reading')
    with op.batch_alter_table('target', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_target_measure_id'))
        batch_op.drop_index(batch_op.f('ix_target_org'))
    op.drop_table('target')
