"""Shared fixtures: a fresh database per test (SQLite, and PostgreSQL when
ESGTRACK_TEST_POSTGRES_URL names a server), the shipped roadmap, and the CLI."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel

import models.store.tables  # noqa: F401
from config import SHIPPED_DOCUMENT, SHIPPED_ROADMAP
from models.core.schedule import morning  # noqa: F401  (tests import it from here)
from models.store import db as dbmod
from tests.databases import PostgresLane, copy_sqlite, forget_engine
from tests.notifications.servers import SMTPServer
from tests.tsa import LocalTSA

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
NOW = dt.datetime(2026, 11, 16, 4, 0, tzinfo=dt.UTC)  # a Monday, 09:00 in Almaty
# Who sets a target and why, who records a reading and from which document: the ledger's words
SET_BY = ("--by", "esg", "--reason", "from the 2024 report")
READ_BY = ("--by", "x", "--evidence-ref", "AR-2025")


# Flows tests that start their own Prefect (subprocesses in ephemeral mode): free to run on any worker
WITHOUT_HARNESS = ("tests/flows/test_demo.py",)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Under pytest-xdist (-n 2), the tests of tests/flows go to one worker, so that one
    Prefect test harness (~15 s to start) serves them all; the other tests go one by one to
    whichever worker is free. (xdist's own --dist loadgroup cannot do it under pytest 9.2,
    whose node ids it no longer rewrites.)"""
    from xdist.scheduler import LoadScopeScheduling

    class PrefectTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            in_harness = nodeid.startswith("tests/flows/") and not nodeid.startswith(WITHOUT_HARNESS)
            return "tests/flows" if in_harness else nodeid

    return PrefectTogether(config, log)


BACKENDS = {"sqlite": "sqlite", "postgres": pytest.param("postgres", marks=pytest.mark.postgres)}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test using a database runs on SQLite and on PostgreSQL, or on the backends its
    `backends` marker names (the closest marker wins: a test's own over its module's)."""
    if "db_url" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("backends")
        names = marker.args if marker else tuple(BACKENDS)
        metafunc.parametrize("db_url", [BACKENDS[name] for name in names], indirect=True)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own data directory and default settings."""
    from config.settings import get_settings

    home = tmp_path / "esgtrack-home"
    monkeypatch.setenv("ESGTRACK_HOME", str(home))
    for name in ("ESGTRACK_DATABASE_URL", "ESGTRACK_DIRECTORY", "ESGTRACK_POLICY", "ESGTRACK_SMTP_URL", "ESGTRACK_ORG",
                 "ESGTRACK_TSA_URL", "ESGTRACK_TSA_MODE", "ESGTRACK_TSA_CERT", "ESGTRACK_BASE_URL",
                 "ESGTRACK_SECRET_KEY", "ESGTRACK_UPLOAD_MAX_MB", "ESGTRACK_OIDC_ISSUER", "ESGTRACK_OIDC_CLIENT_ID",
                 "ESGTRACK_OIDC_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 keeping what it receives."""
    server = SMTPServer()
    server.controller.start()
    yield server
    server.controller.stop()


@pytest.fixture
def local_tsa(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalTSA]:
    """A real RFC 3161 TSA on 127.0.0.1 (tests/tsa.py), configured as esgtrack's
    (ESGTRACK_TSA_URL, its CA as ESGTRACK_TSA_CERT; mode best-effort by default)."""
    from config.settings import get_settings

    with LocalTSA(tmp_path / "tsa") as tsa:
        monkeypatch.setenv("ESGTRACK_TSA_URL", tsa.url)
        monkeypatch.setenv("ESGTRACK_TSA_CERT", str(tsa.ca_pem))
        get_settings.cache_clear()
        yield tsa
    get_settings.cache_clear()


def import_shipped(url: str) -> None:
    """The state named "imported": the shipped roadmap imported for KT at NOW."""
    from flows.usecases import roadmap as roadmaps
    from models.core.normalised import load_roadmap

    with dbmod.session_scope(dbmod.get_engine(url)) as s:
        roadmaps.import_roadmap(s, org="KT", loaded=load_roadmap(SHIPPED_ROADMAP), now=NOW)
    forget_engine(url)


@pytest.fixture(scope="session")
def sqlite_states(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Named SQLite states, each a closed database file: "migrated" (the newest schema) and
    "imported"; snapshot() adds more."""
    root = tmp_path_factory.mktemp("states")
    url = f"sqlite:///{root / 'migrated.db'}"
    dbmod.upgrade(dbmod.get_engine(url))
    forget_engine(url)
    shutil.copyfile(root / "migrated.db", root / "imported.db")
    import_shipped(f"sqlite:///{root / 'imported.db'}")
    return {"migrated": root / "migrated.db", "imported": root / "imported.db"}


@pytest.fixture(scope="session")
def postgres_lane() -> Iterator[PostgresLane]:
    """This session's PostgreSQL work database with its "migrated" and "imported" states."""
    if not POSTGRES_URL:
        pytest.skip("ESGTRACK_TEST_POSTGRES_URL is not set")
    lane = PostgresLane(POSTGRES_URL)
    import_shipped(lane.url)
    lane.keep("imported")
    yield lane
    lane.close()


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database at the newest schema (SQLite file or PostgreSQL), set as
    ESGTRACK_DATABASE_URL; with the shipped roadmap imported when the test asks for `imported`.
    Restored from a session state (tests/databases.py): every test starts from its own copy."""
    state = "imported" if "imported" in request.fixturenames else "migrated"
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        copy_sqlite(request.getfixturevalue("sqlite_states")[state], path)
        url = f"sqlite:///{path}"
    else:
        lane = request.getfixturevalue("postgres_lane")
        lane.restore(state)
        url = lane.url
    monkeypatch.setenv("ESGTRACK_DATABASE_URL", url)
    from config.settings import get_settings
    from flows.usecases import database

    get_settings.cache_clear()
    database.migrated.add(url)
    yield url
    forget_engine(url)


@pytest.fixture
def snapshot(request: pytest.FixtureRequest, db_url: str, _isolated_home: Path,
             tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, Callable[[], None]], None]:
    """snapshot(name, build): the first test of a session to ask runs build() on its fresh
    database and data directory, and the result is kept as a named state; every later test
    gets a copy of that state instead of building it again. For fixture recipes of many CLI
    calls (an import and a chain of completions) that many tests start from."""

    def take(name: str, build: Callable[[], None]) -> None:
        if db_url.startswith("sqlite"):
            states, path = request.getfixturevalue("sqlite_states"), Path(db_url.split("///", 1)[1])
        else:
            lane = request.getfixturevalue("postgres_lane")
            states = lane.states
        homes = request.config.stash.setdefault(SNAPSHOT_HOMES, {})
        key = f"{name}-{'sqlite' if db_url.startswith('sqlite') else 'postgres'}"
        forget_engine(db_url)
        if key not in homes:
            build()
            forget_engine(db_url)
            kept = tmp_path_factory.mktemp(f"snapshot-{key}")
            _isolated_home.mkdir(parents=True, exist_ok=True)
            shutil.copytree(_isolated_home, kept / "home")
            if db_url.startswith("sqlite"):
                copy_sqlite(path, kept / "test.db")
                states[name] = kept / "test.db"
            else:
                lane.keep(name)
            homes[key] = kept / "home"
            return
        shutil.rmtree(_isolated_home, ignore_errors=True)
        shutil.copytree(homes[key], _isolated_home)
        if db_url.startswith("sqlite"):
            copy_sqlite(states[name], path)
        else:
            lane.restore(name)

    return take


SNAPSHOT_HOMES = pytest.StashKey[dict[str, Path]]()


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
    """The shipped roadmap imported for organisation KT at NOW: db_url restores the state
    that holds it (see import_shipped)."""
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
