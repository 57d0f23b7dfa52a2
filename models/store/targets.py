"""Queries and writes for targets and their readings. Functions add and flush; the caller's
session_scope commits (a reading and its ledger event land together)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.core.errors import InputError, NotFound
from models.core.targets import Direction, Reading, TargetSpec, parse_direction
from models.store.db import among
from models.store.measures import get_measure, measures
from models.store.tables import MeasureRow, TargetReadingRow, TargetRow, stored_id

DOCUMENT = "document"
SET = "set"
DECISION = "decision"  # a document's target changed by a Board decision: re-imports keep it
STATED = ("unit", "direction", "target_year", "target_value")  # what the document states
YEARS = range(1990, 2101)


@dataclass(frozen=True)
class TargetInput:
    """What `esgtrack target set` gives; None leaves a stored value as it is."""

    metric: str | None = None
    unit: str | None = None
    direction: str | None = None
    baseline_year: int | None = None
    baseline_value: float | None = None
    target_year: int | None = None
    target_value: float | None = None
    milestones: tuple[tuple[int, float], ...] | None = None


@dataclass
class TargetState:
    """A target with its measure and readings (oldest first), as the reports need them."""

    target: TargetRow
    measure: MeasureRow
    readings: list[TargetReadingRow] = field(default_factory=list)

    @property
    def spec(self) -> TargetSpec:
        return spec_of(self.target)

    def values(self) -> list[Reading]:
        """One reading per year, the one recorded last (a correction supersedes), by year."""
        latest = {r.year: r for r in self.readings}  # oldest first: a later one replaces it
        return [Reading(year, latest[year].value) for year in sorted(latest)]


def spec_of(row: TargetRow) -> TargetSpec:
    return TargetSpec(
        metric=row.metric, unit=row.unit, direction=Direction(row.direction),
        target_year=row.target_year, target_value=row.target_value,
        baseline_year=row.baseline_year, baseline_value=row.baseline_value,
        milestones=tuple(Reading(int(y), float(v)) for y, v in row.milestones or []),
    )


# --- document targets ---------------------------------------------------------------------


def seed_document_targets(session: Session, *, org: str, now: dt.datetime) -> list[dict[str, Any]]:
    """Create or update the targets the roadmap states (MeasureRow.target). The document owns
    metric, unit, direction, target year and value; a baseline and milestones the ESG office
    set are kept. Returns the targets created or changed, {target_id, definition}: the import's
    ledger entry records them."""
    changed: list[tuple[TargetRow, dict[str, Any] | None]] = []
    for m in measures(session, org=org):
        stated = m.target
        if not stated or stated.get("year") is None:
            continue
        row = _find(session, org=org, measure_id=stored_id(m), metric=stated["metric"])
        if row is not None and row.source == DECISION:
            continue
        before = definition(row) if row is not None else None
        if row is None:
            row = TargetRow(org=org, measure_id=stored_id(m), metric=stated["metric"], target_year=0,
                            target_value=0.0, source=DOCUMENT, updated_at=now)
        row.unit = stated.get("unit") or ""
        row.direction = parse_direction(stated.get("direction") or "at_least").value
        row.target_year, row.target_value = int(stated["year"]), float(stated["value"])
        row.source = DOCUMENT
        if before != definition(row):
            row.updated_at = now
            changed.append((row, before))
        session.add(row)
    session.flush()
    return [{"target_id": row.id, "definition": definition(row)} for row, _ in changed]


def _find(session: Session, *, org: str, measure_id: int, metric: str) -> TargetRow | None:
    return session.exec(select(TargetRow).where(
        TargetRow.org == org, TargetRow.measure_id == measure_id, TargetRow.metric == metric)).first()


# --- set, find, record ----------------------------------------------------------------------


def get_target(session: Session, *, org: str, code: str, metric: str | None = None) -> TargetRow:
    """A measure's target; metric may be left out when the measure has exactly one."""
    measure = get_measure(session, org=org, code=code)
    rows = list(session.exec(select(TargetRow).where(TargetRow.measure_id == measure.id)
                             .order_by(col(TargetRow.id))))
    if metric is not None:
        rows = [r for r in rows if r.metric == metric]
    if not rows:
        hint = f" with metric {metric!r}" if metric else ""
        raise NotFound(f"{measure.code} has no target{hint}; set one with `esgtrack target set`",
                       field="--metric" if metric else "MEASURE", value=metric or code)
    if len(rows) > 1:
        raise InputError(f"{measure.code} has several targets; name one with --metric "
                         f"({', '.join(r.metric for r in rows)})", field="--metric")
    return rows[0]


def definition(row: TargetRow) -> dict[str, Any]:
    """A target's definition as plain values: what a `target_set` ledger entry records."""
    return {"metric": row.metric, "unit": row.unit, "direction": row.direction,
            "baseline_year": row.baseline_year, "baseline_value": row.baseline_value,
            "target_year": row.target_year, "target_value": row.target_value,
            "milestones": [[int(y), float(v)] for y, v in row.milestones or []], "source": row.source}


def set_target(session: Session, *, org: str, code: str, given: TargetInput, now: dt.datetime,
               approval: tuple[str, str] | None = None) -> tuple[TargetRow, dict[str, Any] | None]:
    """Create a target (metric, target year and value required) or change a stored one;
    returns it and its definition before (None when new). Changing what the roadmap states
    (unit, direction, target year or value) needs an approval, (who approved it, the Board
    decision's reference); the target then keeps those values through re-imports. A target
    with readings keeps its unit."""
    measure = get_measure(session, org=org, code=code)
    existing = list(session.exec(select(TargetRow).where(TargetRow.measure_id == measure.id)))
    metric = given.metric or (existing[0].metric if len(existing) == 1 else None)
    if not metric:
        raise InputError("name the target's metric (e.g. waste_generated_t)", field="--metric")
    row = _find(session, org=org, measure_id=stored_id(measure), metric=metric)
    if row is None:
        if given.target_year is None or given.target_value is None:
            raise InputError("a new target needs --target-year and --target-value", field="--target-year")
        row = TargetRow(org=org, measure_id=stored_id(measure), metric=metric, target_year=given.target_year,
                        target_value=given.target_value, source=SET, updated_at=now)
    before = definition(row) if row.id is not None else None
    _apply(row, given)
    _validate(row)
    after = definition(row)
    changed = [name for name in STATED if before is not None and before[name] != after[name]]
    if changed and row.source in (DOCUMENT, DECISION):
        if approval is None:
            raise InputError(f"the roadmap states {measure.code}'s {', '.join(changed)}: changing it needs "
                             "--approved-by and --decision (the Board decision's reference)", field="--approved-by")
        row.source = DECISION
    if before is not None and before["unit"] != row.unit and _has_readings(session, row):
        raise InputError(f"{measure.code} {row.metric} has readings in {before['unit'] or 'its unit'}: "
                         "its unit cannot change", field="--unit", value=row.unit)
    row.updated_at = now
    session.add(row)
    session.flush()
    return row, before


def _has_readings(session: Session, row: TargetRow) -> bool:
    return session.exec(select(TargetReadingRow.id).where(TargetReadingRow.target_id == row.id).limit(1)).first() \
        is not None


def _apply(row: TargetRow, given: TargetInput) -> None:
    for name in ("unit", "baseline_year", "baseline_value", "target_year", "target_value"):
        value = getattr(given, name)
        if value is not None:
            setattr(row, name, value)
    if given.direction is not None:
        try:
            row.direction = parse_direction(given.direction).value
        except ValueError:
            raise InputError("direction must be at_least or at_most", field="--direction",
                             value=given.direction) from None
    if given.milestones is not None:
        row.milestones = [[int(y), float(v)] for y, v in sorted(given.milestones)]


def _validate(row: TargetRow) -> None:
    check_year(row.target_year, "--target-year")
    check_value(row.target_value, "--target-value")
    if row.unit.strip() == "%":
        shares = [("--target-value", row.target_value), ("--baseline-value", row.baseline_value),
                  *(("--milestone", v) for _, v in row.milestones or [])]
        for option, value in shares:
            if value is not None and not 0 <= value <= 100:
                raise InputError("a share is between 0 and 100 %", field=option, value=value)
    if (row.baseline_year is None) != (row.baseline_value is None):
        raise InputError("give the baseline's year and value together", field="--baseline-year")
    if row.baseline_year is not None:
        check_year(row.baseline_year, "--baseline-year")
        check_value(row.baseline_value, "--baseline-value")
        if row.baseline_year >= row.target_year:
            raise InputError("the baseline year must come before the target year",
                             field="--baseline-year", value=row.baseline_year)
    for year, value in row.milestones:
        check_year(year, "--milestone")
        check_value(value, "--milestone")
        if year > row.target_year or (row.baseline_year is not None and year <= row.baseline_year):
            raise InputError("a milestone must fall between the baseline and target years",
                             field="--milestone", value=f"{year}={value:g}")


def check_year(year: int, option: str) -> None:
    if year not in YEARS:
        raise InputError(f"expected a year between {YEARS.start} and {YEARS.stop - 1}",
                         field=option, value=year)


def check_value(value: float | None, option: str) -> None:
    if value is None or not math.isfinite(value):
        raise InputError("expected a finite number", field=option, value=value)


def add_reading(session: Session, *, target: TargetRow, year: int, value: float, actor: str,
                evidence_ref: str | None = None, evidence_sha256: str | None = None,
                recorded_at: dt.datetime) -> TargetReadingRow:
    """Record a target's value for a year (a second reading of a year corrects the first)."""
    check_year(year, "--year")
    check_value(value, "--value")
    if target.unit.strip() == "%" and not 0 <= value <= 100:
        raise InputError("a share is between 0 and 100 %", field="--value", value=value)
    if not actor.strip():
        raise InputError("say who records the reading", field="--by")
    row = TargetReadingRow(org=target.org, target_id=stored_id(target), year=year, value=float(value),
                           actor=actor.strip(), evidence_ref=evidence_ref or None,
                           evidence_sha256=evidence_sha256, recorded_at=recorded_at)
    session.add(row)
    session.flush()
    return row


# --- reading ----------------------------------------------------------------------------------


def target_states(session: Session, *, orgs: list[str], until: dt.datetime | None = None
                  ) -> list[TargetState]:
    """Every target of the organisations with its active measure and readings (oldest first;
    only those recorded by `until` when given), in roadmap order."""
    query = (select(TargetRow, MeasureRow).join(MeasureRow, col(TargetRow.measure_id) == MeasureRow.id)
             .where(col(TargetRow.org).in_(orgs), MeasureRow.active)
             .order_by(col(TargetRow.org), col(MeasureRow.position), col(TargetRow.id)))
    states = [TargetState(t, m) for t, m in session.exec(query)]
    by_id = {s.target.id: s for s in states}
    if not by_id:
        return []
    readings = select(TargetReadingRow).where(col(TargetReadingRow.target_id).in_(list(by_id)))
    if until is not None:
        readings = readings.where(TargetReadingRow.recorded_at <= until)
    for r in session.exec(readings.order_by(col(TargetReadingRow.recorded_at), col(TargetReadingRow.id))):
        by_id[r.target_id].readings.append(r)
    return states


def orgs_with_readings(session: Session, *, orgs: list[str]) -> list[str]:
    """The organisations (of these) with at least one target reading: only a reading puts a
    target off track."""
    query = sa.select(col(TargetReadingRow.org)).where(among(session, col(TargetReadingRow.org), orgs)).distinct()
    return sorted(session.execute(query).scalars())
