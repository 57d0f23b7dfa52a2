"""The daily planning pass alerts off-track targets once, to the ESG office and the executors."""

import sqlalchemy as sa

from config.settings import get_settings
from flows.usecases.planning import load_directory_for, load_policy_for, plan_batch
from models.store.db import session_scope
from models.store.tables import OutboxMessage
from tests.conftest import NOW, READ_BY, SET_BY


def run(engine, claim=True):
    """As of the cli fixture's day (a reading counts from the day it was recorded): the target alerts planned
    (the dry run) or newly claimed in the outbox."""
    settings = get_settings()
    with session_scope(engine) as session:
        before = set(session.execute(sa.select(OutboxMessage.id)).scalars())
    result = plan_batch(engine, orgs=["KT"], as_of=NOW.date(), settings=settings, now=NOW,
                        directory=load_directory_for(settings), policy=load_policy_for(settings),
                        claim=claim)
    if not claim:
        return result, [(i.recipient, i.step) for i in result.items]
    with session_scope(engine) as session:
        rows = session.execute(sa.select(OutboxMessage.id, OutboxMessage.recipient, OutboxMessage.step)).all()
    return result, [(r.recipient, r.step) for r in rows if r.id not in before]


def alerts(ran):
    return sorted((who, step) for who, step in ran[1] if step.startswith("target-"))


def test_an_off_track_reading_is_alerted_once(engine, imported, cli, db_url):
    assert cli("target", "set", "G6", *SET_BY, "--baseline-year", "2024", "--baseline-value", "20")[0] == 0
    assert cli("target", "record", "G6", "--year", "2025", "--value", "18", *READ_BY)[0] == 0
    first = run(engine)
    step = next(s for _, s in alerts(first))
    assert step.startswith("target-offtrack-") and step.endswith("-2025")
    # G6: executor chief_administrative_officer (cao), plus the ESG office (esg-head).
    assert alerts(first) == [("cao", step), ("esg-head", step)]
    assert first[0].alerts == 2
    second = run(engine)
    assert alerts(second) == []


def test_on_track_targets_send_nothing(engine, imported, cli, db_url):
    cli("target", "set", "G6", *SET_BY, "--baseline-year", "2024", "--baseline-value", "20")
    cli("target", "record", "G6", "--year", "2025", "--value", "25", *READ_BY)
    assert alerts(run(engine, claim=False)) == []
