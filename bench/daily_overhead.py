"""Benchmark: the daily flow for the shipped roadmap against an empty Prefect flow, both
against a local Prefect server this script starts (so the floor is the engine's per-run cost,
not its start-up), in the same run. Prints JSON.

    .venv/bin/python bench/daily_overhead.py [--runs 8]

daily   daily_deadlines(as_of=D) for one organisation (49 measures, 220 occurrences, the
        example directory, messages to the journal), D stepping through the reminder and
        escalation ladder of 2025's deadlines, so that every run plans, claims and delivers
        a new day's messages (and one run re-does a day: nothing new).
empty   a flow that does nothing, run alternately with the daily flow.
ratio   median(daily) / median(empty). Goal: 1.25 or less.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DATES = ["2025-10-31", "2025-12-01", "2025-12-17", "2025-12-24", "2025-12-30", "2026-01-05",
         "2026-01-14", "2026-01-30", "2026-03-02", "2026-03-10", "2026-03-10", "2026-03-16"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(home: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(home / "prefect"),
           "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
           "PREFECT_UI_ENABLED": "false"}
    prefect = Path(sys.executable).with_name("prefect")
    log = open(home / "server.log", "w")  # noqa: SIM115 - lives as long as the server
    server = subprocess.Popen([str(prefect), "server", "start", "--host", "127.0.0.1",
                               "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    api = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{api}/health", timeout=2) as answer:
                if answer.status == 200:
                    return server, api
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit(f"the Prefect server did not start; see {home / 'server.log'}")


def prepare(home: Path, api: str) -> None:
    from config import EXAMPLE_DIRECTORY

    os.environ.update({
        "PREFECT_API_URL": api, "PREFECT_HOME": str(home / "client"),
        "PREFECT_LOGGING_LEVEL": "WARNING", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1", "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
        "ESGTRACK_HOME": str(home / "esgtrack"), "ESGTRACK_DIRECTORY": str(EXAMPLE_DIRECTORY),
    })
    os.environ.pop("ESGTRACK_DATABASE_URL", None)
    os.environ.pop("ESGTRACK_SMTP_URL", None)
    from config import SHIPPED_ROADMAP
    from flows.cli.app import db
    from flows.usecases import roadmap as roadmaps
    from models.core.normalised import load_roadmap
    from models.store.db import session_scope

    with session_scope(db()) as session:
        roadmaps.import_roadmap(session, org="KT", loaded=load_roadmap(SHIPPED_ROADMAP),
                            now=dt.datetime(2025, 9, 30, 4, tzinfo=dt.UTC))


def measure(runs: int) -> dict:
    from prefect import flow

    from flows.daily import daily_deadlines
    from models.core.schedule import morning

    @flow(name="empty")
    def empty() -> None:
        return None

    empty()  # warm-up: the first run of each flow registers it
    daily_deadlines(as_of=dt.date(2025, 10, 1), now=dt.datetime(2025, 10, 1, 4, tzinfo=dt.UTC))
    daily_times, empty_times, claimed = [], [], []
    for day in DATES[:runs]:
        started = time.perf_counter()
        empty()
        empty_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        as_of = dt.date.fromisoformat(day)
        summary = daily_deadlines(as_of=as_of, now=morning(as_of))
        daily_times.append(time.perf_counter() - started)
        claimed.append(summary["claimed"])
    return {"daily_s": daily_times, "empty_s": empty_times, "claimed_per_run": claimed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=len(DATES), help="daily runs (and as many empty ones)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="esgtrack-bench-") as tmp:
        home = Path(tmp)
        server, api = start_server(home)
        try:
            prepare(home, api)
            times = measure(min(args.runs, len(DATES)))
        finally:
            server.terminate()
            server.wait(timeout=30)
    daily, empty = statistics.median(times["daily_s"]), statistics.median(times["empty_s"])
    print(json.dumps({
        "benchmark": "daily_overhead",
        "daily_median_s": round(daily, 3), "empty_median_s": round(empty, 3),
        "ratio": round(daily / empty, 3), "goal": "<= 1.25",
        "runs": len(times["daily_s"]), "messages_claimed_per_run": times["claimed_per_run"],
        "daily_s": [round(t, 3) for t in times["daily_s"]],
        "empty_s": [round(t, 3) for t in times["empty_s"]],
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }, indent=2))


if __name__ == "__main__":
    main()
