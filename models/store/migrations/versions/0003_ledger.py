"""ledger: append-only ledger_entry with its triggers (SQLite and PostgreSQL)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import models.store.tables

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# Frozen copies of models/store/ledger_triggers.py as of this revision.
_SQLITE = [
    "CREATE TRIGGER ledger_entry_no_update BEFORE UPDATE ON ledger_entry "
    "BEGIN SELECT RAISE(ABORT, 'ledger_entry is append-only'); END",
    "CREATE TRIGGER ledger_entry_no_delete BEFORE DELETE ON ledger_entry "
    "BEGIN SELECT RAISE(ABORT, 'ledger_entry is append-only'); END",
]
_SQLITE_DROP = ["DROP TRIGGER IF EXISTS ledger_entry_no_update",
                "DROP TRIGGER IF EXISTS ledger_entry_no_delete"]
_POSTGRES = [
    "CREATE OR REPLACE FUNCTION esgtrack_ledger_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $fn$ BEGIN "
    "RAISE EXCEPTION USING MESSAGE = 'ledger_entry is append-only: ' || TG_OP || ' refused', "
    "ERRCODE = 'insufficient_privilege'; END $fn$",
    "CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON ledger_entry "
    "FOR EACH ROW EXECUTE FUNCTION esgtrack_ledger_append_only()",
    "CREATE TRIGGER ledger_entry_no_truncate BEFORE TRUNCATE ON ledger_entry "
    "FOR EACH STATEMENT EXECUTE FUNCTION esgtrack_ledger_append_only()",
]
_POSTGRES_DROP = ["DROP TRIGGER IF EXISTS ledger_entry_no_truncate ON ledger_entry",
                  "DROP TRIGGER IF EXISTS ledger_entry_append_only ON ledger_entry",
                  "DROP FUNCTION IF EXISTS esgtrack_ledger_append_only()"]


def _triggers(create: bool) -> list[str]:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        return _SQLITE if create else _SQLITE_DROP
    if dialect == "postgresql":
        return _POSTGRES if create else _POSTGRES_DROP
    return []


def upgrade() -> None:
    op.create_table('ledger_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('event', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('at', models.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('measure', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('period', sa.Integer(), nullable=True),
    sa.Column('occurrence_id', sa.Integer(), nullable=True),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['org'], ['organisation.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('hash', name='uq_ledger_hash'),
    sa.UniqueConstraint('org', 'prev_hash', name='uq_ledger_org_prev_hash'),
    sa.UniqueConstraint('org', 'seq', name='uq_ledger_org_seq')
    )
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_org_occurrence', ['org', 'occurrence_id'], unique=False)
    for statement in _triggers(create=True):
        op.execute(statement)


def downgrade() -> None:
    for statement in _triggers(create=False):
        op.execute(statement)
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_org_occurrence')
    op.drop_table('ledger_entry')
