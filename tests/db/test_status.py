"""Status figures against an independent count straight from the database."""

import datetime as dt
import json
from collections import Counter

import sqlalchemy as sa

from flows.reports.status import status_report
from models.core.progress import TOTAL
from models.core.schedule import end_of_day
from models.store.db import session_scope
from models.store.tables import OccurrenceRow, UTCDateTime

AS_OF = dt.date(2026, 6, 30)


def _ids(engine, sql, **params):
    with engine.connect() as conn:
        return [row[0] for row in conn.execute(sa.text(sql), params)]


def mark(engine, ids, **values):
    """Set occurrence columns directly: the figures must follow whatever the rows say."""
    table = OccurrenceRow.__table__
    with engine.begin() as conn:
        conn.execute(sa.update(table).where(table.c.id.in_(ids)).values(**values))


def scenario(engine):
    """Some 2025 occurrences done on time, some late, some waived, one withdrawn, one moved to
    the as-of day itself (due, open, not yet overdue), one done early (not yet due)."""
    y2025 = _ids(engine, "SELECT id FROM occurrence WHERE period = 2025 ORDER BY id")
    y2026 = _ids(engine, "SELECT id FROM occurrence WHERE period = 2026 ORDER BY id")
    mark(engine, y2025[0:9], status="done", late=False)
    mark(engine, y2025[9:14], status="done", late=True)
    mark(engine, y2025[14:17], status="waived")
    mark(engine, y2025[17:18], status="withdrawn")
    mark(engine, y2026[0:1], due_at=end_of_day(AS_OF))
    mark(engine, y2026[1:2], status="done", late=False)
    # Recorded after the as-of day: on that day it was still open (and overdue).
    mark(engine, y2025[18:19], status="done", late=True, completed_at=end_of_day(AS_OF + dt.timedelta(days=3)))


def independent_counts(engine, as_of):
    """Per aspect, by plain SQL (no esgtrack query code)."""
    end, before = end_of_day(as_of), end_of_day(as_of - dt.timedelta(days=1))
    sql = """SELECT m.aspect, CASE WHEN o.status = 'done' AND o.completed_at > :end THEN 'open'
                                   ELSE o.status END,
                    o.late, o.due_at <= :before AS overdue, m.executor_roles
             FROM occurrence o JOIN measure m ON m.id = o.measure_id
             WHERE o.org = 'KT' AND o.status <> 'withdrawn' AND o.due_at <= :end"""
    counts: dict[str, Counter] = {}
    with engine.connect() as conn:
        query = sa.text(sql).bindparams(sa.bindparam("end", type_=UTCDateTime()),
                                        sa.bindparam("before", type_=UTCDateTime()))
        for aspect, status, late, overdue, executors in conn.execute(query, {"end": end, "before": before}):
            roles = json.loads(executors) if isinstance(executors, str) else executors
            for key in [aspect, TOTAL, *[f"role:{r}" for r in roles]]:
                c = counts.setdefault(key, Counter())
                c["due"] += 1
                if status == "done":
                    c["done_late" if late else "done_on_time"] += 1
                elif status == "waived":
                    c["waived"] += 1
                else:
                    c["open"] += 1
                    c["overdue"] += bool(overdue)
    return counts


FIELDS = ("due", "done_on_time", "done_late", "open", "overdue", "waived")


def _as_counter(counts):
    return Counter({f: getattr(counts, f) for f in FIELDS if getattr(counts, f)})


def test_status_by_aspect_matches_an_independent_count(engine, imported):
    scenario(engine)
    expected = independent_counts(engine, AS_OF)
    with session_scope(engine) as s:
        report = status_report(s, orgs=["KT"], as_of=AS_OF, by="aspect")
    rows = {r.group: r.counts for r in report.rows}
    assert list(rows) == ["E", "S", "G", TOTAL]
    for key, counts in rows.items():
        assert _as_counter(counts) == +expected[key], key
    total = rows[TOTAL]
    assert total.done_on_time == 9 and total.done_late == 5 and total.waived == 3
    assert total.open - total.overdue == 1  # the one due on the as-of day itself
    with session_scope(engine) as s:
        later = status_report(s, orgs=["KT"], as_of=AS_OF + dt.timedelta(days=3), by="aspect")
    assert next(r.counts for r in later.rows if r.group == TOTAL).done_late == 6
    assert total.percent == round(100 * 17 / total.due, 1)


def test_status_by_executor_counts_each_executor(engine, imported):
    scenario(engine)
    expected = independent_counts(engine, AS_OF)
    with session_scope(engine) as s:
        report = status_report(s, orgs=["KT"], as_of=AS_OF, by="executor", lang="ru")
    for row in report.rows:
        if row.group == TOTAL:
            assert _as_counter(row.counts) == +expected[TOTAL]
        elif not row.group.startswith(("external:", "none")):
            assert _as_counter(row.counts) == +expected.get(f"role:{row.group}", Counter()), row.group
    external = [r for r in report.rows if r.group.startswith("external:")]
    assert external and external[0].label == "Внешняя сторона: Самрук-Казына"  # G1, G3, G5: no internal executor


def test_topic_and_unit_groupings_add_up_to_the_total(engine, imported):
    scenario(engine)
    with session_scope(engine) as s:
        by_topic = status_report(s, orgs=["KT"], as_of=AS_OF, by="topic")
        by_unit = status_report(s, orgs=["KT"], as_of=AS_OF, by="unit")
    topics = [r.counts for r in by_topic.rows if r.group != TOTAL]
    total = next(r.counts for r in by_topic.rows if r.group == TOTAL)
    assert sum(c.due for c in topics) == total.due  # a measure has one topic
    assert next(r.counts for r in by_unit.rows if r.group == TOTAL) == total


def test_status_cli_json_and_csv(db_url, engine, imported, cli):
    scenario(engine)
    code, out, err = cli("status", "--as-of", AS_OF.isoformat(), "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    total = next(g for g in data["groups"] if g["group"] == TOTAL)
    assert total["due"] == independent_counts(engine, AS_OF)[TOTAL]["due"]
    assert {t["measure"] for t in data["targets"]} == {"G1", "G5", "G6"}
    code, out, _ = cli("status", "--as-of", AS_OF.isoformat(), "--by", "executor", "--format", "csv")
    assert code == 0 and out.splitlines()[0].startswith("org,group,label,due,done_on_time")
    code, _, err = cli("status", "--by", "colour")
    assert code == 2
    code, _, err = cli("status", "--as-of", "30.06.2026")
    assert code == 2 and "--as-of" in err
