"""Completions recorded at the same time never fork or break the chain: threads in one process
and separate CLI processes (SQLite file; PostgreSQL when set)."""

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from config.settings import get_settings
from models.core.errors import InputError
from models.store import audit
from models.store.db import session_scope
from tests.db.ledger_helpers import complete, complete_order, rows

REPORTED = ["E2", "E3", "E5", "E12", "E14", "S13", "G2", "G10"]  # closed by a report or link
ROOT = Path(__file__).resolve().parents[2]


def run_together(jobs) -> list:
    """Start every job at once (a barrier), return each one's result or exception."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(i, job):
        barrier.wait()
        try:
            results[i] = job()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def assert_one_intact_chain(engine, n: int) -> None:
    stored = rows(engine, "WHERE org = 'KT'")
    assert [r["seq"] for r in stored] == list(range(1, n + 1))
    assert len({r["prev_hash"] for r in stored}) == n  # no fork: every entry has its own parent
    with session_scope(engine) as s:
        result = audit.verify_org(s, org="KT", store_root=get_settings().evidence_dir)
    assert result.ok, result.reason


def test_threads_completing_at_once_keep_one_chain(engine, imported):
    jobs = [lambda code=code: complete(engine, code, actor=f"officer-{code}",
                                       urls=(f"https://kt.kz/{code}",)) for code in REPORTED]
    results = run_together(jobs)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert_one_intact_chain(engine, len(REPORTED))


def test_the_same_occurrence_completed_twice_at_once_is_recorded_once(engine, imported):
    results = run_together([lambda: complete_order(engine, actor="a"),
                            lambda: complete_order(engine, actor="b"),
                            lambda: complete_order(engine, actor="c")])
    done = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, InputError)]
    assert len(done) == 1 and len(refused) == 2, results
    assert_one_intact_chain(engine, 1)


@pytest.mark.slow
def test_cli_processes_completing_at_once_keep_one_chain(engine, imported, db_url, tmp_path):
    env = {**os.environ, "ESGTRACK_DATABASE_URL": db_url, "ESGTRACK_HOME": str(get_settings().home),
           "PYTHONPATH": str(ROOT)}
    start = tmp_path / "go"
    script = ("import os, sys, time\n"
              f"while not os.path.exists({str(start)!r}): time.sleep(0.01)\n"
              "from flows.cli import main\nmain(sys.argv[1:])\n")
    procs = [subprocess.Popen([sys.executable, "-c", script, "complete", code, "--period", "2025",
                               "--by", f"officer-{code}", "--url", f"https://kt.kz/{code}"],
                              env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for code in REPORTED[:6]]
    start.touch()  # every process has imported everything: they write at the same moment
    outcomes = [(p.wait(timeout=120), p.stderr.read().decode()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert [code for code, _ in outcomes] == [0] * 6, outcomes
    assert_one_intact_chain(engine, 6)
