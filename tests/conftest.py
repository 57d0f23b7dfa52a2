"""Shared fixtures: a fresh database per test (SQLite, and PostgreSQL when
ESGTRACK_TEST_POSTGRES_URL names a server), the shipped roadmap, and the CLI."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel

import models.tables  # noqa: F401
from config import SHIPPED_DOCUMENT, SHIPPED_ROADMAP
from models import db as dbmod

# Prefect: quiet, and a home of this test session's own (cached results must not leak between
# runs). Set before anything imports prefect.
_PREFECT_HOME = tempfile.mkdtemp(prefix="esgtrack-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["PREFECT_RESULTS_LOCAL_STORAGE_PATH"] = os.path.join(_PREFECT_HOME, "results")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")

POSTGRES_URL = os.environ.get("ESGTRACK_TEST_POSTGRES_URL")
# The instant every test runs at unless it names another: no test reads the clock.
NOW = dt.datetime(2026, 11, 16, 4, 0, tzinfo=dt.timezone.utc)  # a Monday, 09:00 in Almaty


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (-n 2 --dist loadgroup) every test of tests/flows goes to one worker:
    one Prefect test harness (~20 s to start) serves them all."""
    flows = Path(__file__).parent / "flows"
    for item in items:
        if flows in item.path.parents:
            item.add_marker(pytest.mark.xdist_group("prefect"))


def morning(day: dt.date) -> dt.datetime:
    """09:00 in Almaty on a day (UTC): the instant a daily run as of that day happens."""
    return dt.datetime.combine(day, dt.time(4), tzinfo=dt.timezone.utc)
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own data directory and default settings."""
    from config.settings import get_settings

    home = tmp_path / "esgtrack-home"
    monkeypatch.setenv("ESGTRACK_HOME", str(home))
    for name in ("ESGTRACK_DATABASE_URL", "ESGTRACK_DIRECTORY", "ESGTRACK_POLICY", "ESGTRACK_SMTP_URL", "ESGTRACK_ORG"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


def _build_templates(url_of: Callable[[str], str]) -> None:
    """Fill the two template databases: "migrated" (the newest schema) and "imported" (the
    same plus the shipped roadmap imported for KT at NOW), once per test session."""
    from models import repository as repo
    from models.normalised import load_roadmap

    for name in ("migrated", "imported"):
        engine = dbmod.get_engine(url_of(name))
        dbmod.upgrade(engine)
        if name == "imported":
            with dbmod.session_scope(engine) as s:
                repo.import_roadmap(s, org="KT", loaded=load_roadmap(SHIPPED_ROADMAP), now=NOW)
        dbmod._ENGINES.pop(url_of(name)).dispose()  # SQLite: checkpoints the WAL into the file


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with migrated.db and imported.db: a test's database is a copy of one (~1 ms
    instead of a migration and an import per test)."""
    root = tmp_path_factory.mktemp("templates")
    _build_templates(lambda name: f"sqlite:///{root / name}.db")
    return root


@pytest.fixture(scope="session")
def postgres_templates() -> Iterator[tuple[sa.Engine, str]]:
    """Databases of this test session's own on the PostgreSQL server: <base>_migrated and
    <base>_imported, the templates each test's <base>_work is created from; all dropped at
    the end. Yields the admin engine and <base>."""
    if not POSTGRES_URL:
        pytest.skip("ESGTRACK_TEST_POSTGRES_URL is not set")
    base = f"esgtrack_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{base}_migrated"')
        conn.exec_driver_sql(f'CREATE DATABASE "{base}_imported"')
    _build_templates(lambda name: _postgres_url(admin, f"{base}_{name}"))
    yield admin, base
    dbmod.dispose_all()
    with admin.connect() as conn:
        for name in ("work", "imported", "migrated"):
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{base}_{name}" WITH (FORCE)')
    admin.dispose()


def _postgres_url(admin: sa.Engine, database: str) -> str:
    return admin.url.set(database=database).render_as_string(hide_password=False)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh database at the newest schema (SQLite file or PostgreSQL), set as
    ESGTRACK_DATABASE_URL; with the shipped roadmap imported when the test asks for `imported`.
    Copied from a session template, so every test still starts from its own database."""
    template = "imported" if "imported" in request.fixturenames else "migrated"
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("sqlite_templates") / f"{template}.db", path)
        url = f"sqlite:///{path}"
    else:
        admin, base = request.getfixturevalue("postgres_templates")
        url = _postgres_url(admin, f"{base}_work")
        engine = dbmod._ENGINES.pop(url, None)
        if engine is not None:
            engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{base}_work" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{base}_work" TEMPLATE "{base}_{template}"')
    monkeypatch.setenv("ESGTRACK_DATABASE_URL", url)
    from config.settings import get_settings
    from flows import cli_app

    get_settings.cache_clear()
    cli_app._migrated.add(url)
    yield url
    if request.param == "sqlite":
        engine = dbmod._ENGINES.pop(url, None)
        if engine is not None:
            engine.dispose()


@pytest.fixture
def engine(db_url: str) -> sa.Engine:
    return dbmod.get_engine(db_url)


@pytest.fixture
def session(engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def memory_engine() -> sa.Engine:
    """A fresh in-memory SQLite (StaticPool) with the tables created: fastest, for logic tests."""
    engine = sa.create_engine("sqlite://", poolclass=StaticPool,
                              connect_args={"check_same_thread": False})
    SQLModel.metadata.create_all(engine)
    return engine


@pytest.fixture(scope="session")
def shipped_document() -> Path:
    return SHIPPED_DOCUMENT


@pytest.fixture(scope="session")
def shipped_roadmap() -> Path:
    return SHIPPED_ROADMAP


@pytest.fixture
def imported(engine: sa.Engine) -> sa.Engine:
    """The shipped roadmap imported for organisation KT at NOW: db_url copies the template
    that holds it (see _build_templates)."""
    return engine


@pytest.fixture
def cli():
    """Run the esgtrack CLI in-process: cli("measures", "--format", "json") → (code, out, err).
    Every run names its clock (`--now`, default NOW): no command reads the system clock."""
    from typer.testing import CliRunner

    from flows.cli import main

    def run(*args: str, input: str | None = None, now: dt.datetime = NOW) -> tuple[int, str, str]:
        runner = CliRunner()
        with runner.isolation(input=input) as (out, err, _):
            try:
                main(["--now", now.isoformat(), *args])
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            return code, out.getvalue().decode(), err.getvalue().decode()

    return run
