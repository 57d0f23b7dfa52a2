"""Database triggers that make ledger_entry append-only (SQLite and PostgreSQL).

Migration 0003 creates the same triggers in migrated databases; this module attaches them to
databases made with SQLModel.metadata.create_all (tests' in-memory databases).
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


def attach_append_only(table: sa.Table) -> None:
    """Create the triggers whenever metadata.create_all creates the table."""
    for dialect, statements in (("sqlite", SQLITE), ("postgresql", POSTGRES)):
        for statement in statements:
            sa.event.listen(table, "after_create", sa.DDL(statement).execute_if(dialect=dialect))


def drop_statements(dialect: str) -> list[str]:
    """What an attacker with database access runs first (used by the tamper tests)."""
    return SQLITE_DROP if dialect == "sqlite" else POSTGRES_DROP
