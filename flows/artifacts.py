"""What the daily flow shows the ESG office in the Prefect UI: upcoming deadlines, overdue
items by escalation level, and progress per aspect."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from flows.reports.labels import party_name
from flows.reports.status import status_markdown, status_report
from models.core.policy import Policy
from models.core.schedule import OccurrenceStatus, end_of_day, local_date
from models.store import occurrences
from models.store.db import session_scope

MAX_ROWS = 200  # a holding has thousands of items; the artifact shows the first ones


def upcoming_rows(session: Session, *, orgs: list[str], as_of: dt.date, days: int = 60) -> list[dict[str, Any]]:
    pairs = occurrences.open_in_due_order(session, orgs=orgs, due_after=end_of_day(as_of - dt.timedelta(days=1)),
                                          due_until=end_of_day(as_of + dt.timedelta(days=days)), limit=MAX_ROWS)
    return [{"org": o.org, "measure": m.code, "period": o.period, "kind": o.kind,
             "due": local_date(o.due_at).isoformat(), "days_left": (local_date(o.due_at) - as_of).days,
             "title": m.title_en or m.title}
            for o, m in pairs]


def level_of(days_overdue: int, policy: Policy) -> int:
    """The escalation level an item has reached after this many days past due."""
    return sum(1 for level in policy.levels if days_overdue >= level.after_days)


def overdue_by_level(session: Session, *, orgs: list[str], as_of: dt.date, policy: Policy
                     ) -> dict[int, list[dict[str, Any]]]:
    groups: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for o, m in occurrences.open_in_due_order(session, orgs=orgs, due_until=end_of_day(as_of - dt.timedelta(days=1))):
        days = (as_of - local_date(o.due_at)).days
        external = f"external: {party_name(m.external_party or '', 'en')}" if m.external_dependency else ""
        owner = ", ".join(m.executor_roles or m.unit_roles) or external
        groups[level_of(days, policy)].append({"org": o.org, "measure": m.code, "period": o.period,
                                               "days_overdue": days, "owner": owner})
    return dict(sorted(groups.items(), reverse=True))


def progress_by_aspect(session: Session, *, orgs: list[str], as_of: dt.date) -> dict[str, Counter[str]]:
    """Occurrences due by as_of, per aspect: how many done, waived, open."""
    result: dict[str, Counter[str]] = {a: Counter() for a in "ESG"}
    for aspect, status, count in occurrences.counts_by_aspect(session, orgs=orgs, due_until=end_of_day(as_of)):
        result.setdefault(aspect, Counter())[status] += count
    return result


def overdue_markdown(groups: dict[int, list[dict[str, Any]]], as_of: dt.date, policy: Policy) -> str:
    lines = [f"# Overdue as of {as_of}", ""]
    if not groups:
        return "\n".join([*lines, "Nothing is overdue."])
    for level, rows in groups.items():
        after = policy.levels[level - 1].after_days if level else 0
        head = f"Level {level} (≥ {after} days overdue)" if level else "Due, not yet escalated"
        lines += [f"## {head}: {len(rows)}", "", "| org | measure | period | days overdue | owner |",
                  "|---|---|---|---|---|"]
        lines += [f"| {r['org']} | {r['measure']} | {r['period']} | {r['days_overdue']} | {r['owner']} |"
                  for r in rows[:MAX_ROWS]]
        lines.append("")
    return "\n".join(lines)


def progress_markdown(progress: dict[str, Counter[str]], as_of: dt.date) -> tuple[str, float]:
    lines = [f"# Progress per aspect, occurrences due by {as_of}", "",
             "| aspect | due | done | waived | open | % complete |", "|---|---|---|---|---|---|"]
    total = closed = 0
    for aspect, c in progress.items():
        due = sum(c.values())
        done, waived, still_open = c[OccurrenceStatus.DONE], c[OccurrenceStatus.WAIVED], c[OccurrenceStatus.OPEN]
        finished = done + waived
        total, closed = total + due, closed + finished
        pct = 100.0 * finished / due if due else 100.0
        lines.append(f"| {aspect} | {due} | {done} | {waived} | {still_open} | {pct:.0f} % |")
    return "\n".join(lines), (100.0 * closed / total if total else 100.0)


def publish_all(engine: Engine, *, orgs: list[str], as_of: dt.date, policy: Policy) -> None:
    from prefect.artifacts import (
        create_markdown_artifact,
        create_progress_artifact,
        create_table_artifact,
    )

    with session_scope(engine) as session:
        upcoming = upcoming_rows(session, orgs=orgs, as_of=as_of)
        groups = overdue_by_level(session, orgs=orgs, as_of=as_of, policy=policy)
        progress = progress_by_aspect(session, orgs=orgs, as_of=as_of)

        status = status_markdown(status_report(session, orgs=orgs, as_of=as_of, lang="en"))
    create_table_artifact(key="upcoming-deadlines", table=upcoming or [{"note": "nothing due in 60 days"}],
                          description=f"Open occurrences due in the 60 days after {as_of}")
    create_markdown_artifact(key="overdue-by-level", markdown=overdue_markdown(groups, as_of, policy),
                             description="Overdue items by escalation level")
    text, percent = progress_markdown(progress, as_of)
    create_markdown_artifact(key="progress-by-aspect", markdown=text, description="Progress per aspect")
    create_markdown_artifact(key="status", markdown=status,
                             description="Status per aspect and targets with their latest reading")
    create_progress_artifact(progress=percent, key="roadmap-progress",
                             description="Share of occurrences due so far that are closed")
