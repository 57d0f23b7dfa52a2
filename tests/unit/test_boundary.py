"""The pure core imports nothing of prefect, sqlmodel, sqlalchemy or apprise."""

import subprocess
import sys

import pytest

PURE = ["models.roadmap", "models.importer", "models.schedule", "models.escalation",
        "models.policy", "models.normalised", "models.errors"]
OPTIONAL_PURE = ["models.directory", "models.ledger", "models.targets", "models.evidence_rules",
                 "notifications.messages"]
FORBIDDEN = ("prefect", "sqlmodel", "sqlalchemy", "apprise")


def _existing(names):
    import importlib.util

    return [n for n in names if importlib.util.find_spec(n) is not None]


@pytest.mark.parametrize("module", PURE + _existing(OPTIONAL_PURE))
def test_pure_module_imports_no_shell_library(module):
    code = (f"import sys, {module}; "
            f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}); "
            "print(','.join(bad)); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, f"{module} pulls in: {result.stdout.strip()} {result.stderr[-500:]}"
