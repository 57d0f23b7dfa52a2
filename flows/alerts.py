"""Alerts outside the roadmap's ladder: a failed flow run tells the ESG office.

The alert goes straight through the channels (email, Teams, journal), not through the
outbox: the failure may well be the database itself.
"""

from __future__ import annotations

import datetime as dt
import logging

from config import DEFAULT_POLICY
from config.settings import get_settings
from flows.usecases.planning import load_directory_for, load_policy_for
from models.core.escalation import PlannedItem, StepKind
from models.core.policy import load_policy
from notifications.channels import channels_for, send, target_for
from notifications.messages import render

log = logging.getLogger("esgtrack.alerts")


def failure_item(*, org: str, flow_name: str, run_id: str, run_name: str, message: str,
                 recipient: str, today: dt.date) -> PlannedItem:
    text = f"Prefect flow {flow_name!r}, run {run_name} ({run_id}), failed: {message}"
    return PlannedItem(
        org=org, occurrence_id=None, measure="FLOW",
        titles={"kk": text, "ru": text, "en": text}, period=today.year,
        occurrence_kind="alert", due=None, days=None, step=f"flow-failed-{run_id}",
        kind=StepKind.ALERT, level=0, completion_form="", completion_kind="",
        units={}, executors={}, others_told=(), external_party=None,
        record_hint="Open the run in the Prefect UI, read its logs, fix the cause, then "
                    "run it again: esgtrack run daily --as-of YYYY-MM-DD",
        recipient=recipient,
    )


def send_flow_failure(*, flow_name: str, run_id: str, run_name: str, message: str,
                      today: dt.date) -> list[str]:
    """Tell the ESG office's holder on each of their channels (dated `today`, the Almaty date
    of the failure); returns the outcomes.
    Never raises: an alert that cannot be sent must not hide the original failure."""

    settings = get_settings()
    try:
        try:
            policy = load_policy_for(settings)
        except Exception:
            policy = load_policy(DEFAULT_POLICY)
        directory = load_directory_for(settings)
        person = directory.holder(policy.esg_office)
        if person is None:
            log.error("flow failure alert: nobody holds %s", policy.esg_office)
            return []
        item = failure_item(org=settings.org, flow_name=flow_name, run_id=run_id,
                            run_name=run_name, message=message, recipient=person.id, today=today)
        message_ = render("alert", [item], person, as_of=today)
        outcomes = []
        for channel in channels_for(person, settings):
            result = send(message_, target_for(person, channel, settings), timeout=settings.notify_timeout)
            outcomes.append(f"{channel}: {result.outcome}")
        return outcomes
    except Exception:
        log.exception("flow failure alert could not be sent")
        return []
