"""Engine, sessions and migrations. One session_scope per use case; it commits."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlmodel import Session

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine.interfaces import DBAPIConnection
    from sqlalchemy.pool import ConnectionPoolEntry
    from sqlalchemy.sql.elements import SQLColumnExpression

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


_ENGINES: dict[str, Engine] = {}


def get_engine(url: str) -> Engine:
    """One engine per URL per process (see dispose_all)."""
    if url not in _ENGINES:
        _ENGINES[url] = _create_engine(url)
    return _ENGINES[url]


def dispose_all() -> None:
    """Close every engine's connections (tests, forked workers)."""
    while _ENGINES:
        _ENGINES.popitem()[1].dispose()


def _create_engine(url: str) -> Engine:
    """SQLite: WAL, foreign keys, and a busy timeout so that two processes writing at once
    wait instead of failing."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    # READ COMMITTED whatever the server's default: each statement of a daily batch must see
    # what committed before it (the day's ladder, written apart; a concurrent run's claims)
    return sa.create_engine(url, pool_pre_ping=True, isolation_level="READ COMMITTED")


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    dbapi_connection.isolation_level = None  # let the "begin" hook issue BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_immediate(connection: Connection) -> None:
    # Take the write lock at the start of a transaction: two writers serialise cleanly
    # instead of one failing on lock upgrade ("database is locked").
    connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session for one use case: commits on success, rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def insert(session: Session
           ) -> Callable[[sa.Table], postgresql.Insert] | Callable[[sa.Table], sqlite.Insert]:
    """The backend's INSERT construct (both have on_conflict_do_nothing / _do_update)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert
        return postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert
    return sqlite_insert


def among(session: Session, column: SQLColumnExpression[Any], values: Iterable[Any]) -> sa.ColumnElement[bool]:
    """column IN values. On PostgreSQL it is one array parameter (column = ANY(:array)):
    the IN list of a batch of 200 organisations costs more to render and parse than the
    statement takes to run."""
    values = list(values)
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        # an array of the unbounded type: a cast to VARCHAR(32)[] would truncate longer values
        # a Column has its type; an ORM attribute (sqlmodel's col()) hands it on from its column
        column_type = column.type  # type: ignore[attr-defined]  # SQLColumnExpression does not declare it
        textual = isinstance(getattr(column_type, "impl", column_type), sa.String)  # AutoString too
        item = sa.String() if textual else column_type
        return column == sa.any_(sa.bindparam(None, values, type_=ARRAY(item)))
    return column.in_(values)


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE, DELETE or INSERT … SELECT matched. Session.execute types what it
    returns as a Result; for these statements it is a CursorResult, which counts them."""
    return cast("CursorResult[Any]", result).rowcount


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the database schema to the newest migration."""
    config = alembic_config(str(engine.url.render_as_string(hide_password=False)))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
