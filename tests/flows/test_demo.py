"""`esgtrack demo`, run as a user runs it: the main job on embedded defaults shows reminders
and every escalation level, in the journal, and leaves a ledger that verifies."""

import json
import os
import subprocess
import sys

from sqlmodel import Session

from flows.usecases.demo import DEMO_AS_OF
from models.store.db import get_engine
from models.store.outbox import list_rows

LINK_TIME = "2026-11-16T09:00+05:00"  # the demo's links are dated by --now (default: the clock)


def test_demo_runs_the_daily_flow_with_every_level(tmp_path, monkeypatch):
    home = tmp_path / "demo-home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ESGTRACK_", "PREFECT_API_URL"))}
    env["ESGTRACK_HOME"] = str(tmp_path / "user-home")
    run = subprocess.run([sys.executable, "-m", "flows.cli", "--now", LINK_TIME, "demo", "--home", str(home)],
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "What was sent to whom" in run.stdout and str(DEMO_AS_OF) in run.stdout
    assert "Traceback" not in run.stderr
    lines = [json.loads(line) for line in (home / "journal.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {line["language"] for line in lines} == {"kk", "ru", "en"}
    engine = get_engine(f"sqlite:///{home / 'esgtrack.db'}")
    with Session(engine) as session:
        rows = list_rows(session)
    steps = {"remind-30", "remind-7", "escalate-1", "escalate-14", "escalate-30", "escalate-60"}
    assert steps <= {r.step for r in rows}
    assert {r.status for r in rows} == {"sent"}
    verify = subprocess.run([sys.executable, "-m", "flows.cli", "verify"], capture_output=True, text=True,
                            env={**env, "ESGTRACK_HOME": str(home)}, timeout=120)
    assert verify.returncode == 0 and "intact" in verify.stdout
    signed = sorted((home / "checkpoints" / "KT").glob("*.checkpoint"))  # the run signed the ledger
    assert len(signed) == 1, signed
    proven = subprocess.run([sys.executable, "-m", "flows.cli", "verify", "--checkpoint", str(signed[0])],
                            capture_output=True, text=True, env={**env, "ESGTRACK_HOME": str(home)}, timeout=120)
    assert proven.returncode == 0 and "consistency proven" in proven.stdout, proven.stderr
    portal_opens_from_what_the_demo_printed(run.stdout, home, engine, monkeypatch)


def portal_opens_from_what_the_demo_printed(stdout: str, home, engine, monkeypatch) -> None:
    """The printed link opens the officer's obligations, and the printed account signs in."""
    import datetime as dt
    import re

    from fastapi.testclient import TestClient

    from config.settings import get_settings
    from flows.web.app import create_app

    assert f"ESGTRACK_HOME={home} esgtrack web" in stdout
    link = re.search(r"http://127\.0\.0\.1:8000(/o/\S+)", stdout).group(1)
    password = re.search(r"office / (\S+)", stdout).group(1)
    monkeypatch.setenv("ESGTRACK_HOME", str(home))
    get_settings.cache_clear()
    moment = dt.datetime.fromisoformat(LINK_TIME)
    client = TestClient(create_app(engine=engine, clock=lambda: moment + dt.timedelta(days=1)))
    mine = client.get(link)
    assert mine.status_code == 200 and "Дмитрий Ковалёв" in mine.text and 'data-measure="E2"' in mine.text
    form = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    signed = client.post("/login", data={"csrf": token, "username": "office", "password": password,
                                         "next": "/review"})
    assert signed.status_code == 200 and signed.url.path == "/review"


def test_demo_refuses_to_wipe_a_directory_it_did_not_make(tmp_path):
    from flows.usecases.demo import prepare_home

    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.txt").write_text("keep me")
    import pytest

    from models.core.errors import InputError

    with pytest.raises(InputError, match="refusing to wipe"):
        prepare_home(precious)
    assert (precious / "thesis.txt").read_text() == "keep me"
