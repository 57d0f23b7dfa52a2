"""Off-track targets become alerts to the ESG office and the measure's executors (pure)."""

import datetime as dt
from pathlib import Path

from models.core.directory import Directory, Person, RoleEntry
from models.core.policy import load_policy
from models.core.target_alerts import offtrack_step, plan_target_alerts
from models.core.targets import Direction, Reading, TargetSpec, TargetView

POLICY = load_policy(Path(__file__).resolve().parents[2] / "config" / "policy.yaml")
DIRECTORY = Directory(
    people={pid: Person(pid, pid.upper(), f"{pid}@example.kz", None, (), lang)
            for pid, lang in [("esg", "kk"), ("cao", "ru")]},
    roles={"esg_office": RoleEntry("esg_office", "esg", None), "cao_role": RoleEntry("cao_role", "cao", None),
           "vacant": RoleEntry("vacant", None, None)},
)
SPEC = TargetSpec("women_share_management_board", "%", Direction.AT_LEAST, 2032, 35.0, 2024, 10.0)
MONDAY = dt.date(2026, 3, 2)


def view(readings, executors=("cao_role",), tid=7):
    return TargetView(target_id=tid, org="KT", measure="G6",
                      titles={"kk": "Әйелдер үлесі", "ru": "Доля женщин", "en": "Women's share"},
                      spec=SPEC, readings=tuple(readings), executor_roles=executors)


def test_off_track_alerts_the_esg_office_and_the_executors_once():
    v = view([Reading(2025, 10.0)])
    plan = plan_target_alerts([v], DIRECTORY, POLICY, as_of=MONDAY, sent=set())
    assert [(i.recipient, i.step) for i in plan.items] == [
        ("esg", "target-offtrack-7-2025"), ("cao", "target-offtrack-7-2025")]
    item = plan.items[0]
    assert item.occurrence_id is None and item.kind == "alert" and item.measure == "G6"
    assert "жоспардан қалып отыр" in item.titles["kk"] and "35%" in item.titles["en"]
    assert item.others_told == ("CAO",)
    again = plan_target_alerts([v], DIRECTORY, POLICY, as_of=MONDAY, sent={"target-offtrack-7-2025"})
    assert again.items == []


def test_on_track_at_risk_and_unjudged_targets_stay_quiet():
    for readings in ([], [Reading(2025, 13.2)], [Reading(2025, 11.0)]):
        assert offtrack_step(view(readings)) is None
    unjudged = TargetView(1, "KT", "G6", {}, TargetSpec("m", "%", Direction.AT_LEAST, 2032, 35.0),
                          (Reading(2025, 1.0),))
    assert offtrack_step(unjudged) is None


def test_a_new_years_reading_alerts_again_and_vacancies_warn():
    v = view([Reading(2025, 10.0), Reading(2026, 10.0)], executors=("vacant",))
    plan = plan_target_alerts([v], DIRECTORY, POLICY, as_of=MONDAY, sent={"target-offtrack-7-2025"})
    assert [(i.recipient, i.step) for i in plan.items] == [("esg", "target-offtrack-7-2026")]
    assert any("vacant" in w for w in plan.warnings)


def test_no_alerts_on_a_weekend_when_working_days_only():
    saturday = dt.date(2026, 3, 7)
    plan = plan_target_alerts([view([Reading(2025, 10.0)])], DIRECTORY, POLICY, as_of=saturday,
                              sent=set(), working_days_only=True)
    assert plan.items == []
