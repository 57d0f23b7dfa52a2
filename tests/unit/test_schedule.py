"""Occurrences and due dates: the recurrence expansion, end of day in Almaty, business days."""

import datetime as dt

import pendulum
from hypothesis import given
from hypothesis import strategies as st

from models.core.roadmap import Aspect, DueRule, Measure, Recurrence, RecurrenceKind
from models.core.schedule import (
    OccurrenceKind,
    due_at,
    expand,
    is_business_day,
    local_date,
    next_business_day,
    period_years,
    previous_business_day,
)


def measure(kind: RecurrenceKind, start, end, due=DueRule()) -> Measure:
    return Measure(id="E1", aspect=Aspect.E, number=1, topic="t", title="x", deadline_text="d",
                   recurrence=Recurrence(kind, start, end), completion_form="Бұйрық",
                   executors=(), units=(), due=due)


def test_default_due_is_end_of_31_december_in_almaty():
    due = due_at(2025)
    assert (due.year, due.month, due.day, due.hour, due.minute, due.second) == (2025, 12, 31, 23, 59, 59)
    assert due.in_timezone("UTC").hour == 18  # Almaty is UTC+5 all year
    assert local_date(due.in_timezone("UTC")) == dt.date(2025, 12, 31)


def test_due_rule_clamps_to_month_end_and_leap_years():
    assert due_at(2027, DueRule(2, 29)).day == 28
    assert due_at(2028, DueRule(2, 29)).day == 29
    assert due_at(2026, DueRule(4, 31)).day == 30
    assert due_at(2025, DueRule(6, 30, year_offset=1)).year == 2026


def test_pendulum_month_arithmetic_pitfall_is_clamped():
    # 31 January + 1 month is the end of February, not 3 March
    assert pendulum.date(2026, 1, 31).add(months=1) == pendulum.date(2026, 2, 28)
    assert pendulum.date(2028, 1, 31).add(months=1) == pendulum.date(2028, 2, 29)


def test_kinds_expand_as_designed():
    assert [s.period for s in expand(measure(RecurrenceKind.ANNUAL, 2026, 2032))] == list(range(2026, 2033))
    assert [s.period for s in expand(measure(RecurrenceKind.ONCE, 2027, 2027))] == [2027]
    by = expand(measure(RecurrenceKind.BY, 2025, 2032))
    assert [s.kind for s in by] == [OccurrenceKind.PROGRESS] * 7 + [OccurrenceKind.DUE]
    assert by[-1].period == 2032
    assert expand(measure(RecurrenceKind.AS_NEEDED, None, None)) == []


def test_rrule_is_rfc5545_with_zone():
    text = Recurrence(RecurrenceKind.ANNUAL, 2025, 2032).rrule()
    assert text.startswith("DTSTART;TZID=Asia/Almaty:20250101T000000")
    assert "RRULE:FREQ=YEARLY;COUNT=8" in text
    assert period_years(text) == list(range(2025, 2033))


@given(start=st.integers(2000, 2090), length=st.integers(0, 40),
       kind=st.sampled_from([RecurrenceKind.ANNUAL, RecurrenceKind.BY]),
       month=st.integers(1, 12), day=st.integers(1, 31))
def test_expansion_properties(start, length, kind, month, day):
    end = start + length
    specs = expand(measure(kind, start, end, DueRule(month, day)))
    assert [s.period for s in specs] == list(range(start, end + 1))
    assert all(s.due_at.year == s.period and s.due_at.month == month for s in specs)
    assert all(s.due_at.timezone_name == "Asia/Almaty" for s in specs)
    dues = [s for s in specs if s.kind is OccurrenceKind.DUE]
    assert len(dues) == (1 if kind is RecurrenceKind.BY else len(specs))


@given(year=st.integers(2001, 2090))
def test_once_is_one_occurrence(year):
    specs = expand(measure(RecurrenceKind.ONCE, year, year))
    assert len(specs) == 1 and specs[0].period == year


def test_business_days_in_kazakhstan():
    assert not is_business_day(dt.date(2026, 3, 8))       # International Women's Day (Sunday)
    assert not is_business_day(dt.date(2025, 12, 16))     # Independence Day
    assert not is_business_day(dt.date(2026, 1, 1))
    assert is_business_day(dt.date(2025, 12, 31))         # Wednesday
    # a reminder on Saturday 2025-12-27 goes out Friday; an escalation on it, Monday
    assert previous_business_day(dt.date(2025, 12, 27)) == dt.date(2025, 12, 26)
    assert next_business_day(dt.date(2025, 12, 27)) == dt.date(2025, 12, 29)
    # 1-2 January are holidays: an escalation due on 1 January 2026 goes out on Monday 5th
    assert next_business_day(dt.date(2026, 1, 1)) == dt.date(2026, 1, 5)


@given(day=st.dates(dt.date(2024, 1, 1), dt.date(2033, 12, 31)))
def test_business_day_shifts_land_on_business_days(day):
    before, after = previous_business_day(day), next_business_day(day)
    assert is_business_day(before) and is_business_day(after)
    assert before <= day <= after
    assert (before == day) == is_business_day(day) == (after == day)
