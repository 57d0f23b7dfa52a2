"""Occurrences: their expansion from the measures, the filters the CLI and the reports read
them by, and the ladder's reads. Functions add and flush; the caller's session_scope commits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlmodel import Session, col, select

from models.core.errors import InputError, NotFound
from models.core.escalation import OpenItem, open_item
from models.core.roadmap import RecurrenceKind
from models.core.schedule import OccurrenceKind, OccurrenceStatus, end_of_day, expand
from models.store.db import among
from models.store.measures import get_measure, latest_edition, measure_from_row, measures, measures_by_id
from models.store.tables import MeasureRow, OccurrenceRow, Organisation, RoadmapEdition, stored_id

_KIND_ORDER: dict[str, int] = {OccurrenceKind.DUE: 0, OccurrenceKind.PROGRESS: 1, OccurrenceKind.OPENED: 2}

def stale_orgs(session: Session, *, orgs: list[str]) -> list[str]:
    """Organisations whose occurrences were not expanded from their newest roadmap edition."""
    newest = (sa.select(col(RoadmapEdition.org), sa.func.max(RoadmapEdition.id).label("edition"))
              .where(among(session, col(RoadmapEdition.org), orgs)).group_by(col(RoadmapEdition.org)).subquery())
    query = (sa.select(col(Organisation.code)).join(newest, newest.c.org == Organisation.code)
             .where(among(session, col(Organisation.code), orgs),  # by primary key, not a scan of every organisation
                    sa.or_(col(Organisation.occurrences_edition_id).is_(None),
                           col(Organisation.occurrences_edition_id) != newest.c.edition)))
    return list(session.execute(query).scalars())


def refresh_stale(session: Session, *, orgs: list[str], now: dt.datetime) -> dict[str, int]:
    """Refresh the occurrences of the organisations that need it (see stale_orgs)."""
    totals = {"added": 0, "moved": 0, "withdrawn": 0, "unchanged": 0, "organisations": 0}
    for org in stale_orgs(session, orgs=orgs):
        for key, value in refresh_for_edition(session, org=org, edition_id=latest_edition(session, org=org),
                                              now=now).items():
            totals[key] += value
        totals["organisations"] += 1
    session.flush()
    return totals


def refresh_for_edition(session: Session, *, org: str, edition_id: int | None, now: dt.datetime
                        ) -> dict[str, int]:
    """Refresh an organisation's occurrences and note the edition they now follow."""
    counts = refresh_occurrences(session, org=org, now=now)
    organisation = session.get(Organisation, org)
    if organisation is not None:
        organisation.occurrences_edition_id = edition_id
    return counts


def planned_deadlines(session: Session, *, org: str) -> dict[tuple[int, int, str, int], dt.datetime]:
    """The deadlines the organisation's active measures plan: (measure id, period, kind, seq)
    → due time (seq 0: only as-needed occurrences, opened by hand, have others)."""
    return {(stored_id(row), spec.period, spec.kind.value, 0): spec.due_at
            for row in measures(session, org=org) for spec in expand(measure_from_row(row))}


def refresh_occurrences(session: Session, *, org: str, now: dt.datetime) -> dict[str, int]:
    """Bring an organisation's occurrences in line with its measures: add missing ones,
    move open ones whose planned date changed (unless rescheduled), withdraw open ones no
    longer planned. Done and waived occurrences are never touched."""
    expected = planned_deadlines(session, org=org)
    stored = session.exec(select(OccurrenceRow).where(OccurrenceRow.org == org)).all()
    counts = {"added": 0, "moved": 0, "withdrawn": 0, "unchanged": 0}
    seen = set()
    for occ in stored:
        key = (occ.measure_id, occ.period, occ.kind, occ.seq)
        seen.add(key)
        planned = expected.get(key)
        if occ.status in (OccurrenceStatus.DONE, OccurrenceStatus.WAIVED) or occ.kind == OccurrenceKind.OPENED.value:
            counts["unchanged"] += 1
        elif planned is None:
            if occ.status != OccurrenceStatus.WITHDRAWN:
                occ.status, occ.updated_at = OccurrenceStatus.WITHDRAWN, now
                counts["withdrawn"] += 1
        elif occ.status == OccurrenceStatus.WITHDRAWN or occ.planned_due_at != planned:
            occ.status = OccurrenceStatus.OPEN
            occ.planned_due_at = planned
            if not occ.rescheduled:
                occ.due_at = planned
            occ.updated_at = now
            counts["moved"] += 1
        else:
            counts["unchanged"] += 1
    new = [
        OccurrenceRow(org=org, measure_id=key[0], period=key[1], kind=key[2], seq=key[3],
                      due_at=due, planned_due_at=due, updated_at=now)
        for key, due in expected.items() if key not in seen
    ]
    session.add_all(new)
    counts["added"] = len(new)
    session.flush()
    return counts


def open_occurrence(session: Session, *, org: str, code: str, due: dt.date, now: dt.datetime
                    ) -> OccurrenceRow:
    """Open an occurrence of an as-needed measure (e.g. a Board training when it is needed)."""
    measure = get_measure(session, org=org, code=code)
    if measure.kind != RecurrenceKind.AS_NEEDED.value:
        raise InputError(f"{measure.code} is {measure.kind}, not as_needed: its occurrences "
                         "come from the roadmap", field="MEASURE", value=code)
    seq = session.exec(
        select(sa.func.count()).select_from(OccurrenceRow).where(
            OccurrenceRow.measure_id == measure.id, OccurrenceRow.period == due.year,
            OccurrenceRow.kind == OccurrenceKind.OPENED.value)
    ).one()
    when = end_of_day(due)
    row = OccurrenceRow(org=org, measure_id=stored_id(measure), period=due.year,
                        kind=OccurrenceKind.OPENED.value, seq=seq, due_at=when,
                        planned_due_at=when, updated_at=now)
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class OccurrenceFilter:
    period: int | None = None
    status: str | None = None
    aspect: str | None = None
    executor: str | None = None   # a role id or part of an executor/unit name
    measure: str | None = None
    due_from: dt.datetime | None = None
    due_to: dt.datetime | None = None


def find(session: Session, *, org: str | None, where: OccurrenceFilter = OccurrenceFilter()
         ) -> list[tuple[OccurrenceRow, MeasureRow]]:
    query = select(OccurrenceRow, MeasureRow).join(MeasureRow, col(OccurrenceRow.measure_id) == MeasureRow.id)
    if org:
        query = query.where(OccurrenceRow.org == org)
    if where.period is not None:
        query = query.where(OccurrenceRow.period == where.period)
    if where.status:
        query = query.where(OccurrenceRow.status == where.status)
    else:
        query = query.where(OccurrenceRow.status != OccurrenceStatus.WITHDRAWN)
    if where.aspect:
        query = query.where(MeasureRow.aspect == where.aspect.upper())
    if where.measure:
        query = query.where(MeasureRow.code == where.measure.upper())
    if where.due_from is not None:
        query = query.where(OccurrenceRow.due_at > where.due_from)
    if where.due_to is not None:
        query = query.where(OccurrenceRow.due_at <= where.due_to)
    query = query.order_by(col(OccurrenceRow.org), col(OccurrenceRow.due_at), col(MeasureRow.position),
                           col(OccurrenceRow.id))
    pairs = list(session.exec(query))
    if where.executor:
        needle = where.executor.casefold()
        pairs = [(o, m) for o, m in pairs if _names(m, needle)]
    return pairs


def _names(m: MeasureRow, needle: str) -> bool:
    names = [*m.executor_roles, *m.unit_roles, *m.executors, *m.units]
    return any(needle == n.casefold() or needle in n.casefold() for n in names)


@dataclass(frozen=True)
class OccurrenceRef:
    """Which occurrence a command means: a measure and a period (and a kind when a year has
    more than one), or an occurrence id."""

    org: str
    measure: str
    period: int | None = None
    kind: str | None = None
    occurrence_id: int | None = None


def select_occurrence(session: Session, *, ref: OccurrenceRef, statuses: tuple[str, ...]
                      ) -> tuple[OccurrenceRow, MeasureRow]:
    """The occurrence meant, locked for update; among several in the period the first whose
    status the action applies to (due before progress before opened, lowest seq first)."""
    m = get_measure(session, org=ref.org, code=ref.measure)
    query = select(OccurrenceRow).where(OccurrenceRow.measure_id == m.id,
                                        OccurrenceRow.status != OccurrenceStatus.WITHDRAWN)
    if ref.occurrence_id is not None:
        query = query.where(OccurrenceRow.id == ref.occurrence_id)
    elif ref.period is None:
        raise InputError("give --period YEAR (or --occurrence ID)", field="--period")
    else:
        query = query.where(OccurrenceRow.period == ref.period)
    if ref.kind:
        query = query.where(OccurrenceRow.kind == ref.kind)
    rows = sorted(session.exec(query.with_for_update()),
                  key=lambda o: (o.status not in statuses, _KIND_ORDER.get(o.kind, 9), o.seq))
    if not rows:
        raise NotFound(_none_message(session, m, ref), field="--occurrence" if ref.occurrence_id
                       is not None else "--period", value=ref.occurrence_id or ref.period)
    return rows[0], m


def _none_message(session: Session, m: MeasureRow, ref: OccurrenceRef) -> str:
    periods = sorted(set(session.exec(select(OccurrenceRow.period).where(
        OccurrenceRow.measure_id == m.id, OccurrenceRow.status != OccurrenceStatus.WITHDRAWN))))
    what = f"occurrence {ref.occurrence_id}" if ref.occurrence_id is not None else (
        f"{ref.kind or ''} occurrence in {ref.period}".lstrip())
    known = ", ".join(map(str, periods)) or "none (as-needed: `esgtrack open` one first)"
    return f"{m.code} has no {what}; its periods: {known}"


# --- the ladder's and the reports' reads ---------------------------------------------------


def open_items(session: Session, *, orgs: list[str], start: dt.datetime, end: dt.datetime) -> list[OpenItem]:
    """Open occurrences of active measures due in [start, end], as the planner's plain values.
    Occurrences are read as plain tuples and each measure once: a holding has millions."""
    query = (
        sa.select(col(OccurrenceRow.id), col(OccurrenceRow.org), col(OccurrenceRow.measure_id),
                  col(OccurrenceRow.period), col(OccurrenceRow.kind), col(OccurrenceRow.due_at))
        .join(MeasureRow, col(MeasureRow.id) == OccurrenceRow.measure_id)
        .where(among(session, col(OccurrenceRow.org), orgs), col(OccurrenceRow.status) == OccurrenceStatus.OPEN,
               col(MeasureRow.active), col(OccurrenceRow.due_at) >= start, col(OccurrenceRow.due_at) <= end)
        .order_by(col(OccurrenceRow.org), col(OccurrenceRow.due_at), col(OccurrenceRow.id))
    )
    rows = session.execute(query).all()
    by_id = measures_by_id(session, ids={row.measure_id for row in rows})
    return [open_item(row, by_id[row.measure_id]) for row in rows]


def facts(session: Session, *, ids: Iterable[int]) -> dict[int, Row[Any]]:
    """id, org, measure_id, period, kind, due_at and status of these occurrences, by id."""
    query = (sa.select(col(OccurrenceRow.id), col(OccurrenceRow.org), col(OccurrenceRow.measure_id),
                       col(OccurrenceRow.period), col(OccurrenceRow.kind), col(OccurrenceRow.due_at),
                       col(OccurrenceRow.status))
             .where(col(OccurrenceRow.id).in_(set(ids))))
    return {o.id: o for o in session.execute(query)}


def open_in_due_order(session: Session, *, orgs: list[str], due_after: dt.datetime | None = None,
                      due_until: dt.datetime | None = None, limit: int | None = None
                      ) -> list[tuple[OccurrenceRow, MeasureRow]]:
    """Open occurrences (due after / until the times given) with their measures, soonest due
    first, then by organisation and roadmap order."""
    query = (select(OccurrenceRow, MeasureRow).join(MeasureRow, col(OccurrenceRow.measure_id) == MeasureRow.id)
             .where(col(OccurrenceRow.org).in_(orgs), OccurrenceRow.status == OccurrenceStatus.OPEN))
    if due_after is not None:
        query = query.where(OccurrenceRow.due_at > due_after)
    if due_until is not None:
        query = query.where(OccurrenceRow.due_at <= due_until)
    query = query.order_by(col(OccurrenceRow.due_at), col(OccurrenceRow.org), col(MeasureRow.position),
                           col(OccurrenceRow.id))
    return list(session.exec(query.limit(limit)))


def done_in_period(session: Session, *, orgs: list[str], period: int, by: dt.datetime
                   ) -> list[tuple[OccurrenceRow, MeasureRow]]:
    """The period's occurrences done by `by` (or with no completion time), in roadmap order."""
    query = (select(OccurrenceRow, MeasureRow).join(MeasureRow, col(OccurrenceRow.measure_id) == MeasureRow.id)
             .where(col(OccurrenceRow.org).in_(orgs), OccurrenceRow.status == OccurrenceStatus.DONE,
                    OccurrenceRow.period == period,
                    sa.or_(col(OccurrenceRow.completed_at).is_(None), col(OccurrenceRow.completed_at) <= by))
             .order_by(col(OccurrenceRow.org), col(MeasureRow.position), col(OccurrenceRow.due_at)))
    return list(session.exec(query))


def counts_by_aspect(session: Session, *, orgs: list[str], due_until: dt.datetime) -> list[tuple[str, str, int]]:
    """(aspect, status, count) of the occurrences due by `due_until`, not withdrawn."""
    query = (
        sa.select(col(MeasureRow.aspect), col(OccurrenceRow.status), sa.func.count())
        .join(MeasureRow, col(OccurrenceRow.measure_id) == MeasureRow.id)
        .where(col(OccurrenceRow.org).in_(orgs), col(OccurrenceRow.status) != OccurrenceStatus.WITHDRAWN,
               col(OccurrenceRow.due_at) <= due_until)
        .group_by(col(MeasureRow.aspect), col(OccurrenceRow.status))
    )
    return [(aspect, status, int(count)) for aspect, status, count in session.execute(query)]


def counts_by_measure(session: Session, *, orgs: list[str], end: dt.datetime, before: dt.datetime,
                      period: int | None = None) -> list[tuple[str, str, str, bool, int, int, int, int]]:
    """Occurrences due by `end` (not withdrawn), counted per organisation, measure, status and
    lateness: (org, code, status, late, count, due by `before`, done after `end`, both)."""
    due_before = col(OccurrenceRow.due_at) <= before
    later = sa.and_(col(OccurrenceRow.status) == OccurrenceStatus.DONE, col(OccurrenceRow.completed_at) > end)
    query = (
        sa.select(col(OccurrenceRow.org), col(MeasureRow.code), col(OccurrenceRow.status), col(OccurrenceRow.late),
                  sa.func.count(), _sum(due_before), _sum(later), _sum(sa.and_(later, due_before)))
        .join(MeasureRow, col(OccurrenceRow.measure_id) == MeasureRow.id)
        .where(col(OccurrenceRow.org).in_(orgs), col(OccurrenceRow.status) != OccurrenceStatus.WITHDRAWN,
               col(OccurrenceRow.due_at) <= end)
        .group_by(col(OccurrenceRow.org), col(MeasureRow.code), col(OccurrenceRow.status), col(OccurrenceRow.late))
    )
    if period is not None:
        query = query.where(col(OccurrenceRow.period) == period)
    return [(org, code, status, bool(late), int(count), int(overdue or 0), int(later_count or 0),
             int(later_overdue or 0))
            for org, code, status, late, count, overdue, later_count, later_overdue in session.execute(query)]


def _sum(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
    return sa.func.sum(sa.case((condition, 1), else_=0))
