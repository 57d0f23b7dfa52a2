"""Numeric targets and their trajectories: expected value in a year, and on-track / at-risk /
off-track readings (pure).

The rule, as the README states it:
- The trajectory runs through its anchors: the baseline (year, value), any stated milestones,
  and the target (year, value); between two anchors it is a straight line, before the first
  anchor it is that anchor's value, after the target year it is the target value.
- Without a baseline, the earliest reading stands in for it once there are two readings in
  different years; with one reading and no baseline a target cannot be judged ("not_judged"),
  unless that reading already meets the final target (then it is on track).
- A reading is on track if it meets the expected value in its year (at least: value ≥
  expected; at most: value ≤ expected), at risk if it falls short by no more than the
  tolerance — TOLERANCE (10 %) of the whole gap between the starting value and the target —
  and off track otherwise. The latest reading (the newest year; for the same year, the one
  recorded last) is the one judged.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

TOLERANCE = 0.10
EPSILON = 1e-9  # readings are typed by people: 35.0 and 34.9999999999 are the same


class Direction(StrEnum):
    AT_LEAST = "at_least"
    AT_MOST = "at_most"


class Status(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    NOT_JUDGED = "not_judged"
    NO_READING = "no_reading"


@dataclass(frozen=True)
class Reading:
    year: int
    value: float


@dataclass(frozen=True)
class TargetSpec:
    metric: str
    unit: str
    direction: Direction
    target_year: int
    target_value: float
    baseline_year: int | None = None
    baseline_value: float | None = None
    milestones: tuple[Reading, ...] = field(default=())

    @property
    def has_baseline(self) -> bool:
        return self.baseline_year is not None and self.baseline_value is not None


@dataclass(frozen=True)
class Judgement:
    status: Status
    reading: Reading | None = None
    expected: float | None = None
    tolerance: float | None = None
    reason: str = ""

    def as_dict(self) -> dict:
        return {
            "status": self.status.value,
            "year": self.reading.year if self.reading else None,
            "value": self.reading.value if self.reading else None,
            "expected": self.expected, "tolerance": self.tolerance, "reason": self.reason,
        }


def meets(value: float, goal: float, direction: Direction) -> bool:
    """Whether value reaches goal in the target's direction."""
    if direction is Direction.AT_LEAST:
        return value >= goal - EPSILON
    return value <= goal + EPSILON


def shortfall(value: float, goal: float, direction: Direction) -> float:
    """How far value falls short of goal (0 or less: it meets it)."""
    return goal - value if direction is Direction.AT_LEAST else value - goal


def anchors(spec: TargetSpec, start: Reading | None = None) -> list[Reading]:
    """The trajectory's points in year order: start (baseline or stand-in), milestones,
    target. A later point in the same year replaces an earlier one."""
    points: dict[int, float] = {}
    if start is not None:
        points[start.year] = start.value
    for milestone in sorted(spec.milestones, key=lambda r: r.year):
        points[milestone.year] = milestone.value
    points[spec.target_year] = spec.target_value
    return [Reading(y, v) for y, v in sorted(points.items()) if y <= spec.target_year]


def interpolate(points: Sequence[Reading], year: float) -> float:
    """Piecewise-linear value at year through points (sorted, distinct years), flat outside."""
    if not points:
        raise ValueError("a trajectory needs at least one point")
    if year <= points[0].year:
        return points[0].value
    for left, right in itertools.pairwise(points):
        if year <= right.year:
            share = (year - left.year) / (right.year - left.year)
            return left.value + share * (right.value - left.value)
    return points[-1].value


def start_of(spec: TargetSpec, readings: Sequence[Reading]) -> Reading | None:
    """The trajectory's starting point: the baseline, else the earliest reading when readings
    span two or more years, else None (cannot judge yet)."""
    if spec.baseline_year is not None and spec.baseline_value is not None:  # has_baseline, spelt out for mypy
        return Reading(spec.baseline_year, float(spec.baseline_value))
    years = {r.year for r in readings}
    if len(years) >= 2:
        first = min(years)
        return latest([r for r in readings if r.year == first])
    return None


def expected_value(spec: TargetSpec, year: int, start: Reading | None = None) -> float:
    """The value the trajectory expects in year (start defaults to the baseline)."""
    if start is None and spec.baseline_year is not None and spec.baseline_value is not None:
        start = Reading(spec.baseline_year, float(spec.baseline_value))
    return interpolate(anchors(spec, start), year)


def tolerance(spec: TargetSpec, start: Reading | None) -> float:
    """TOLERANCE of the whole gap from the starting value to the target."""
    if start is None:
        return 0.0
    return TOLERANCE * abs(spec.target_value - start.value)


def latest(readings: Sequence[Reading]) -> Reading | None:
    """The newest year's reading; for the same year the one given last (a correction)."""
    best = None
    for reading in readings:
        if best is None or reading.year >= best.year:
            best = reading
    return best


def judge(spec: TargetSpec, readings: Sequence[Reading]) -> Judgement:
    """On track, at risk, off track — or not judged yet — from the latest reading."""
    last = latest(readings)
    if last is None:
        return Judgement(Status.NO_READING, reason="no reading recorded")
    if meets(last.value, spec.target_value, spec.direction):
        return Judgement(Status.ON_TRACK, last, spec.target_value, 0.0, "meets the final target")
    start = start_of(spec, readings)
    if start is None:
        return Judgement(Status.NOT_JUDGED, last, None, None,
                         "no baseline and readings in only one year")
    expected = expected_value(spec, last.year, start)
    band = tolerance(spec, start)
    gap = shortfall(last.value, expected, spec.direction)
    if gap <= EPSILON:
        status = Status.ON_TRACK
    elif gap <= band + EPSILON:
        status = Status.AT_RISK
    else:
        status = Status.OFF_TRACK
    return Judgement(status, last, _round(expected), _round(band), _reason(status, gap))


def _reason(status: Status, gap: float) -> str:
    if status is Status.ON_TRACK:
        return "meets the trajectory"
    return f"short of the trajectory by {_round(gap):g}"


def _round(value: float) -> float:
    return 0.0 if math.isclose(value, 0.0, abs_tol=EPSILON) else round(value, 6)


def trajectory(spec: TargetSpec, readings: Sequence[Reading], first_year: int) -> list[Reading]:
    """The expected value in each year from first_year to the target year (for charts);
    empty when there is no starting point yet."""
    start = start_of(spec, readings)
    if start is None:
        return []
    begin = min(first_year, start.year)
    return [Reading(y, expected_value(spec, y, start)) for y in range(begin, spec.target_year + 1)]


def format_value(value: float | None, unit: str) -> str:
    """35% / 700 t / — : four significant digits, the unit as people write it."""
    if value is None:
        return "—"
    return f"{value:.4g}{unit}" if unit in ("", "%") else f"{value:.4g} {unit}"


def parse_direction(text: str) -> Direction:
    """at_least / at-least / >= / min, and at_most / at-most / <= / max."""
    key = text.strip().casefold().replace("-", "_").replace(" ", "_")
    aliases = {">=": "at_least", "≥": "at_least", "min": "at_least",
               "<=": "at_most", "≤": "at_most", "max": "at_most"}
    return Direction(aliases.get(key, key))


@dataclass(frozen=True)
class TargetView:
    """A target as the reports and the alert planner see it: plain values only."""

    target_id: int
    org: str
    measure: str
    titles: dict[str, str]
    spec: TargetSpec
    readings: tuple[Reading, ...]
    source: str = "set"
    executor_roles: tuple[str, ...] = ()
    unit_roles: tuple[str, ...] = ()
    external_party: str | None = None

    @property
    def judgement(self) -> Judgement:
        return judge(self.spec, self.readings)

    def as_dict(self) -> dict:
        s = self.spec
        return {
            "org": self.org, "measure": self.measure, "metric": s.metric, "unit": s.unit,
            "direction": s.direction.value, "baseline_year": s.baseline_year,
            "baseline_value": s.baseline_value, "target_year": s.target_year,
            "target_value": s.target_value, "milestones": [[m.year, m.value] for m in s.milestones],
            "source": self.source, "readings": [[r.year, r.value] for r in self.readings],
            "latest": self.judgement.as_dict(),
        }
