"""The pure core imports nothing of prefect, sqlmodel, sqlalchemy or apprise."""

import subprocess
import sys

import pytest

PURE = ["models.roadmap", "models.importer", "models.schedule", "models.escalation",
        "models.policy", "models.normalised", "models.errors", "models.yamltext",
        "models.directory", "models.ledger", "models.evidence_rules", "models.evidence_store",
        "models.pack", "models.pack_verify", "models.targets", "models.progress",
        "models.target_alerts", "notifications.messages"]
FORBIDDEN = ("prefect", "sqlmodel", "sqlalchemy", "apprise", "matplotlib", "reportlab")


@pytest.mark.parametrize("module", PURE)
def test_pure_module_imports_no_shell_library(module):
    code = (f"import sys, {module}; "
            f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}); "
            "print(','.join(bad)); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, f"{module} pulls in: {result.stdout.strip()} {result.stderr[-500:]}"
