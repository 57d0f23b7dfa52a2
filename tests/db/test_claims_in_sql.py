"""The daily pass claims steps in SQL (models.store.claims.claim_steps). Day after day, and
through reschedules, waivers, measures leaving the roadmap and as-needed occurrences, it
claims exactly the (occurrence, step) pairs the Python planner plans for the dry run, and
delivery's fan-out makes exactly the dry run's messages. On SQLite and on PostgreSQL."""

from __future__ import annotations

import contextlib
import datetime as dt
import time

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from config.settings import get_settings
from flows.usecases import occurrences as events
from flows.usecases.planning import all_orgs, load_directory_for, load_policy_for, plan_batch
from models.store.claims import LADDER_KEEP, claim_statement, day_ladder, ensure_ladder, ladder_key, plan_as_probes
from models.store.db import session_scope
from models.store.occurrences import open_occurrence
from models.store.tables import LadderStepRow, MeasureRow, NoticeRow, OccurrenceRow, OutboxMessage
from notifications.fanout import expand_notices
from tests.conftest import morning

START, END = dt.date(2025, 11, 3), dt.date(2026, 5, 29)
AFTER = morning(END)  # delivery fans out after every walked day


def _claim(engine, as_of, *, claim=True):
    settings = get_settings()
    return plan_batch(engine, orgs=["KT"], as_of=as_of, settings=settings,
                      directory=load_directory_for(settings), policy=load_policy_for(settings),
                      now=morning(as_of), claim=claim)


def _notices(engine) -> set[tuple]:
    with session_scope(engine) as session:
        return set(session.execute(sa.select(NoticeRow.occurrence_id, NoticeRow.due_at, NoticeRow.step)).all())


def _rows(engine) -> list[tuple]:
    with session_scope(engine) as session:
        return session.execute(sa.select(OutboxMessage.occurrence_id, OutboxMessage.step,
                                         OutboxMessage.recipient, OutboxMessage.idem_key)).all()


def _expand(engine, **kw):
    settings = get_settings()
    return expand_notices(engine, directory=load_directory_for(settings), settings=settings,
                          policy=load_policy_for(settings), now=AFTER, **kw)


def _reschedule(session, now):
    events.reschedule(session, ref=events.OccurrenceRef(org="KT", measure="E6", period=2025),
                      actor="esg", to=dt.date(2026, 2, 27), reason="moved", approved_by="cao", now=now)


def _waive(session, now):
    events.waive(session, ref=events.OccurrenceRef(org="KT", measure="S3", period=2025),
                 actor="esg", reason="not this year", approved_by="ceo", now=now)


def _drop_measure(session, now):  # a later edition drops G5: its open items are left alone
    session.execute(sa.update(MeasureRow).where(MeasureRow.org == "KT", MeasureRow.code == "G5")
                    .values(active=False))


def _open_as_needed(session, now):
    code = session.execute(sa.select(MeasureRow.code).where(
        MeasureRow.org == "KT", MeasureRow.kind == "as_needed", MeasureRow.active)).scalars().first()
    open_occurrence(session, org="KT", code=code, due=dt.date(2026, 3, 31), now=now)


# Things that happen to a roadmap while the daily flow runs, on the first walked day on or after
EVENTS = [(dt.date(2025, 12, 1), _reschedule), (dt.date(2026, 1, 5), _waive),
          (dt.date(2026, 2, 2), _drop_measure), (dt.date(2026, 3, 2), _open_as_needed)]


def test_sql_claims_are_the_python_plan_day_after_day(engine, imported):
    day, days_with_steps, messages, pending = START, 0, 0, list(EVENTS)
    while day <= END:
        while pending and pending[0][0] <= day:
            with session_scope(engine) as session:
                pending.pop(0)[1](session, morning(day))
        dry = _claim(engine, day, claim=False)
        planned = {(i.occurrence_id, i.step) for i in dry.items}
        before_notices, before_rows = _notices(engine), set(_rows(engine))
        real = _claim(engine, day)
        assert {(o, step) for o, _, step in _notices(engine) - before_notices} == planned, day
        assert real.claimed == len(planned), day
        fan = _expand(engine)
        made = {(o, s, r) for o, s, r, _ in set(_rows(engine)) - before_rows}
        assert made == {(i.occurrence_id, i.step, i.recipient) for i in dry.items}, day
        assert fan.messages >= len(dry.items)  # one row per channel of each recipient
        days_with_steps += bool(planned)
        messages += len(dry.items)
        assert _claim(engine, day).claimed == 0  # the same day again claims nothing
        day += dt.timedelta(days=3)
    assert not pending and days_with_steps >= 15 and messages > 300, (days_with_steps, messages)


def test_a_notice_whose_occurrence_closed_before_delivery_makes_nothing(engine, imported):
    as_of = dt.date(2026, 1, 14)
    assert _claim(engine, as_of).claimed > 10
    with session_scope(engine) as session:
        events.waive(session, ref=events.OccurrenceRef(org="KT", measure="E1", period=2025),
                     actor="esg", reason="not this year", approved_by="ceo", now=morning(as_of))
    fan = _expand(engine)
    assert fan.cancelled == 1
    with session_scope(engine) as session:
        e1 = session.execute(sa.select(OutboxMessage).where(OutboxMessage.measure == "E1")).all()
        pending = session.execute(sa.select(sa.func.count()).select_from(NoticeRow)
                                  .where(NoticeRow.expanded_at.is_(None))).scalar_one()
    assert e1 == [] and pending == 0


def test_a_crash_midway_through_the_fan_out_loses_and_repeats_nothing(engine, imported, monkeypatch):
    import notifications.fanout as fanout

    as_of = dt.date(2026, 1, 14)
    dry = _claim(engine, as_of, claim=False)
    _claim(engine, as_of)
    real_items, calls = fanout._items, {"n": 0}

    def crash_on_third_page(*args):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("killed")
        return real_items(*args)

    monkeypatch.setattr(fanout, "_items", crash_on_third_page)
    with contextlib.suppress(RuntimeError):
        _expand(engine, chunk=4)
    assert 0 < len(_rows(engine)) < len(dry.items)  # two pages were committed
    monkeypatch.setattr(fanout, "_items", real_items)
    _expand(engine, chunk=4)
    _expand(engine)  # and once more: nothing new
    rows = _rows(engine)
    assert len(rows) == len(set(rows))
    assert {(o, s, r) for o, s, r, _ in rows} == {(i.occurrence_id, i.step, i.recipient)
                                                  for i in dry.items}


def test_two_fan_outs_at_once_make_each_row_once(engine, imported):
    from concurrent.futures import ThreadPoolExecutor

    as_of = dt.date(2026, 1, 14)
    dry = _claim(engine, as_of, claim=False)
    _claim(engine, as_of)
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda _: _expand(engine, chunk=7), range(2)))
    rows = _rows(engine)
    assert len(rows) == len(set(rows))
    assert {(o, s, r) for o, s, r, _ in rows} == {(i.occurrence_id, i.step, i.recipient)
                                                  for i in dry.items}


def test_the_ladder_is_written_once_kept_fresh_and_old_keys_dropped(engine):
    policy = load_policy_for(get_settings())
    day = dt.date(2026, 1, 14)
    now = morning(day)
    with session_scope(engine) as session:
        session.add(LadderStepRow(key="2020-01-01:old", due_on=day, occ_kind="due", step="remind-7",
                                  kind="reminder", level=0, written_at=now - LADDER_KEEP - dt.timedelta(hours=1)))
    with session_scope(engine) as session:
        key = ensure_ladder(session, policy=policy, as_of=day, now=now)
    later = now + dt.timedelta(hours=3)
    with session_scope(engine) as session:
        assert ensure_ladder(session, policy=policy, as_of=day, now=later) == key == ladder_key(policy, day)

    def written() -> dict:
        with session_scope(engine) as session:
            return dict(session.execute(sa.select(LadderStepRow.key, sa.func.max(LadderStepRow.written_at))
                                        .group_by(LadderStepRow.key)).all())

    assert written() == {key: now}  # written once (not again 3 h later); the stale key is gone
    with session_scope(engine) as session:
        count = session.execute(sa.select(sa.func.count()).where(LadderStepRow.key == key)).scalar_one()
    assert count == len(day_ladder(policy, day))
    a_day_on = now + LADDER_KEEP / 2 + dt.timedelta(minutes=1)
    with session_scope(engine) as session:
        ensure_ladder(session, policy=policy, as_of=day, now=a_day_on)
    assert written() == {key: a_day_on}  # a key still in use is rewritten before it could expire


def test_instants_written_under_another_time_zone_rule_are_still_claimed(engine, imported):
    """Almaty moved from UTC+6 to UTC+5 in 2024: a deadline stored by a host with the old rule
    is an hour earlier, on the same Almaty date. The claim joins on that date."""
    table = OccurrenceRow.__table__
    with session_scope(engine) as session:  # core UPDATE: due_on stays as the writer set it
        shifted = [{"i": i, "d": due - dt.timedelta(hours=1)}
                   for i, due in session.execute(sa.select(table.c.id, table.c.due_at))]
        session.execute(table.update().where(table.c.id == sa.bindparam("i"))
                        .values(due_at=sa.bindparam("d")), shifted)
    as_of = dt.date(2026, 1, 14)
    planned = {(i.occurrence_id, i.step) for i in _claim(engine, as_of, claim=False).items}
    assert _claim(engine, as_of).claimed == len(planned) > 10
    assert {(o, step) for o, _, step in _notices(engine)} == planned


def _postgres_only(engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner and row locks; SQLite takes one writer at a time")


def _explain(session, statement) -> str:
    compiled = statement.compile(dialect=session.get_bind().dialect)
    rows = session.connection().exec_driver_sql("EXPLAIN " + compiled.string, compiled.params)
    return "\n".join(row[0] for row in rows)


def _wait_for_lock(engine, statement: str, until) -> bool:
    """Whether a session running `statement` is seen waiting on a lock (within 15 s)."""
    with engine.connect() as watcher:
        for _ in range(300):
            waiting = watcher.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE :statement"), {"statement": statement + "%"}).scalar_one()
            watcher.commit()  # pg_stat_activity is read once per transaction
            if waiting:
                return True
            if until():
                return False
            time.sleep(0.05)
    return False


def test_the_claim_probes_the_notice_key_however_stale_the_statistics(engine):
    """The first run after an outage starts from an empty `notice` and fills it batch by
    batch. A batch planned from statistics taken while it was empty must still find each
    claimed step by the whole key, not hash the table or scan the key by step."""
    _postgres_only(engine)
    from bench.plan_scale import build

    build(engine, 40)
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE notice SET (autovacuum_enabled = false)")
        conn.exec_driver_sql("ANALYZE notice")  # empty, as far as the planner will know
    as_of, settings = dt.date(2026, 1, 14), get_settings()
    policy = load_policy_for(settings)
    codes = all_orgs(engine)
    first = plan_batch(engine, orgs=codes[:20], as_of=as_of, settings=settings,
                       directory=load_directory_for(settings), policy=policy, now=morning(as_of))
    assert first.claimed == 20 * 31
    with Session(engine) as session:
        statement = claim_statement(session, orgs=codes[20:], as_of=as_of, policy=policy, now=morning(as_of))
        plan_as_probes(session)
        plan = _explain(session, statement)
        session.commit()
        after = session.execute(sa.text("SHOW enable_hashjoin")).scalar_one()
    assert "Hash" not in plan and "Merge" not in plan, plan
    probe = plan[plan.index("notice_pkey on notice"):].splitlines()[1]
    assert "occurrence_id = " in probe and "due_at = " in probe, plan
    assert after == "on"  # the next transaction plans as configured


def test_a_step_claimed_meanwhile_by_a_concurrent_run_is_skipped_not_an_error(engine, imported):
    """Run A claims one step and has not committed when run B's INSERT reaches the same key:
    B waits for A. When A commits, B's plain INSERT fails on the primary key, and B claims
    the rest with the guarded statement, in the same transaction. Even where the server's
    default isolation is REPEATABLE READ (under which the guarded statement would fail too):
    esgtrack's connections run at READ COMMITTED."""
    _postgres_only(engine)
    database = engine.url.database
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
        admin.exec_driver_sql(f'ALTER DATABASE "{database}" '
                              "SET default_transaction_isolation = 'repeatable read'")
    engine.dispose()
    try:
        _claim_against_a_concurrent_run(engine)
    finally:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
            admin.exec_driver_sql(f'ALTER DATABASE "{database}" RESET default_transaction_isolation')
        engine.dispose()


def _claim_against_a_concurrent_run(engine) -> None:
    from concurrent.futures import ThreadPoolExecutor

    as_of = dt.date(2026, 1, 14)
    dry = _claim(engine, as_of, claim=False)
    steps = sorted({(i.occurrence_id, i.step, i.kind, i.level) for i in dry.items})
    taken = steps[len(steps) // 2]
    with session_scope(engine) as session:
        due_at = session.get(OccurrenceRow, taken[0]).due_at
    with engine.connect() as holder, ThreadPoolExecutor(1) as pool:
        holder.execute(sa.insert(NoticeRow.__table__).values(
            occurrence_id=taken[0], due_at=due_at, step=taken[1], org="KT", kind=taken[2],
            level=taken[3], planned_on=as_of, created_at=morning(as_of)))
        try:
            claiming = pool.submit(_claim, engine, as_of)
            waited = _wait_for_lock(engine, "INSERT INTO notice", until=claiming.done)
        finally:
            holder.commit()
        assert waited, "run B never waited on run A's row"
        assert claiming.result().claimed == len(steps) - 1
    claimed = [(o, s) for o, _, s in _notices(engine)]
    assert sorted(claimed) == sorted((o, s) for o, s, _, _ in steps)
