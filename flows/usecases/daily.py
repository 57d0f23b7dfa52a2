"""Run the daily pass once: the daily-deadlines flow in this process (ephemeral Prefect unless
PREFECT_API_URL names a server), after checking everything it will read."""

from __future__ import annotations

import datetime as dt
import os
import time
from typing import Any

from config.settings import get_settings
from flows.prefect_env import quiet
from flows.usecases import database
from flows.usecases.planning import load_directory_for, load_policy_for
from models.core.errors import InputError


def run_daily_pass(day: dt.date, org: str | None, *, now: dt.datetime, batch_size: int = 200,
                   spread: bool = False) -> dict[str, Any]:
    """The flow's summary, with the seconds it took. Bad settings, database, policy or
    directory fail first, as esgtrack's one-line errors, before Prefect starts: no flow run,
    no failure alert, nothing written."""
    quiet()
    database.engine()
    load_policy_for(get_settings())
    load_directory_for(get_settings())
    if spread and not os.environ.get("PREFECT_API_URL"):
        raise InputError("--spread needs a Prefect server that serves the batch deployment: set "
                         "PREFECT_API_URL (see `esgtrack serve`)", field="--spread")
    started = time.monotonic()
    from flows.daily import daily_deadlines  # Prefect (~2 s to import): only when a flow runs

    summary = daily_deadlines(as_of=day, org=org, batch_size=batch_size, spread=spread, now=now)
    summary["seconds"] = round(time.monotonic() - started, 1)
    return summary
