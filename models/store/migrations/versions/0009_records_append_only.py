"""target_reading and roadmap_edition append-only: the records the ledger vouches for that no use
case changes (a correction is a new reading, a new edition a new row)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# Frozen copies of models/store/ledger_triggers.py as of this revision.
_TABLES = ("target_reading", "roadmap_edition")
_FUNCTION = (
    "CREATE OR REPLACE FUNCTION esgtrack_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$ BEGIN "
    "RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only: ' || TG_OP || ' refused', "
    "ERRCODE = 'insufficient_privilege'; END $fn$")


def _sqlite(table):
    return [f"CREATE TRIGGER {table}_no_{op_.lower()} BEFORE {op_} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END" for op_ in ("UPDATE", "DELETE")]


def _postgres(table):
    return [f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION esgtrack_append_only()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION esgtrack_append_only()"]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(_FUNCTION)
    for table in _TABLES:
        for statement in _postgres(table) if postgres else _sqlite(table):
            op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in _TABLES:
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS esgtrack_append_only()")
