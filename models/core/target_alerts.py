"""Off-track targets become alerts to the ESG office and the measure's executors (pure).

One alert per (target, reading year, recipient): the step is `target-offtrack-{id}-{year}`
and carries no occurrence, so the outbox's unique key sends it once however often the daily
flow runs; a new year's off-track reading alerts again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from models.core.directory import Directory
from models.core.escalation import Plan, PlannedItem, StepKind, names_by_language, office_contact
from models.core.policy import Policy
from models.core.schedule import is_business_day
from models.core.targets import Status, TargetView, format_value

LANGS = ("kk", "ru", "en")
_SIGN = {"at_least": "≥", "at_most": "≤"}
_TEXT = {
    "kk": "«{metric}» көрсеткіші жоспардан қалып отыр: {year} жылы {value}, күтілгені {sign} {expected} "
          "(мақсат {sign} {target}, {target_year} жылға қарай). {title}",
    "ru": "Показатель «{metric}» отстаёт от плана: {year} год — {value}, ожидалось {sign} {expected} "
          "(цель {sign} {target} к {target_year} году). {title}",
    "en": "Target {metric} is off track: {value} in {year}, {sign} {expected} expected "
          "(target {sign} {target} by {target_year}). {title}",
}


def offtrack_step(view: TargetView) -> str | None:
    """The alert's step id for the latest reading, or None when it is not off track."""
    judgement = view.judgement
    if judgement.status is not Status.OFF_TRACK or judgement.reading is None:
        return None
    return f"target-offtrack-{view.target_id}-{judgement.reading.year}"


def plan_target_alerts(views: list[TargetView], directory: Directory, policy: Policy, *, as_of: dt.date,
                       sent: set[str], role_names: dict[str, dict[str, dict[str, str]]] | None = None,
                       working_days_only: bool = False) -> Plan:
    """Alert items for off-track targets whose step was not sent yet. role_names:
    organisation → role id → names in kk / ru / en."""
    result = Plan()
    if working_days_only and not is_business_day(as_of):
        return result
    for view in views:
        step = offtrack_step(view)
        if step is None or step in sent:
            continue
        people = _recipients(view, directory, policy, result.warnings)
        for person_id in people:
            lang = directory.person(person_id).language
            others = [directory.person(p).name_in(lang) for p in people if p != person_id]
            result.items.append(replace(_item(view, step, person_id, others, as_of,
                                              (role_names or {}).get(view.org, {})),
                                        contact=office_contact(directory, policy)))
    return result


def _recipients(view: TargetView, directory: Directory, policy: Policy, warnings: list[str]) -> list[str]:
    people: list[str] = []
    for role in (policy.esg_office, *view.executor_roles):
        person = directory.holder(role)
        if person is None:
            warnings.append(f"{view.measure} target {view.spec.metric}: role {role!r} has no holder")
            continue
        if person.id not in people:
            people.append(person.id)
    return people


def alert_texts(view: TargetView) -> dict[str, str]:
    """The alert's one-line text in kk / ru / en."""
    j, s = view.judgement, view.spec
    values = {"metric": s.metric, "year": j.reading.year if j.reading else "?",
              "value": format_value(j.reading.value if j.reading else None, s.unit),
              "expected": format_value(j.expected, s.unit), "target": format_value(s.target_value, s.unit),
              "target_year": s.target_year, "sign": _SIGN.get(s.direction.value, "")}
    return {lang: _TEXT[lang].format(**values, title=view.titles.get(lang) or view.titles.get("kk", ""))
            for lang in LANGS}


def _item(view: TargetView, step: str, recipient: str, others: list[str], as_of: dt.date,
          names: dict[str, dict[str, str]]) -> PlannedItem:
    j = view.judgement
    return PlannedItem(
        org=view.org, occurrence_id=None, measure=view.measure,
        titles=alert_texts(view), period=j.reading.year if j.reading else as_of.year,
        occurrence_kind="alert", due=None, days=None, step=step, kind=StepKind.ALERT,
        level=0, completion_form="", completion_kind="",
        units=names_by_language(view.unit_roles, names), executors=names_by_language(view.executor_roles, names),
        others_told=tuple(others), external_party=view.external_party,
        record_hint="", recipient=recipient,
    )
