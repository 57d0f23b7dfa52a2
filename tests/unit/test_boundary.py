"""The pure core imports nothing of prefect, sqlmodel, sqlalchemy or apprise, nor the settings."""

import json
import pathlib
import pkgutil
import subprocess
import sys

import pytest

import models.core
import models.evidence

# Every module of the pure packages, found by walking them (a new module is covered without
# editing a list), and the pure part of notifications: rendering.
PURE = sorted(
    [info.name for package in (models.core, models.evidence)
     for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
    + ["models.core", "models.evidence", "notifications.messages"])
# Shell libraries, and the settings (the core reads no settings and no environment)
FORBIDDEN = ("prefect", "sqlmodel", "sqlalchemy", "alembic", "apprise", "matplotlib", "reportlab",
             "pydantic_settings", "config")

# One fresh interpreter for all modules (an interpreter each costs ~0.15 s): before each
# import it forgets every module loaded since start-up, so each module's whole import closure
# is what is checked, whatever was imported before it.
PROBE = """
import importlib, json, sys
baseline = set(sys.modules)
found = []
for name in MODULES:
    for loaded in [m for m in sys.modules if m not in baseline]:
        del sys.modules[loaded]
    importlib.import_module(name)
    found.append(sorted(m for m in sys.modules if m.split('.')[0] in FORBIDDEN))
print(json.dumps(found))
"""


def probe(modules: list[str], forbidden: tuple[str, ...]) -> list[list[str]]:
    """For each module in turn, the forbidden modules loaded after importing it."""
    code = f"MODULES = {modules!r}\nFORBIDDEN = {forbidden!r}\n{PROBE}"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def imported_by() -> dict[str, list[str]]:
    return dict(zip(PURE, probe(PURE, FORBIDDEN), strict=True))


@pytest.mark.parametrize("module", PURE)
def test_pure_module_imports_no_shell_library(module, imported_by):
    assert imported_by[module] == [], f"{module} pulls in: {', '.join(imported_by[module])}"


def test_the_probe_forgets_between_modules_and_sees_a_second_import():
    """A module imported after an offender is not blamed for it, and an offender imported a
    second time is caught again."""
    assert probe(["sqlite3", "json", "sqlite3"], ("sqlite3", "_sqlite3")) == [
        ["_sqlite3", "sqlite3", "sqlite3.dbapi2"], [], ["_sqlite3", "sqlite3", "sqlite3.dbapi2"]]


@pytest.mark.parametrize("module", [m for m in PURE if m.startswith("models.")])
def test_pure_module_reads_no_environment_or_settings(module):
    import importlib.util

    source = pathlib.Path(importlib.util.find_spec(module).origin).read_text(encoding="utf-8")
    assert "os.environ" not in source and "getenv" not in source, module
    # not even inside a function: the core takes paths and values, the shell reads the settings
    assert "from config" not in source and "import config" not in source, module
