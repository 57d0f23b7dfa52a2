"""A rescheduled deadline gets its own reminders and escalations; a removed measure's
opened occurrences are not chased."""

import datetime as dt

from config.settings import get_settings
from flows.planning import load_directory_for, load_policy_for, plan_batch
from models import occurrence_events as events
from models.db import session_scope
from models.tables import utcnow


def run(engine, day: str):
    settings = get_settings()
    result = plan_batch(engine, orgs=["KT"], as_of=dt.date.fromisoformat(day), settings=settings,
                        directory=load_directory_for(settings), policy=load_policy_for(settings),
                        keep_items=True)
    return {(i["measure"], i["step"]) for i in result.items}


def test_reschedule_rearms_the_ladder(engine, imported):
    assert ("E6", "remind-7") in run(engine, "2025-12-24")
    with session_scope(engine) as session:
        events.reschedule(session, ref=events.OccurrenceRef(org="KT", measure="E6", period=2025),
                          actor="esg", to=dt.date(2026, 3, 31), reason="moved", approved_by="cao",
                          now=utcnow())
    assert ("E6", "escalate-1") not in run(engine, "2026-01-05")  # not overdue any more
    assert ("E6", "remind-7") in run(engine, "2026-03-24")       # the new date's reminder
    assert ("E6", "remind-7") not in run(engine, "2026-03-24")   # once
    assert ("E6", "escalate-1") in run(engine, "2026-04-01")
