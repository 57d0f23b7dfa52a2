"""The daily flow publishes the status artifact and alerts an off-track target once."""

import pytest
import sqlalchemy as sa

from models.store.db import get_engine
from tests.conftest import NOW, READ_BY, SET_BY

# Orchestration is tested on SQLite; tests/db runs the same SQL on both backends, and the
# tests where processes race on the database run on both here too.
pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.backends("sqlite")]


AS_OF = NOW.date()  # the Almaty date of the cli fixture's clock: the readings precede it


def test_status_artifact_and_offtrack_alert(db_url, imported, cli, _isolated_home):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    from flows.daily import daily_deadlines

    cli("target", "set", "G6", *SET_BY, "--baseline-year", "2024", "--baseline-value", "20")
    cli("target", "record", "G6", "--year", "2025", "--value", "15", *READ_BY)
    for _ in range(2):  # the second run must not alert again
        state = daily_deadlines(as_of=AS_OF, now=NOW, return_state=True)
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id])))
    status = next(a for a in found if a.key == "status")
    assert "| KT | **Total** |" in status.data and "women_share_management_board" in status.data
    assert "off track" in status.data
    with get_engine(db_url).connect() as conn:
        sent = conn.execute(sa.text("SELECT recipient, status FROM outbox_message "
                                    "WHERE step LIKE 'target-offtrack-%' ORDER BY recipient")).all()
    assert [tuple(r) for r in sent] == [("cao", "sent"), ("esg-head", "sent")]
    journal = (_isolated_home / "journal.jsonl").read_text(encoding="utf-8")
    assert "women_share_management_board" in journal
