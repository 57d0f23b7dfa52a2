"""Test databases that start each test from a known state in milliseconds, not a migration.

SQLite: a state is a database file (and the data directory beside it); a test gets a copy.
PostgreSQL: one work database per test session (per xdist worker); a state is its tables'
rows and sequence positions, kept in memory (COPY ... TO STDOUT), and a test starts by
emptying the tables and copying the rows back in (tens of ms, where CREATE DATABASE ...
TEMPLATE costs ~0.4 s of the server's time). A test that changed the schema itself (a downgrade,
dropped triggers, table or database settings) is noticed by a fingerprint of the catalogue,
and the next test gets the work database re-created from the migrated template.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import SQLModel

from models.store import db as dbmod


def forget_engine(url: str) -> None:
    """Close this process's connections to a database (SQLite: checkpoints the WAL into the file)."""
    engine = dbmod._ENGINES.pop(url, None)
    if engine is not None:
        engine.dispose()


def copy_sqlite(source: Path, target: Path) -> None:
    """Replace a SQLite database file by a copy of another (closed) one."""
    for suffix in ("-wal", "-shm"):
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    shutil.copyfile(source, target)


@dataclass(frozen=True)
class PostgresState:
    rows: dict[str, bytes]                 # table → COPY BINARY data
    sequences: dict[str, tuple[int, bool]]  # sequence → (last_value, is_called)


FINGERPRINT = """
SELECT (SELECT string_agg(version_num, ',') FROM alembic_version),
       (SELECT string_agg(tgrelid::regclass::text || '.' || tgname || tgenabled::text, ',' ORDER BY 1)
          FROM pg_trigger WHERE NOT tgisinternal),
       (SELECT string_agg(indexrelid::regclass::text, ',' ORDER BY 1) FROM pg_index i
          JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = 'public'::regnamespace),
       (SELECT string_agg(conname, ',' ORDER BY 1) FROM pg_constraint
          WHERE connamespace = 'public'::regnamespace),
       (SELECT string_agg(relname || ':' || relkind::text || ':' || coalesce(array_to_string(reloptions, ';'), ''),
                          ',' ORDER BY 1) FROM pg_class WHERE relnamespace = 'public'::regnamespace),
       (SELECT string_agg(proname, ',' ORDER BY 1) FROM pg_proc WHERE pronamespace = 'public'::regnamespace),
       (SELECT string_agg(array_to_string(setconfig, ';'), ',') FROM pg_db_role_setting
          WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()))
"""


class PostgresLane:
    """This test session's databases on the PostgreSQL server: <base>_migrated (the template)
    and <base>_work (what tests use), dropped by close()."""

    def __init__(self, server_url: str) -> None:
        self.admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
        self.base = f"esgtrack_test_{uuid.uuid4().hex[:10]}"
        self.url = self._url(f"{self.base}_work")
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{self.base}_migrated"')
        template = self._url(f"{self.base}_migrated")
        dbmod.upgrade(dbmod.get_engine(template))
        forget_engine(template)
        self._recreate()
        with dbmod.get_engine(self.url).connect() as conn:
            # Emptying tables past the ledger's triggers takes a superuser (session_replication_role);
            # any other role gets a re-created database per test instead (slower, same result)
            self.superuser = bool(conn.exec_driver_sql(
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").scalar())
        self.fingerprint = self._fingerprint()
        self.tables = self._tables()
        self.states: dict[str, PostgresState] = {"migrated": self.capture()}

    def _url(self, database: str) -> str:
        return self.admin.url.set(database=database).render_as_string(hide_password=False)

    def _recreate(self) -> None:
        forget_engine(self.url)
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.base}_work" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{self.base}_work" TEMPLATE "{self.base}_migrated"')

    def _raw(self):
        return dbmod.get_engine(self.url).raw_connection()

    def _fingerprint(self) -> tuple:
        with dbmod.get_engine(self.url).connect() as conn:
            return tuple(conn.exec_driver_sql(FINGERPRINT).one())

    def _tables(self) -> list[str]:
        """The work database's tables, parents before children (the models' order first)."""
        with dbmod.get_engine(self.url).connect() as conn:
            present = set(conn.exec_driver_sql(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'").scalars())
        ordered = [t.name for t in SQLModel.metadata.sorted_tables if t.name in present]
        return ordered + sorted(present - set(ordered))

    def capture(self) -> PostgresState:
        """The work database's rows and sequence positions, as they are now."""
        raw = self._raw()
        try:
            with raw.driver_connection.cursor() as cur:
                rows = {}
                for table in self.tables:
                    with cur.copy(f'COPY "{table}" TO STDOUT (FORMAT BINARY)') as copy:
                        rows[table] = b"".join(bytes(chunk) for chunk in copy)
                cur.execute("SELECT relname FROM pg_class WHERE relkind = 'S' "
                            "AND relnamespace = 'public'::regnamespace")
                names = [name for (name,) in cur.fetchall()]
                sequences = {}
                for name in names:
                    cur.execute(f'SELECT last_value, is_called FROM "{name}"')
                    sequences[name] = cur.fetchone()
            raw.commit()
        finally:
            raw.close()
        return PostgresState(rows, sequences)

    def restore(self, name: str) -> None:
        """Put the work database in a kept state (re-created first if a test changed its schema)."""
        forget_engine(self.url)
        fresh = not self.superuser or self._fingerprint() != self.fingerprint
        if fresh:
            self._recreate()
        state = self.states[name]
        raw = self._raw()
        try:
            with raw.driver_connection.cursor() as cur:
                if not fresh:
                    # replica: no trigger fires (the ledger refuses DELETE), no foreign key is checked.
                    # DELETE, not TRUNCATE: a truncated table gets new files, synced at commit
                    cur.execute("SET LOCAL session_replication_role = replica")
                    for table in reversed(self.tables):
                        cur.execute(f'DELETE FROM "{table}"')
                for table, data in state.rows.items():
                    if data:
                        with cur.copy(f'COPY "{table}" FROM STDIN (FORMAT BINARY)') as copy:
                            copy.write(data)
                for sequence, (value, called) in state.sequences.items():
                    cur.execute("SELECT setval(%s, %s, %s)", (f'"{sequence}"', value, called))
            raw.commit()
        finally:
            raw.close()
        forget_engine(self.url)

    def keep(self, name: str) -> None:
        """Keep the work database's current rows as a state to restore later."""
        forget_engine(self.url)
        self.states[name] = self.capture()
        forget_engine(self.url)

    def close(self) -> None:
        dbmod.dispose_all()
        with self.admin.connect() as conn:
            for suffix in ("work", "migrated"):
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.base}_{suffix}" WITH (FORCE)')
        self.admin.dispose()
