"""Occurrences and due dates: a measure's recurrence expanded to dated obligations (pure).

Recurrence is data: each measure carries an RFC 5545 RRULE, expanded here with
dateutil.rrule; due dates are computed with pendulum in the roadmap's zone (Asia/Almaty).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import holidays
import pendulum
from dateutil import rrule

from models.core.roadmap import ROADMAP_TZ, DueRule, Measure, RecurrenceKind


class OccurrenceStatus(StrEnum):
    OPEN = "open"            # to do (and, past its due date, overdue)
    DONE = "done"            # completed, with evidence (flows/usecases/occurrences.py)
    WAIVED = "waived"        # waived or not applicable, with who approved it
    WITHDRAWN = "withdrawn"  # no longer planned by the roadmap's newest edition


class OccurrenceKind(StrEnum):
    DUE = "due"            # the obligation itself (annual, once, the final one of `by`)
    PROGRESS = "progress"  # the yearly check-in of a `by` measure before its final year
    OPENED = "opened"      # an as-needed occurrence the ESG office opened


@dataclass(frozen=True)
class OccurrenceSpec:
    measure_id: str
    period: int
    kind: OccurrenceKind
    due_at: pendulum.DateTime  # end of the due day, Asia/Almaty


def due_at(period: int, rule: DueRule = DueRule()) -> pendulum.DateTime:
    """End of the due day of a period, in Asia/Almaty; a day past the month's end is clamped
    (a 29 February rule falls on the 28th in common years)."""
    year = period + rule.year_offset
    first = pendulum.date(year, rule.month, 1)
    day = min(rule.day, first.days_in_month)
    return pendulum.datetime(year, rule.month, day, 23, 59, 59, tz=ROADMAP_TZ)


def end_of_day(day: dt.date) -> pendulum.DateTime:
    return pendulum.datetime(day.year, day.month, day.day, 23, 59, 59, tz=ROADMAP_TZ)


def morning(day: dt.date) -> dt.datetime:
    """09:00 in Almaty on a day, in UTC: the instant the daily run of that day happens."""
    local = pendulum.datetime(day.year, day.month, day.day, 9, tz=ROADMAP_TZ)
    return dt.datetime.fromtimestamp(local.timestamp(), dt.UTC)


def period_years(rrule_text: str | None) -> list[int]:
    """The years an RRULE (with its DTSTART) yields; [] for none."""
    if not rrule_text:
        return []
    return [when.year for when in rrule.rrulestr(rrule_text, forceset=True)]


def expand(measure: Measure) -> list[OccurrenceSpec]:
    """Every dated obligation of a measure, as DESIGN.md's deadline table defines them."""
    recurrence = measure.recurrence
    years = period_years(recurrence.rrule())
    specs = []
    for year in years:
        kind = OccurrenceKind.DUE
        if recurrence.kind is RecurrenceKind.BY and year != recurrence.end_year:
            kind = OccurrenceKind.PROGRESS
        specs.append(OccurrenceSpec(measure.id, year, kind, due_at(year, measure.due)))
    return specs


def expand_all(measures: Iterable[Measure]) -> list[OccurrenceSpec]:
    return [spec for measure in measures for spec in expand(measure)]


# --- business days ---------------------------------------------------------------------


@lru_cache(maxsize=64)
def _kz_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("KZ", years=year).keys())


def is_business_day(day: dt.date) -> bool:
    """Kazakhstan's working days: Monday-Friday except public holidays (the holidays package,
    which includes the government's transferred days off)."""
    return day.weekday() < 5 and day not in _kz_holidays(day.year)


def previous_business_day(day: dt.date) -> dt.date:
    """The day itself if it is a working day, else the working day before it."""
    while not is_business_day(day):
        day -= dt.timedelta(days=1)
    return day


def next_business_day(day: dt.date) -> dt.date:
    """The day itself if it is a working day, else the working day after it."""
    while not is_business_day(day):
        day += dt.timedelta(days=1)
    return day


def local_date(moment: dt.datetime) -> dt.date:
    """The Almaty calendar date of a moment (aware or UTC-naive)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return pendulum.instance(moment).in_timezone(ROADMAP_TZ).date()
