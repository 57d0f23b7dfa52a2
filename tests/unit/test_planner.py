"""The pure planner, exhaustively: ladders, boundaries, holidays, routing, dedupe."""

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.core.directory import Directory, Person, RoleEntry
from models.core.escalation import OpenItem, current_step, plan, steps_for
from models.core.policy import load_policy
from models.core.schedule import is_business_day

POLICY = load_policy(Path(__file__).resolve().parents[2] / "config" / "policy.yaml")
DUE = dt.date(2025, 12, 31)  # a Wednesday


def person(pid, lang="kk"):
    return Person(id=pid, name=pid.upper(), email=f"{pid}@example.kz", teams=None, apprise=(), language=lang)


DIRECTORY = Directory(
    people={p.id: p for p in [person("cao"), person("ceo", "ru"), person("esg", "en"), person("ciso"),
                              person("isec"), person("hr"), person("empx")]},
    roles={
        "chief_administrative_officer": RoleEntry("chief_administrative_officer", "cao",
                                                  "chairman_of_management_board"),
        "chairman_of_management_board": RoleEntry("chairman_of_management_board", "ceo", None),
        "esg_office": RoleEntry("esg_office", "esg", "chief_administrative_officer"),
        "ciso_role": RoleEntry("ciso_role", "ciso", "chief_administrative_officer"),
        "isec_unit": RoleEntry("isec_unit", "isec", "ciso_role"),
        "hr_director": RoleEntry("hr_director", "hr", "chairman_of_management_board"),
        "hr_unit": RoleEntry("hr_unit", "hr", "hr_director"),  # hr holds two roles
        "vacant": RoleEntry("vacant", None, "esg_office"),
    },
)


def item(kind="due", due=DUE, executors=("ciso_role",), units=("isec_unit",), external=False, occ=1):
    return OpenItem(occurrence_id=occ, org="KT", measure="S3", period=due.year, kind=kind, due=due,
                    titles={"kk": "Атауы", "ru": "Название", "en": "Title"}, completion_form="Есеп",
                    completion_kind="report", executor_roles=executors, unit_roles=units,
                    external_party="Самұрық-Қазына" if external else None, external=external)


def run(items, as_of, sent=frozenset()):
    return plan(list(items), DIRECTORY, POLICY, sent=set(sent), as_of=as_of)


def steps_of(result):
    return {(i.step, i.recipient) for i in result.items}


@pytest.mark.parametrize("as_of, step", [
    ("2025-10-30", None), ("2025-10-31", "remind-60"),  # 1 Nov is a Saturday: the Friday before
    ("2025-11-28", "remind-60"), ("2025-12-01", "remind-30"), ("2025-12-17", "remind-14"),
    ("2025-12-24", "remind-7"), ("2025-12-30", "remind-1"), ("2025-12-31", "remind-1"),
    ("2026-01-02", None),  # after the due date, a holiday, before the first escalation
    ("2026-01-05", "escalate-1"),  # day 1 is a holiday (1 January): the next working day
    ("2026-01-14", "escalate-14"), ("2026-01-30", "escalate-30"), ("2026-03-02", "escalate-60"),
    ("2026-03-10", "escalate-60-r1"), ("2026-04-27", "escalate-60-r8"), ("2026-12-01", "escalate-60-r8"),
])
def test_the_ladder_boundaries(as_of, step):
    found = current_step(item(), POLICY, dt.date.fromisoformat(as_of))
    assert (found.id if found else None) == step


def test_every_step_goes_out_on_a_working_day():
    assert all(is_business_day(s.send_on) for s in steps_for(item(), POLICY))


def test_reminders_go_to_units_and_executors():
    result = run([item()], dt.date(2025, 12, 1))
    assert steps_of(result) == {("remind-30", "ciso"), ("remind-30", "isec")}
    ciso = next(i for i in result.items if i.recipient == "ciso")
    assert ciso.others_told == ("ISEC (isec_unit)",) and ciso.days == 30 and ciso.kind == "reminder"


def test_others_told_are_named_by_role_in_the_recipients_language():
    names = {"isec_unit": {"kk": "АҚ қызметі", "ru": "Служба ИБ", "en": "Information security"},
             "ciso_role": {"kk": "АҚ директоры", "ru": "Директор по ИБ", "en": "CISO"}}
    directory = Directory(people={**DIRECTORY.people, "ciso": person("ciso", "ru")}, roles=DIRECTORY.roles)
    result = plan([item()], directory, POLICY, sent=set(), as_of=dt.date(2025, 12, 1), role_names=names)
    told = {i.recipient: i.others_told for i in result.items}
    assert told == {"ciso": ("ISEC (Служба ИБ)",), "isec": ("CISO (АҚ директоры)",)}


def test_escalation_levels_reach_their_roles_and_keep_the_responsible():
    levels = {
        "2026-01-05": {"ciso", "isec"},
        "2026-01-14": {"ciso", "isec", "esg", "cao"},    # ESG office + the executor's superior
        "2026-01-30": {"ciso", "isec", "cao"},
        "2026-03-02": {"ciso", "isec", "ceo"},
    }
    for day, people in levels.items():
        result = run([item()], dt.date.fromisoformat(day))
        assert {i.recipient for i in result.items} == people, day
        assert all(i.kind == "escalation" and i.days < 0 for i in result.items)


def test_already_sent_step_is_not_planned_again():
    as_of = dt.date(2026, 1, 14)
    assert run([item()], as_of, sent={(1, "escalate-14")}).items == []
    assert run([item()], as_of, sent={(1, "escalate-1")}).items  # an older step does not block


def test_missed_days_catch_up_with_the_current_step_only():
    result = run([item()], dt.date(2026, 2, 2))  # nothing was ever sent
    assert {i.step for i in result.items} == {"escalate-30"}


def test_progress_check_ins_remind_but_escalate_only_to_esg_office():
    assert {i.recipient for i in run([item("progress")], dt.date(2025, 12, 1)).items} == {"ciso", "isec"}
    late = run([item("progress")], dt.date(2026, 3, 2)).items
    assert {i.recipient for i in late} == {"esg"} and late[0].step == "escalate-60"
    assert current_step(item("progress"), POLICY, dt.date(2026, 3, 10)).id == "escalate-60"  # no repeats


def test_external_dependency_routes_to_esg_office():
    ext = item(executors=(), units=(), external=True)
    assert {i.recipient for i in run([ext], dt.date(2025, 12, 1)).items} == {"esg"}
    assert {i.recipient for i in run([ext], dt.date(2026, 1, 14)).items} == {"esg", "cao"}


def test_as_needed_opened_items_follow_the_same_ladder():
    opened = item("opened", due=dt.date(2026, 3, 18))
    assert {i.step for i in run([opened], dt.date(2026, 2, 16)).items} == {"remind-30"}


def test_a_person_with_several_roles_is_told_once_per_step():
    result = run([item(executors=("hr_director",), units=("hr_unit",))], dt.date(2025, 12, 1))
    assert [i.recipient for i in result.items] == ["hr"]


def test_vacant_role_is_routed_to_esg_office_with_a_warning():
    result = run([item(executors=("vacant",), units=())], dt.date(2025, 12, 1))
    assert [i.recipient for i in result.items] == ["esg"]
    assert any("vacant" in w for w in result.warnings)


def test_completed_items_are_not_planned():
    # the flow hands the planner open occurrences only; done ones (on time or late) are absent
    assert run([], dt.date(2026, 1, 14)).items == []


def test_weekend_runs_plan_nothing_when_working_days_only():
    saturday = dt.date(2025, 12, 27)
    assert plan([item()], DIRECTORY, POLICY, sent=set(), as_of=saturday, working_days_only=True).items == []


def test_items_carry_what_messages_need():
    result = run([item()], dt.date(2025, 12, 1))
    first = result.items[0]
    assert first.measure == "S3" and first.titles["ru"] == "Название"
    assert first.due == "2025-12-31" and first.record_hint == ""  # officers are never given a command
    office = DIRECTORY.holder("esg_office")
    assert office is not None and first.contact == f"{office.name} <{office.email}>"


@given(offset=st.integers(-200, 200))
def test_at_most_one_step_per_occurrence_per_day(offset):
    as_of = DUE + dt.timedelta(days=offset)
    result = run([item(occ=1), item(occ=2, due=DUE + dt.timedelta(days=3))], as_of)
    per_occ = {}
    for i in result.items:
        per_occ.setdefault(i.occurrence_id, set()).add(i.step)
    assert all(len(steps) == 1 for steps in per_occ.values())
    keys = [(i.occurrence_id, i.step, i.recipient) for i in result.items]
    assert len(keys) == len(set(keys))
    for i in result.items:
        assert (i.kind == "reminder") == (i.days >= 0)
