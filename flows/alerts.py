"""Alerts outside the roadmap's ladder: a failed flow run tells the ESG office."""

from __future__ import annotations

import datetime as dt

from config.settings import get_settings
from flows.planning import load_directory_for, load_policy_for


def send_flow_failure(*, flow_name: str, run_id: str, run_name: str, message: str) -> int:
    """Claim and deliver one alert per ESG office holder; returns how many were claimed.
    Never raises: an alert that cannot be sent must not hide the original failure."""
    from flows.cli_app import db
    from models.db import session_scope
    from notifications.outbox import deliver_pending, enqueue

    try:
        settings = get_settings()
        directory, policy = load_directory_for(settings), load_policy_for(settings)
        person = directory.holder(policy.esg_office)
        if person is None:
            return 0
        text = f"Prefect flow {flow_name!r} run {run_name} ({run_id}) failed: {message}"
        item = {
            "org": settings.org, "occurrence_id": None, "measure": "FLOW",
            "titles": {"kk": text, "ru": text, "en": text}, "period": dt.date.today().year,
            "occurrence_kind": "alert", "due": None, "days": None, "step": f"flow-failed-{run_id}",
            "kind": "alert", "level": 0, "completion_form": "", "completion_kind": "",
            "units": {}, "executors": {}, "others_told": [], "external_party": None,
            "record_hint": "Open the Prefect UI, read the run's logs, then re-run it: "
                           "esgtrack run daily --as-of YYYY-MM-DD",
            "recipient": person.id,
        }
        now = dt.datetime.now(dt.timezone.utc)
        engine = db()
        with session_scope(engine) as session:
            claimed = enqueue(session, items=[item], directory=directory, settings=settings, now=now)
        deliver_pending(engine, directory=directory, settings=settings, now=now)
        return claimed
    except Exception:  # noqa: BLE001 - reported by Prefect's own failure state already
        return 0
