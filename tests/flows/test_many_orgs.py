"""A holding: several organisations in one database, batches, and batches spread over a
process that serves the batch deployment (as a worker machine would)."""

import os
import subprocess
import sys
import time

import pytest

from config import SHIPPED_ROADMAP
from config.settings import get_settings
from flows.usecases import roadmap as roadmaps
from models.core.normalised import load_roadmap
from models.store.db import get_engine, session_scope
from tests.conftest import NOW, morning
from tests.flows.test_daily_flow import AS_OF, expected_emails, inboxes

pytestmark = [pytest.mark.usefixtures("prefect_harness")]


@pytest.fixture
def two_orgs(db_url):
    engine = get_engine(db_url)
    for org in ("KT", "KCELL"):
        with session_scope(engine) as session:
            roadmaps.import_roadmap(session, org=org, loaded=load_roadmap(SHIPPED_ROADMAP), now=NOW)
    return ["KCELL", "KT"]


def test_batches_of_one_organisation_send_each_its_own_digests(db_url, two_orgs, smtp):
    from flows.daily import daily_deadlines

    expected, _ = expected_emails(db_url, AS_OF)
    summary = daily_deadlines(as_of=AS_OF, now=morning(AS_OF), batch_size=1)
    assert summary["batches"] == 2 and summary["organisations"] == 2
    got = inboxes(smtp)
    assert set(got) == expected
    assert set(got.values()) == {1}  # one digest per person per delivery, both orgs listed
    assert daily_deadlines(as_of=AS_OF, now=morning(AS_OF), batch_size=1)["claimed"] == 0


def test_org_scopes_the_run(db_url, two_orgs, smtp):
    from flows.daily import daily_deadlines

    summary = daily_deadlines(as_of=AS_OF, now=morning(AS_OF), org="KCELL")
    assert summary["organisations"] == 1
    from sqlmodel import Session

    from models.store.outbox import list_rows

    with Session(get_engine(db_url)) as session:
        assert {row.org for row in list_rows(session)} == {"KCELL"}


def _wait_for_deployment(name: str, seconds: float = 90) -> None:
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + seconds
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            try:
                client.read_deployment_by_name(name)
                return
            except Exception:
                time.sleep(0.5)
    raise AssertionError(f"deployment {name} never appeared")


@pytest.mark.backends("postgres")  # workers on other machines share a PostgreSQL database
def test_spread_batches_run_on_a_serving_process(db_url, two_orgs, smtp, tmp_path):
    from prefect.settings import PREFECT_API_URL

    from flows.daily import BATCH_DEPLOYMENT, daily_deadlines

    expected, _ = expected_emails(db_url, AS_OF)
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "ESGTRACK_DATABASE_URL": db_url,
           "ESGTRACK_SMTP_URL": get_settings().smtp_url.get_secret_value()}
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115
    worker = subprocess.Popen([sys.executable, "-m", "flows.cli", "serve", "--batches-only"],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_deployment(BATCH_DEPLOYMENT)
        summary = daily_deadlines(as_of=AS_OF, now=morning(AS_OF), batch_size=1, spread=True)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        log.close()
    assert [r["state"] for r in summary["batch_runs"]] == ["COMPLETED", "COMPLETED"]
    got = inboxes(smtp)
    assert set(got) == expected
    # each batch delivers its own organisation's rows: one digest per person per organisation
    assert set(got.values()) == {2}, (tmp_path / "worker.log").read_text()[-2000:]
    served = (tmp_path / "worker.log").read_text()
    assert all(f"/flow-run/{r['flow_run_id']}" in served for r in summary["batch_runs"])  # ran there
