"""The daily flow under Prefect's test harness, end to end with a real SMTP server."""

import datetime as dt
import os
import subprocess
import sys
from collections import Counter

import pytest

from config.settings import get_settings
from flows.usecases.planning import all_orgs, load_directory_for, load_policy_for, plan_batch
from models.store.db import get_engine
from tests.conftest import morning

# Orchestration is tested on SQLite; tests/db runs the same SQL on both backends, and the
# tests where processes race on the database run on both here too.
pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.backends("sqlite")]

AS_OF = dt.date(2026, 1, 14)  # the 2025 items are two weeks overdue: level 2


def expected_emails(db_url, as_of):
    """Who should get a message, from a dry run of the same planning pass."""
    settings = get_settings()
    directory = load_directory_for(settings)
    engine = get_engine(db_url)
    result = plan_batch(engine, orgs=all_orgs(engine), as_of=as_of, settings=settings,
                        directory=directory, policy=load_policy_for(settings), now=morning(as_of),
                        claim=False)
    return {directory.person(i.recipient).email for i in result.items}, result.items


def inboxes(smtp):
    return Counter(rcpt for _, rcpts in smtp.envelopes for rcpt in rcpts)


def test_daily_flow_reminds_and_escalates_exactly_once(db_url, imported, smtp):
    from flows.daily import daily_deadlines

    expected, items = expected_emails(db_url, AS_OF)
    assert len(expected) > 5 and {i.step for i in items} == {"escalate-14"}
    summary = daily_deadlines(as_of=AS_OF, now=morning(AS_OF))
    assert summary["claimed"] == len({(i.occurrence_id, i.step) for i in items})
    assert summary["delivery"]["fanout"]["messages"] == len(items)  # as the dry run planned
    counts = summary["summary"]  # each category once; the delivery's rows add up to those claimed
    assert counts["claimed"] == sum(counts[k] for k in ("sent", "failed", "dead", "unknown", "cancelled"))
    assert counts["steps_claimed"] == counts["steps_expanded"] + counts["steps_closed"]
    assert counts["messages"] == len(items) and counts["rows_made"] == counts["claimed"] == counts["sent"]
    got = inboxes(smtp)
    assert set(got) == expected and set(got.values()) == {1}  # one digest each
    esg = smtp.to("esg.office@example.kz")[0]  # Kazakh-speaking holder of the ESG office
    assert "E1" in esg["Subject"] or "E1" in esg.get_body(("plain",)).get_content()
    cao = smtp.to("cao@example.kz")[0]  # a Russian speaker
    assert any(ch in cao.get_body(("plain",)).get_content() for ch in "ПрДо")
    again = daily_deadlines(as_of=AS_OF, now=morning(AS_OF))
    assert again["claimed"] == 0 and inboxes(smtp) == got  # the same date twice: nothing new


def test_reminders_before_the_due_date(db_url, imported, smtp):
    from flows.daily import daily_deadlines

    daily_deadlines(as_of=dt.date(2025, 12, 1), now=morning(dt.date(2025, 12, 1)))
    subjects = [m["Subject"] for m in smtp.messages]
    assert subjects and len(smtp.messages) == len(inboxes(smtp))


@pytest.mark.backends("sqlite", "postgres")
def test_two_runs_started_at_once_send_nothing_twice(db_url, imported, smtp):
    from prefect.settings import PREFECT_API_URL

    expected, _ = expected_emails(db_url, AS_OF)
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "ESGTRACK_DATABASE_URL": db_url}
    cmd = [sys.executable, "-m", "flows.cli", "--now", morning(AS_OF).isoformat(), "run", "daily",
           "--as-of", AS_OF.isoformat()]
    runs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for _ in range(2)]
    outputs = [p.communicate(timeout=240)[0] for p in runs]
    assert [p.returncode for p in runs] == [0, 0], outputs
    got = inboxes(smtp)
    assert set(got) == expected and set(got.values()) == {1}


def test_artifacts_are_published(db_url, imported, smtp):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    from flows.daily import daily_deadlines

    state = daily_deadlines(as_of=AS_OF, now=morning(AS_OF), return_state=True)
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id])))
    keys = {"upcoming-deadlines", "overdue-by-level", "progress-by-aspect", "roadmap-progress"}
    assert keys <= {a.key for a in found}
    overdue = next(a for a in found if a.key == "overdue-by-level")
    assert "Level 2" in overdue.data and "E1" in overdue.data


def test_a_failed_run_alerts_the_esg_office(db_url, imported, smtp, tmp_path, monkeypatch):
    from flows.daily import daily_deadlines

    broken = tmp_path / "policy.yaml"
    broken.write_text("reminders: {days_before: [30]}\nescalation: {levels: []}\n")
    monkeypatch.setenv("ESGTRACK_POLICY", str(broken))
    get_settings.cache_clear()
    with pytest.raises(Exception, match=r"escalation\.levels"):
        daily_deadlines(as_of=AS_OF, now=morning(AS_OF))
    alerts = smtp.to("esg.office@example.kz")
    assert len(alerts) == 1 and "daily-deadlines" in alerts[0].get_body(("plain",)).get_content()


def test_each_run_signs_a_checkpoint_of_each_ledger_that_grew(db_url, imported, smtp, cli):
    from flows.daily import daily_deadlines
    from flows.usecases import checkpoints

    settings = get_settings()
    assert cli("complete", "E6", "--period", "2025", "--by", "aigerim", "--evidence-ref", "45-p",
               "--evidence-date", "2025-10-01")[0] == 0  # KT's ledger: one entry
    unsigned = daily_deadlines(as_of=AS_OF, now=morning(AS_OF))
    assert unsigned["checkpoints"] == 0 and any("esgtrack keys init" in w for w in unsigned["warnings"])
    checkpoints.init_keys(settings)
    signed = daily_deadlines(as_of=AS_OF, now=morning(AS_OF))
    assert signed["checkpoints"] == 1 and not any("keys init" in w for w in signed["warnings"])
    saved = checkpoints.checkpoint_dir(settings, "KT") / "1.checkpoint"  # the import's entry
    assert checkpoints.check(get_engine(db_url), note=saved.read_text(encoding="utf-8"),
                             verifier_key=checkpoints.verifier(settings))["size"] == 1
    assert daily_deadlines(as_of=AS_OF, now=morning(AS_OF))["checkpoints"] == 0  # nothing new to sign
