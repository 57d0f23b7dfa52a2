"""Database triggers that make ledger_entry, and the records it vouches for that never change
(target readings, roadmap editions), append-only (SQLite and PostgreSQL).

Migrations 0003 (ledger_entry) and 0009 (the others) create the same triggers in migrated
databases; this module attaches them to databases made with SQLModel.metadata.create_all
(tests' in-memory databases).
"""

from __future__ import annotations

import sqlalchemy as sa

MESSAGE = "ledger_entry is append-only"

SQLITE = [
    f"CREATE TRIGGER ledger_entry_no_update BEFORE UPDATE ON ledger_entry "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    f"CREATE TRIGGER ledger_entry_no_delete BEFORE DELETE ON ledger_entry "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS ledger_entry_no_update",
               "DROP TRIGGER IF EXISTS ledger_entry_no_delete"]

POSTGRES = [
    "CREATE OR REPLACE FUNCTION esgtrack_ledger_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $fn$ BEGIN "
    f"RAISE EXCEPTION USING MESSAGE = '{MESSAGE}: ' || TG_OP || ' refused', "
    "ERRCODE = 'insufficient_privilege'; END $fn$",
    "CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON ledger_entry "
    "FOR EACH ROW EXECUTE FUNCTION esgtrack_ledger_append_only()",
    "CREATE TRIGGER ledger_entry_no_truncate BEFORE TRUNCATE ON ledger_entry "
    "FOR EACH STATEMENT EXECUTE FUNCTION esgtrack_ledger_append_only()",
]
POSTGRES_DROP = ["DROP TRIGGER IF EXISTS ledger_entry_no_truncate ON ledger_entry",
                 "DROP TRIGGER IF EXISTS ledger_entry_append_only ON ledger_entry",
                 "DROP FUNCTION IF EXISTS esgtrack_ledger_append_only()"]


RECORDS = ("target_reading", "roadmap_edition")  # written once by a use case, never changed


def records_sqlite(table: str) -> list[str]:
    return [f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END" for op in ("UPDATE", "DELETE")]


def records_sqlite_drop(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_no_{op}" for op in ("update", "delete")]


RECORDS_FUNCTION = (
    "CREATE OR REPLACE FUNCTION esgtrack_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$ BEGIN "
    "RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only: ' || TG_OP || ' refused', "
    "ERRCODE = 'insufficient_privilege'; END $fn$")


def records_postgres(table: str) -> list[str]:
    return [RECORDS_FUNCTION,
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION esgtrack_append_only()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION esgtrack_append_only()"]


def records_postgres_drop(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}"]


def attach_append_only(table: sa.Table) -> None:
    """Create the triggers whenever metadata.create_all creates the table."""
    if table.name == "ledger_entry":
        plans = (("sqlite", SQLITE), ("postgresql", POSTGRES))
    else:
        plans = (("sqlite", records_sqlite(table.name)), ("postgresql", records_postgres(table.name)))
    for dialect, statements in plans:
        for statement in statements:
            sa.event.listen(table, "after_create", sa.DDL(statement).execute_if(dialect=dialect))


def drop_statements(dialect: str) -> list[str]:
    """What an attacker with database access runs first (used by the tamper tests)."""
    if dialect == "sqlite":
        return SQLITE_DROP + [s for table in RECORDS for s in records_sqlite_drop(table)]
    return POSTGRES_DROP + [s for table in RECORDS for s in records_postgres_drop(table)]
