"""Target trajectories and readings: interpolation, milestones, the on-track rule (pure)."""

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from models.core.targets import (
    TOLERANCE,
    Direction,
    Reading,
    Status,
    TargetSpec,
    expected_value,
    judge,
    latest,
    parse_direction,
    trajectory,
)

G5 = TargetSpec("women_share_board_of_directors", "%", Direction.AT_LEAST, 2032, 35.0, 2024, 10.0)
E4 = TargetSpec("waste_t", "t", Direction.AT_MOST, 2030, 700.0, 2024, 1000.0,
                milestones=(Reading(2026, 950.0),))

values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
years = st.integers(min_value=2000, max_value=2040)


def test_linear_between_baseline_and_target():
    assert expected_value(G5, 2024) == 10.0
    assert expected_value(G5, 2028) == pytest.approx(22.5)
    assert expected_value(G5, 2032) == 35.0
    assert expected_value(G5, 2020) == 10.0   # flat before the baseline
    assert expected_value(G5, 2040) == 35.0   # flat after the target year


def test_milestones_bend_the_line():
    assert expected_value(E4, 2025) == pytest.approx(975.0)
    assert expected_value(E4, 2026) == 950.0
    assert expected_value(E4, 2028) == pytest.approx(825.0)


@pytest.mark.parametrize("value, status", [
    (13.125, Status.ON_TRACK),    # exactly on the line in 2025
    (20.0, Status.ON_TRACK),      # ahead
    (10.625, Status.AT_RISK),     # short by 2.5 = 10 % of the 25-point gap: the band's edge
    (10.6, Status.OFF_TRACK),     # just outside the band
    (35.0, Status.ON_TRACK),      # meets the final target already
])
def test_judging_a_reading(value, status):
    assert judge(G5, [Reading(2025, value)]).status is status


def test_at_most_targets_judge_the_other_way():
    assert judge(E4, [Reading(2026, 940.0)]).status is Status.ON_TRACK
    assert judge(E4, [Reading(2026, 975.0)]).status is Status.AT_RISK   # 25 ≤ 30 over
    assert judge(E4, [Reading(2026, 990.0)]).status is Status.OFF_TRACK


def test_without_baseline_two_years_of_readings_are_needed():
    spec = TargetSpec("women_share_management_board", "%", Direction.AT_LEAST, 2032, 35.0)
    assert judge(spec, []).status is Status.NO_READING
    assert judge(spec, [Reading(2025, 20.0)]).status is Status.NOT_JUDGED
    assert judge(spec, [Reading(2025, 20.0), Reading(2025, 21.0)]).status is Status.NOT_JUDGED
    assert judge(spec, [Reading(2025, 36.0)]).status is Status.ON_TRACK  # meets the target
    # The earliest reading stands in for the baseline: 20 → 35 over 7 years, 2026 expects 22.14.
    two = judge(spec, [Reading(2025, 20.0), Reading(2026, 22.5)])
    assert two.status is Status.ON_TRACK and two.expected == pytest.approx(20 + 15 / 7)
    assert judge(spec, [Reading(2025, 20.0), Reading(2026, 20.0)]).status is Status.OFF_TRACK


def test_latest_reading_is_the_newest_year_and_the_last_correction():
    readings = [Reading(2026, 1.0), Reading(2025, 9.0), Reading(2026, 2.0)]
    assert latest(readings) == Reading(2026, 2.0)


def test_trajectory_for_charts():
    path = trajectory(G5, [], 2025)
    assert [p.year for p in path] == list(range(2024, 2033))
    assert trajectory(TargetSpec("m", "%", Direction.AT_LEAST, 2032, 35.0), [], 2025) == []


@pytest.mark.parametrize("text, direction", [("at_least", Direction.AT_LEAST), (">=", Direction.AT_LEAST),
                                             ("at-most", Direction.AT_MOST), ("≤", Direction.AT_MOST)])
def test_parse_direction(text, direction):
    assert parse_direction(text) is direction


def _spec(direction, by, bv, ty, tv):
    assume(by < ty)
    return TargetSpec("m", "u", direction, ty, tv, by, bv)


@given(st.sampled_from(list(Direction)), years, values, years, values)
def test_trajectory_passes_through_its_ends(direction, by, bv, ty, tv):
    spec = _spec(direction, by, bv, ty, tv)
    assert expected_value(spec, by) == bv
    assert math.isclose(expected_value(spec, ty), tv, rel_tol=1e-9, abs_tol=1e-6)


@given(st.sampled_from(list(Direction)), years, values, years, values, st.integers(0, 40))
def test_trajectory_stays_between_its_ends(direction, by, bv, ty, tv, offset):
    spec = _spec(direction, by, bv, ty, tv)
    value = expected_value(spec, by + offset)
    assert min(bv, tv) - 1e-6 <= value <= max(bv, tv) + 1e-6


@given(st.sampled_from(list(Direction)), years, values, years, values, st.integers(0, 40))
def test_a_reading_on_the_trajectory_is_on_track(direction, by, bv, ty, tv, offset):
    spec = _spec(direction, by, bv, ty, tv)
    year = min(by + offset, ty)
    assert judge(spec, [Reading(year, expected_value(spec, year))]).status is Status.ON_TRACK


@given(years, values, years, values, st.integers(1, 40), st.floats(0, 1e6, allow_nan=False))
def test_mirroring_values_and_direction_keeps_the_status(by, bv, ty, tv, offset, value):
    spec = _spec(Direction.AT_LEAST, by, bv, ty, tv)
    mirror = _spec(Direction.AT_MOST, by, -bv, ty, -tv)
    year = by + offset
    assert judge(spec, [Reading(year, value)]).status is judge(mirror, [Reading(year, -value)]).status


@given(years, values, years, values, st.integers(1, 40), st.floats(0, 3, allow_nan=False))
def test_status_follows_the_shortfall(by, bv, ty, tv, offset, share):
    """Short of the line by `share` × the tolerance band: ≤ 1 at risk, > 1 off track."""
    spec = _spec(Direction.AT_LEAST, by, bv, ty, tv)
    gap = abs(tv - bv)
    assume(gap > 1e-3)
    year = min(by + offset, ty)
    expected = expected_value(spec, year)
    reading = Reading(year, expected - share * TOLERANCE * gap)
    status = judge(spec, [reading]).status
    assume(abs(share - 1) > 1e-3 and share > 1e-3)
    assume(reading.value < tv)  # not meeting the final target already
    assert status is (Status.AT_RISK if share < 1 else Status.OFF_TRACK)
