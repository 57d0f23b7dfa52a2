"""Benchmark: the daily planning pass for N synthetic subsidiaries, each with the shipped
roadmap, against the floor of reading the same open occurrences with one SQL query. Prints JSON.

    .venv/bin/python bench/plan_scale.py --orgs 1000 [--backend sqlite|postgres] [--as-of 2026-01-14]

setup     one organisation imported through the real importer, then cloned set-based (SQL
          INSERT … SELECT) into N organisations: measures, roles, occurrences, editions;
          on PostgreSQL, VACUUM ANALYZE.
planning  what the daily flow's plan-and-claim task does, batch by batch (flows.usecases.planning.
          plan_batch): refresh stale occurrences, plan and claim target alerts, claim the
          day's steps (one INSERT … SELECT of notices per batch, unique key), commit. Timed
          from the first batch to the last commit.
floor     one SQL query reading the same open occurrences (same columns, same window,
          all organisations), every row fetched into Python: the issue's floor.
server    the same rows counted inside the database (count(*)), none fetched: the stricter
floor     floor for this pass, which never fetches them either. Reported beside the ratio.
ratio     planning / floor. Goal: < 3, and peak memory < 400 MB, at 10,000 organisations.
rounds    floor then planning, --rounds times (5); before each round the claims, the stored
          ladder and the in-process caches are dropped and the write-ahead log is checkpointed,
          so every round starts from the same state. The round with the median ratio is
          reported, and every round is listed.
fanout    not part of the pass, reported so that no cost is hidden: delivery expands each
          notice into one outbox row per recipient and channel (notifications.fanout) before
          sending. Timed over the notices of the first --fanout-orgs organisations.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

POSTGRES = os.environ.get("ESGTRACK_BENCH_POSTGRES_URL",
                          os.environ.get("ESGTRACK_TEST_POSTGRES_URL",
                                         "postgresql+psycopg://postgres@127.0.0.1:5432/test"))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def database(backend: str, tmp: Path) -> tuple[str, callable]:
    """A fresh database URL and a function that drops it."""
    import sqlalchemy as sa

    if backend == "sqlite":
        return f"sqlite:///{tmp / 'bench.db'}", lambda: None
    name = f"esgtrack_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        from models.store.db import dispose_all

        dispose_all()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return admin.url.set(database=name).render_as_string(hide_password=False), drop


def build(engine, orgs: int) -> None:
    """N organisations with the shipped roadmap: one real import, then set-based clones."""
    import sqlalchemy as sa

    from config import SHIPPED_ROADMAP
    from flows.usecases import roadmap as roadmaps
    from models.core.normalised import load_roadmap
    from models.store.db import session_scope

    with session_scope(engine) as session:
        roadmaps.import_roadmap(session, org="S00000", loaded=load_roadmap(SHIPPED_ROADMAP),
                                now=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    codes = [f"S{i:05d}" for i in range(1, orgs)]
    measure_cols = ("code, aspect, number, position, topic, topic_ru, topic_en, title, title_ru, title_en, "
                    "deadline_text, kind, start_year, end_year, rrule, due_month, due_day, due_year_offset, "
                    "completion_form, completion_kind, executors, units, executor_roles, unit_roles, "
                    "external_dependency, external_party, target, active")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO organisation (code, name, created_at) VALUES (:c, :c, :t)"),
                     [{"c": c, "t": dt.datetime(2025, 1, 1)} for c in codes])
        conn.execute(sa.text(
            "INSERT INTO roadmap_edition (org, title, source_name, sha256, horizon_start, horizon_end, "
            "measure_count, changes, imported_at) SELECT o.code, e.title, e.source_name, e.sha256, "
            "e.horizon_start, e.horizon_end, e.measure_count, e.changes, e.imported_at "
            "FROM organisation o, roadmap_edition e WHERE e.org = 'S00000' AND o.code <> 'S00000'"))
        conn.execute(sa.text(
            "INSERT INTO role (org, id, kind, name_kk, name_ru, name_en) SELECT o.code, r.id, r.kind, "
            "r.name_kk, r.name_ru, r.name_en FROM organisation o, role r "
            "WHERE r.org = 'S00000' AND o.code <> 'S00000'"))
        conn.execute(sa.text(
            f"INSERT INTO measure (org, {measure_cols}, edition_id) SELECT o.code, "
            f"{', '.join('m.' + c.strip() for c in measure_cols.split(','))}, "
            "e.id FROM organisation o JOIN roadmap_edition e ON e.org = o.code, measure m "
            "WHERE m.org = 'S00000' AND o.code <> 'S00000'"))
        conn.execute(sa.text(
            "INSERT INTO occurrence (org, measure_id, period, kind, seq, status, due_at, due_on, "
            "planned_due_at, rescheduled, updated_at) SELECT m2.org, m2.id, oc.period, oc.kind, oc.seq, "
            "oc.status, oc.due_at, oc.due_on, oc.planned_due_at, oc.rescheduled, oc.updated_at FROM occurrence oc "
            "JOIN measure m1 ON m1.id = oc.measure_id JOIN measure m2 ON m2.code = m1.code "
            "AND m2.org <> 'S00000' WHERE m1.org = 'S00000'"))
        conn.execute(sa.text(
            "UPDATE organisation SET occurrences_edition_id = (SELECT max(id) FROM roadmap_edition "
            "WHERE roadmap_edition.org = organisation.code)"))
    if engine.dialect.name == "postgresql":
        # as after a night's maintenance: statistics, hint bits and the visibility map set,
        # and no autovacuum of the fresh rows running under the first round
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")


def floor_query(engine, policy, as_of: dt.date) -> tuple[float, int]:
    """One query reading the open occurrences in the ladder's window: the lower bound."""
    import sqlalchemy as sa

    from models.store.claims import ladder_window
    from models.store.tables import OccurrenceRow

    start, end = ladder_window(policy, as_of)
    query = sa.select(OccurrenceRow.id, OccurrenceRow.org, OccurrenceRow.measure_id,
                      OccurrenceRow.period, OccurrenceRow.kind, OccurrenceRow.due_at).where(
        OccurrenceRow.status == "open", OccurrenceRow.due_at >= start, OccurrenceRow.due_at <= end)
    started = time.perf_counter()
    with engine.connect() as conn:
        rows = 0
        for _ in conn.execution_options(stream_results=True, yield_per=20_000).execute(query):
            rows += 1
    return time.perf_counter() - started, rows


def server_floor(engine, policy, as_of: dt.date) -> float:
    """The same rows counted inside the database, none sent to Python: the stricter floor for
    a pass that, like this one, never fetches them."""
    import sqlalchemy as sa

    from models.store.claims import ladder_window
    from models.store.tables import OccurrenceRow

    start, end = ladder_window(policy, as_of)
    query = sa.select(sa.func.count()).select_from(OccurrenceRow).where(
        OccurrenceRow.status == "open", OccurrenceRow.due_at >= start, OccurrenceRow.due_at <= end)
    started = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(query).scalar_one()
    return time.perf_counter() - started


def planning_pass(engine, as_of: dt.date, batch: int) -> dict:
    from config.settings import get_settings
    from flows.usecases.planning import all_orgs, batches, load_directory_for, load_policy_for, plan_batch
    from models.core.schedule import morning

    settings = get_settings()
    directory, policy = load_directory_for(settings), load_policy_for(settings)
    started = time.perf_counter()
    totals = {"claimed": 0, "batches": 0}
    for codes in batches(all_orgs(engine), batch):
        result = plan_batch(engine, orgs=codes, as_of=as_of, settings=settings,
                            directory=directory, policy=policy, now=morning(as_of))
        totals["claimed"] += result.claimed
        totals["batches"] += 1
    totals["seconds"] = time.perf_counter() - started
    return totals


def forget_claims(engine) -> None:
    """Back to the state before the first round: no notices, no stored ladder, no caches."""
    from models.core import escalation
    from models.store import claims

    # TRUNCATE on PostgreSQL: DELETE would leave the next round an index full of dead entries
    verb = "TRUNCATE" if engine.dialect.name == "postgresql" else "DELETE FROM"
    with engine.begin() as conn:
        conn.exec_driver_sql(f"{verb} notice")
        conn.exec_driver_sql(f"{verb} ladder_step")
    for cached in (claims.day_ladder, claims.ladder_key, escalation._ladder):
        cached.cache_clear()


def settle(engine) -> None:
    """Write out what the setup or the previous round left in the write-ahead log, so that
    no round pays for an earlier one's checkpoint."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("CHECKPOINT")
        return
    raw = engine.raw_connection()  # outside any transaction (the engine's hook begins one)
    try:
        raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()


def fanout(engine, orgs: int, as_of: dt.date) -> dict:
    """Expand the notices of the first `orgs` organisations into outbox rows (delivery's
    first step), timed."""
    from config.settings import get_settings
    from flows.usecases.planning import all_orgs, load_directory_for, load_policy_for
    from models.core.schedule import morning
    from notifications.fanout import expand_notices

    settings = get_settings()
    chosen = all_orgs(engine)[:orgs]
    started = time.perf_counter()
    result = expand_notices(engine, directory=load_directory_for(settings), settings=settings,
                            policy=load_policy_for(settings), orgs=chosen,
                            now=morning(as_of))
    seconds = time.perf_counter() - started
    return {"orgs": len(chosen), "notices": result.notices, "messages": result.messages,
            "seconds": round(seconds, 3),
            "messages_per_s": round(result.messages / seconds) if seconds else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=1000, help="synthetic subsidiaries")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--as-of", default="2026-01-14", help="a date with many items due")
    parser.add_argument("--batch", type=int, default=200,
                        help="organisations per batch (the daily flow's default is 200)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="floor then planning, this many times from the same state; the median round is reported")
    parser.add_argument("--fanout-orgs", type=int, default=50,
                        help="organisations whose notices are then expanded into outbox rows (timed apart)")
    args = parser.parse_args()
    as_of = dt.date.fromisoformat(args.as_of)
    with tempfile.TemporaryDirectory(prefix="esgtrack-scale-") as tmp:
        url, drop = database(args.backend, Path(tmp))
        os.environ.update({"ESGTRACK_HOME": tmp, "ESGTRACK_DATABASE_URL": url})
        os.environ.pop("ESGTRACK_DIRECTORY", None)
        os.environ.pop("ESGTRACK_SMTP_URL", None)
        try:
            from config.settings import get_settings
            from flows.cli.app import db
            from flows.usecases.planning import load_policy_for

            engine = db()
            started = time.perf_counter()
            build(engine, args.orgs)
            setup_s = time.perf_counter() - started
            rss_before = peak_rss_mb()
            rounds = []
            for n in range(args.rounds):
                if n:
                    forget_claims(engine)
                settle(engine)
                floor_s, rows = floor_query(engine, load_policy_for(get_settings()), as_of)
                counted_s = server_floor(engine, load_policy_for(get_settings()), as_of)
                plan = planning_pass(engine, as_of, args.batch)
                rounds.append({"planning_s": round(plan["seconds"], 3), "floor_s": round(floor_s, 3),
                               "ratio": round(plan["seconds"] / floor_s, 2), "claimed": plan["claimed"],
                               "server_floor_s": round(counted_s, 3),
                               "ratio_to_server_floor": round(plan["seconds"] / counted_s, 1)})
            rss_planning = peak_rss_mb()
            fan = fanout(engine, args.fanout_orgs, as_of)
        finally:
            drop()
    middle = sorted(rounds, key=lambda r: r["ratio"])[len(rounds) // 2]
    print(json.dumps({
        "benchmark": "plan_scale", "backend": args.backend, "orgs": args.orgs,
        "as_of": as_of.isoformat(), "batch": args.batch,
        "open_occurrences_in_window": rows,
        "planning_s": middle["planning_s"], "floor_s": middle["floor_s"],
        "ratio": middle["ratio"], "goal": "ratio < 3, peak_rss_mb < 400",
        "server_floor_s": middle["server_floor_s"], "ratio_to_server_floor": middle["ratio_to_server_floor"],
        "rounds": rounds,
        "occurrences_per_s": round(rows / middle["planning_s"]),
        "claimed_notices": middle["claimed"],
        "peak_rss_mb": round(rss_planning, 1), "rss_after_setup_mb": round(rss_before, 1),
        "fanout": {**fan, "peak_rss_mb": round(peak_rss_mb(), 1)},
        "setup_s": round(setup_s, 1),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }, indent=2))


if __name__ == "__main__":
    main()
