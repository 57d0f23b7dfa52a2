"""A rescheduled deadline gets its own reminders and escalations; a removed measure's
opened occurrences are not chased."""

import datetime as dt

import sqlalchemy as sa

from config.settings import get_settings
from flows.usecases import occurrences as events
from flows.usecases.planning import load_directory_for, load_policy_for, plan_batch
from models.store.db import session_scope
from models.store.tables import MeasureRow, NoticeRow, OccurrenceRow
from tests.conftest import morning


def run(engine, day: str):
    """The (measure, step) notices the daily pass newly claims on that day."""
    settings = get_settings()
    as_of = dt.date.fromisoformat(day)
    keys = sa.select(NoticeRow.occurrence_id, NoticeRow.due_at, NoticeRow.step)
    with session_scope(engine) as session:
        before = set(session.execute(keys).all())
    plan_batch(engine, orgs=["KT"], as_of=as_of, settings=settings,
               directory=load_directory_for(settings), policy=load_policy_for(settings),
               now=morning(as_of))
    query = (sa.select(MeasureRow.code, NoticeRow.occurrence_id, NoticeRow.due_at, NoticeRow.step)
             .join(OccurrenceRow, OccurrenceRow.id == NoticeRow.occurrence_id)
             .join(MeasureRow, MeasureRow.id == OccurrenceRow.measure_id))
    with session_scope(engine) as session:
        return {(code, step) for code, *key, step in session.execute(query)
                if (*key, step) not in before}


def test_reschedule_rearms_the_ladder(engine, imported):
    assert ("E6", "remind-7") in run(engine, "2025-12-24")
    with session_scope(engine) as session:
        events.reschedule(session, ref=events.OccurrenceRef(org="KT", measure="E6", period=2025),
                          actor="esg", to=dt.date(2026, 3, 31), reason="moved", approved_by="cao",
                          now=morning(dt.date(2026, 1, 2)))
    assert ("E6", "escalate-1") not in run(engine, "2026-01-05")  # not overdue any more
    assert ("E6", "remind-7") in run(engine, "2026-03-24")       # the new date's reminder
    assert ("E6", "remind-7") not in run(engine, "2026-03-24")   # once
    assert ("E6", "escalate-1") in run(engine, "2026-04-01")
