"""Alembic migrations apply cleanly on SQLite and PostgreSQL and match the table classes;
the ledger's triggers exist after migrating."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from models.store.db import alembic_config, upgrade


def _diff(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        return compare_metadata(context, SQLModel.metadata)


def test_head_matches_the_table_classes(engine):
    assert _diff(engine) == []


def test_downgrade_to_base_and_up_again(engine, db_url):
    config = alembic_config(db_url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    upgrade(engine)
    assert _diff(engine) == []


def test_ledger_refuses_update_and_delete_after_migrating(engine, imported):
    import pytest
    import sqlalchemy as sa

    from models.store import ledger as ledger_store
    from models.store.db import session_scope
    from tests.conftest import NOW

    with session_scope(engine) as session:
        ledger_store.append(session, org="KT", event="roadmap_imported", actor="test",
                            at=NOW, data={"note": "one entry to protect"})

    with pytest.raises(sa.exc.DBAPIError), engine.begin() as conn:
        conn.execute(sa.text("UPDATE ledger_entry SET actor = 'x'"))
    with pytest.raises(sa.exc.DBAPIError), engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM ledger_entry"))


def test_steps_claimed_before_notices_existed_stay_claimed(engine, db_url, imported):
    """0006 turns the outbox's claimed steps into expanded notices: an upgrade re-sends nothing."""
    import datetime as dt

    import sqlalchemy as sa

    from config.settings import get_settings
    from flows.usecases.planning import load_directory_for, load_policy_for, plan_batch
    from models.core.escalation import plan
    from models.store.claims import ladder_window
    from models.store.db import session_scope
    from models.store.measures import role_names_of
    from models.store.occurrences import open_items
    from models.store.tables import NoticeRow, OutboxMessage, table_of
    from tests.conftest import morning

    OUTBOX = table_of(OutboxMessage)  # noqa: N806 - a table

    settings = get_settings()
    directory, policy = load_directory_for(settings), load_policy_for(settings)
    as_of = dt.date(2026, 1, 14)
    with session_scope(engine) as session:  # what 0005's daily pass planned (read with today's tables)
        names = role_names_of(session, orgs=["KT"])["KT"]
        start, end = ladder_window(policy, as_of)
        planned = plan(open_items(session, orgs=["KT"], start=start, end=end), directory, policy,
                       sent=set(), as_of=as_of, role_names=names)
    rows = enqueue_rows(planned.items, directory, settings, morning(as_of))
    config = alembic_config(db_url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0005")
    with session_scope(engine) as session:  # ... and claimed: outbox rows
        old = sa.table("outbox_message", *(sa.column(k, OUTBOX.c[k].type) for k in rows[0]))
        session.execute(sa.insert(old), rows)
    upgrade(engine)
    steps = {(i.occurrence_id, i.step) for i in planned.items}
    with session_scope(engine) as session:
        notices = session.execute(sa.select(NoticeRow.occurrence_id, NoticeRow.step, NoticeRow.expanded_at,
                                            NoticeRow.planned_on)).all()
    assert {(n.occurrence_id, n.step) for n in notices} == steps and len(steps) > 10
    assert all(n.expanded_at is not None and n.planned_on == as_of for n in notices)
    again = plan_batch(engine, orgs=["KT"], as_of=as_of, settings=settings, directory=directory, policy=policy,
                       now=morning(as_of))
    assert again.claimed == 0


def enqueue_rows(items, directory, settings, now):
    """The rows enqueue makes, with only the columns 0005 had (message_key and the fallback
    columns came with 0010)."""
    from notifications.channels import first_route
    from notifications.enqueue import route_rows

    later = {"message_key", "hop", "fallback_reason", "fallback_to"}
    rows = [row for item in items for row in route_rows(
        item, first_route(directory.person(item.recipient), directory, settings), hop=0, reason=None,
        directory=directory, settings=settings, now=now)]
    return [{k: v for k, v in row.items() if k not in later} for row in rows]


def test_messages_dead_before_fallback_are_not_handed_on_by_the_upgrade(engine, db_url, imported):
    """0010 marks rows that were already dead "none": the first delivery after the upgrade
    sends nobody a months-old message; `outbox retry --dead` still can."""
    import datetime as dt

    import sqlalchemy as sa

    from config.settings import get_settings
    from flows.usecases.planning import load_directory_for
    from models.core.escalation import PlannedItem
    from models.store.db import session_scope
    from models.store.tables import OutboxMessage, table_of
    from notifications import fallback, outbox
    from tests.conftest import NOW

    OUTBOX = table_of(OutboxMessage)  # noqa: N806 - a table
    settings = get_settings()
    directory = load_directory_for(settings)
    item = PlannedItem.from_payload({"org": "KT", "occurrence_id": 1, "measure": "E1", "period": 2025,
                                     "due": "2025-12-31", "step": "remind-30", "kind": "reminder",
                                     "recipient": "esg-head", "titles": {"kk": "E1"}})
    rows = enqueue_rows([item], directory, settings, NOW)
    config = alembic_config(db_url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0009")
    with session_scope(engine) as session:
        old = sa.table("outbox_message", *(sa.column(k, OUTBOX.c[k].type) for k in rows[0]))
        session.execute(sa.insert(old), [{**r, "status": "dead", "attempts": 6} for r in rows])
    upgrade(engine)
    with session_scope(engine) as session:
        marked = session.execute(sa.select(OUTBOX.c.fallback_to, OUTBOX.c.message_key)).all()
    assert marked and all(m.fallback_to == "none" and m.message_key for m in marked)
    later = NOW + dt.timedelta(days=1)
    assert fallback.hand_on(engine, directory=directory, settings=settings, now=later) == 0
    assert outbox.make_due(engine, now=later, dead=True) == len(marked)  # on request, resent
