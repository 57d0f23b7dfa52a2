"""Quiet, robust Prefect settings for every esgtrack process (DESIGN.md, measured facts).
Call quiet() before importing prefect; values already set in the environment win."""

from __future__ import annotations

import os

DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",  # else "database is locked" noise
    "DO_NOT_TRACK": "1",
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
}


def quiet(**extra: str) -> None:
    for name, value in {**DEFAULTS, **extra}.items():
        os.environ.setdefault(name, value)
