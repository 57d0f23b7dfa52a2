"""The planner: which reminders and escalations are due now (pure: no I/O, no clock).

Given the open occurrences, the directory, the policy, what was already sent and `as_of`,
it returns one item per (occurrence, step, recipient). Each occurrence has a ladder of steps
(reminders before the due date, escalation levels after it, weekly repeats at the top); on a
given day only the latest step that has come due is sent, once: a missed day catches up with
the current step instead of flooding people with the ones they slept through.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from functools import lru_cache
from typing import Any

from models.core.directory import Directory
from models.core.policy import Policy
from models.core.schedule import (
    OccurrenceKind,
    is_business_day,
    local_date,
    next_business_day,
    previous_business_day,
)

LANGS = ("kk", "ru", "en")


@dataclass(frozen=True)
class OpenItem:
    """An open occurrence with what the messages need, as plain values."""

    occurrence_id: int
    org: str
    measure: str
    period: int
    kind: str  # due | progress | opened
    due: dt.date
    titles: dict[str, str]
    completion_form: str
    completion_kind: str
    executor_roles: tuple[str, ...]
    unit_roles: tuple[str, ...]
    external_party: str | None = None
    external: bool = False
    completion_forms: dict[str, str] = field(default_factory=dict)  # ru/en translations, when known


def responsible_for(m: Any, roles: set[str], *, external: bool = False) -> bool:
    """Whether a measure (row or value with executor_roles, unit_roles, external_dependency) is
    one of these roles' to complete; with `external`, the ESG office's view: also the measures
    with no internal executor, which it follows up (as the planner routes them)."""
    named = set(m.executor_roles) | set(m.unit_roles)
    return bool(named & roles) or (external and bool(m.external_dependency) and not m.executor_roles)


def open_item(occ: Any, m: Any) -> OpenItem:
    """An occurrence (row or tuple with id, org, period, kind, due_at) and its measure row."""
    return OpenItem(
        occurrence_id=occ.id, org=occ.org, measure=m.code, period=occ.period, kind=occ.kind,
        due=local_date(occ.due_at),
        titles={"kk": m.title, "ru": m.title_ru or m.title, "en": m.title_en or m.title},
        completion_form=m.completion_form, completion_kind=m.completion_kind,
        executor_roles=tuple(m.executor_roles), unit_roles=tuple(m.unit_roles),
        external_party=m.external_party, external=m.external_dependency,
        completion_forms={lang: text for lang in ("ru", "en")
                          if (text := getattr(m, f"completion_form_{lang}", ""))},
    )


class StepKind(StrEnum):
    REMINDER = "reminder"      # before the due date
    ESCALATION = "escalation"  # after it, up the ladder
    ALERT = "alert"            # outside the ladder: an off-track target, a failed flow run


@dataclass(frozen=True)
class Step:
    id: str
    kind: StepKind  # reminder | escalation
    level: int
    send_on: dt.date
    audience: tuple[str, ...]


@dataclass(frozen=True)
class PlannedItem:
    """One step of one obligation (or one alert) for one recipient: what the message says.
    Stored in the outbox as its payload (plain JSON values: dates as ISO text)."""

    org: str
    occurrence_id: int | None        # None for an alert (an off-track target, a failed flow run)
    measure: str
    titles: dict[str, str]           # language → title
    period: int | None
    occurrence_kind: str             # due | progress | opened, or alert
    due: str | None                  # ISO date; None for an alert
    days: int | None                 # days left (negative: overdue) as of the planning day
    step: str
    kind: StepKind
    level: int
    completion_form: str
    completion_kind: str
    units: dict[str, list[str]]      # language → the responsible units' names
    executors: dict[str, list[str]]  # language → the responsible executors' names
    external_party: str | None
    record_hint: str                 # an operator's instruction (a failed flow); officers get `contact`
    recipient: str
    others_told: tuple[str, ...] = ()
    contact: str = ""                # whom the officer sends the evidence or progress note to
    completion_forms: dict[str, str] = field(default_factory=dict)  # the form in ru/en, when translated
    standing_in_for: str = ""        # a deputy's copy: the name of the person it could not reach

    def payload(self) -> dict[str, Any]:
        return {**asdict(self), "kind": str(self.kind), "others_told": list(self.others_told)}

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> PlannedItem:
        """An item from a stored payload; a key an older payload lacks reads as empty."""
        kind = data.get("kind")
        return cls(
            org=data.get("org") or "", occurrence_id=data.get("occurrence_id"),
            measure=str(data.get("measure") or ""), titles=dict(data.get("titles") or {}),
            period=data.get("period"), occurrence_kind=data.get("occurrence_kind") or "",
            due=data.get("due") or None, days=data.get("days"), step=str(data.get("step") or ""),
            kind=StepKind(kind) if kind in tuple(StepKind) else StepKind.REMINDER,
            level=int(data.get("level") or 0), completion_form=data.get("completion_form") or "",
            completion_kind=data.get("completion_kind") or "", units=_by_language(data.get("units")),
            executors=_by_language(data.get("executors")), external_party=data.get("external_party"),
            record_hint=data.get("record_hint") or "", recipient=str(data.get("recipient") or ""),
            others_told=tuple(data.get("others_told") or ()), contact=str(data.get("contact") or ""),
            completion_forms=dict(data.get("completion_forms") or {}),
            standing_in_for=str(data.get("standing_in_for") or ""),
        )


def _by_language(value: object) -> dict[str, list[str]]:
    """Names per language; a plain list (an older payload) stands for every language."""
    if isinstance(value, Mapping):
        return {str(lang): [str(n) for n in names] for lang, names in value.items()}
    if isinstance(value, list | tuple):
        return {lang: [str(n) for n in value] for lang in LANGS}
    return {}


@dataclass
class Plan:
    items: list[PlannedItem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def recipients(self) -> set[str]:
        return {item.recipient for item in self.items}


def _shift(day: dt.date, how: str) -> dt.date:
    if how == "before":
        return previous_business_day(day)
    if how == "after":
        return next_business_day(day)
    return day


def steps_for(item: OpenItem, policy: Policy) -> tuple[Step, ...]:
    """The whole ladder of an occurrence, each step with its (business-day) send date."""
    return _ladder(item.due, item.kind == OccurrenceKind.PROGRESS, policy)


@lru_cache(maxsize=4096)
def _ladder(due: dt.date, progress: bool, policy: Policy) -> tuple[Step, ...]:
    # Many occurrences share a due date (31 December): their ladders are computed once.
    steps = [
        Step(f"remind-{days}", StepKind.REMINDER, 0,
             _shift(due - dt.timedelta(days=days), policy.reminders_shift), policy.reminder_to)
        for days in policy.reminder_days
    ]
    for index, level in enumerate(policy.levels, start=1):
        nominal = due + dt.timedelta(days=level.after_days)
        steps.append(Step(f"escalate-{level.after_days}", StepKind.ESCALATION, index,
                          _shift(nominal, policy.escalations_shift), level.to))
    if policy.levels and not progress:  # progress check-ins do not repeat at the top
        top, index = policy.levels[-1], len(policy.levels)
        for n in range(1, policy.repeat_max + 1):
            nominal = due + dt.timedelta(days=top.after_days + n * policy.repeat_every)
            steps.append(Step(f"escalate-{top.after_days}-r{n}", StepKind.ESCALATION, index,
                              _shift(nominal, policy.escalations_shift), top.to))
    return tuple(sorted(steps, key=lambda s: (s.send_on, s.kind == StepKind.ESCALATION, s.level)))


def current_step(item: OpenItem, policy: Policy, as_of: dt.date) -> Step | None:
    """The latest step that has come due by as_of: reminders only until the due date,
    escalations only after it."""
    return step_on(item.due, item.kind, policy, as_of)


def step_on(due: dt.date, occurrence_kind: str, policy: Policy, as_of: dt.date) -> Step | None:
    """current_step for any occurrence of this kind due on this date: it depends on nothing
    else, which is what lets the daily pass claim steps in SQL (see steps_due_on)."""
    latest = None
    for step in _ladder(due, occurrence_kind == OccurrenceKind.PROGRESS, policy):
        if step.send_on > as_of:
            break
        if step.kind == StepKind.REMINDER and as_of > due:
            continue
        if step.kind == StepKind.ESCALATION and as_of <= due:
            continue
        latest = step
    return latest


def steps_due_on(as_of: dt.date, first_due: dt.date, last_due: dt.date, occurrence_kinds: Iterable[str],
                 policy: Policy) -> list[tuple[dt.date, str, Step]]:
    """(due date, occurrence kind, step) for every due date in [first_due, last_due] whose
    current step on as_of exists: the whole plan of a day, a few hundred rows at most,
    whatever the number of occurrences."""
    out = []
    day = first_due
    while day <= last_due:
        for kind in occurrence_kinds:
            step = step_on(day, kind, policy, as_of)
            if step is not None:
                out.append((day, kind, step))
        day += dt.timedelta(days=1)
    return out


def step_by_id(due: dt.date, occurrence_kind: str, step_id: str, policy: Policy) -> Step | None:
    """A step of an occurrence's ladder by its id (None if the policy no longer has it)."""
    return next((s for s in _ladder(due, occurrence_kind == OccurrenceKind.PROGRESS, policy) if s.id == step_id), None)


def plan(items: list[OpenItem], directory: Directory, policy: Policy, *, sent: set[tuple[int, str]],
         as_of: dt.date, role_names: dict[str, dict[str, str]] | None = None,
         working_days_only: bool = False) -> Plan:
    """Messages due on as_of, one item per (occurrence, step, recipient), never one already sent.
    With working_days_only, nothing is planned on a weekend or holiday (the scheduled run
    never fires then; a manual run on such a day still plans)."""
    result = Plan()
    if working_days_only and not is_business_day(as_of):
        return result
    names = role_names or {}
    for item in items:
        step = current_step(item, policy, as_of)
        if step is None or (item.occurrence_id, step.id) in sent:
            continue
        result.items += fan_out(item, step, directory, policy, as_of=as_of, role_names=names,
                                warnings=result.warnings)
    return result


def fan_out(item: OpenItem, step: Step, directory: Directory, policy: Policy, *, as_of: dt.date,
            role_names: dict[str, dict[str, str]], warnings: list[str]) -> list[PlannedItem]:
    """One step of one occurrence → one item per recipient (who else was told rides along)."""
    people = _recipients(item, step, directory, policy, warnings)
    shared = replace(_shared(item, step, as_of, role_names),  # the same for every recipient of the step
                     contact=office_contact(directory, policy))
    return [replace(shared, recipient=pid, others_told=tuple(
                _label(directory, other, roles, role_names, directory.person(pid).language)
                for other, roles in people.items() if other != pid))
            for pid in people]


def office_contact(directory: Directory, policy: Policy) -> str:
    """The ESG office as an officer writes to it: its holder's name and email."""
    office = directory.holder(policy.esg_office)
    if office is None:
        return ""
    return f"{office.name} <{office.email}>" if office.email else office.name


def _audience_roles(item: OpenItem, step: Step, directory: Directory, policy: Policy) -> list[str]:
    if step.kind == StepKind.ESCALATION and item.kind == OccurrenceKind.PROGRESS:
        return list(policy.progress_escalate_to)
    executors = list(item.executor_roles) or (list(policy.external_route_to) if item.external else [])
    units = list(item.unit_roles) or (list(policy.external_route_to) if item.external else [])
    tokens = list(step.audience)
    if step.kind == StepKind.ESCALATION and policy.cumulative:
        tokens += ["executors", "units"]
    roles: list[str] = []
    for token in tokens:
        if token == "executors":
            roles += executors
        elif token == "units":
            roles += units
        elif token == "superiors":
            roles += [s for r in (executors or units) if (s := directory.superior_of(r))]
        else:
            roles.append(token)
    return list(dict.fromkeys(roles))


def _recipients(item: OpenItem, step: Step, directory: Directory, policy: Policy,
                warnings: list[str]) -> dict[str, list[str]]:
    """person id → the roles through which they get this step (one entry per person)."""
    people: dict[str, list[str]] = {}
    for role in _audience_roles(item, step, directory, policy):
        person = directory.holder(role)
        if person is None:
            warnings.append(f"{item.measure} {item.period}: role {role!r} has no holder; "
                            f"routed to {policy.esg_office}")
            person = directory.holder(policy.esg_office)
            if person is None:
                warnings.append(f"{item.measure} {item.period}: nobody holds {policy.esg_office!r}")
                continue
        people.setdefault(person.id, []).append(role)
    return people


def _label(directory: Directory, person_id: str, roles: list[str], names: dict[str, dict[str, str]],
           lang: str) -> str:
    """Another recipient as this one reads it: a name and the roles' names in their language."""
    return f"{directory.person(person_id).name_in(lang)} ({'; '.join(role_names_in(roles, names, lang))})"


def role_names_in(roles: Iterable[str], names: dict[str, dict[str, str]], lang: str) -> list[str]:
    """Role ids as the roles' names in one language (models.store.measures.role_names already
    falls back to the Kazakh name); a role the names lack keeps its id."""
    return [names.get(r, {}).get(lang) or r for r in roles]


def names_by_language(roles: tuple[str, ...], names: dict[str, dict[str, str]]) -> dict[str, list[str]]:
    return {lang: role_names_in(roles, names, lang) for lang in LANGS}


def _shared(item: OpenItem, step: Step, as_of: dt.date, names: dict[str, dict[str, str]]) -> PlannedItem:
    """What every recipient's item of this step says; recipient and others_told are set per person."""
    return PlannedItem(
        org=item.org, occurrence_id=item.occurrence_id, measure=item.measure,
        titles=dict(item.titles), period=item.period, occurrence_kind=item.kind,
        due=item.due.isoformat(), days=(item.due - as_of).days, step=step.id,
        kind=step.kind, level=step.level, completion_form=item.completion_form,
        completion_kind=item.completion_kind, completion_forms=dict(item.completion_forms),
        units=names_by_language(item.unit_roles, names), executors=names_by_language(item.executor_roles, names),
        external_party=item.external_party,
        record_hint="", recipient="",
    )
