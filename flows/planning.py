"""The daily planning pass without Prefect: refresh occurrences, plan (pure), claim outbox rows.

The flow, the CLI's dry run and the benchmarks all call these functions; Prefect only
orchestrates them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from config import DEFAULT_POLICY
from config.settings import Settings
from models import repository as repo
from models.db import session_scope
from models.escalation import OpenItem, Plan, plan
from models.policy import Policy, load_policy
from models.schedule import end_of_day, local_date
from models.tables import MeasureRow, OccurrenceRow

LOOKBACK_MARGIN_DAYS = 15  # business-day shifts and holidays around the ladder's ends


def load_policy_for(settings: Settings) -> Policy:
    return load_policy(settings.policy or DEFAULT_POLICY)


def load_directory_for(settings: Settings):
    from models.directory import default_directory_path, load_directory

    return load_directory(default_directory_path())


def ladder_window(policy: Policy, as_of: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Due dates whose ladder can have a step on as_of: from the end of the longest
    escalation (with repeats) back, to the earliest reminder ahead."""
    ahead = max(policy.reminder_days, default=0) + LOOKBACK_MARGIN_DAYS
    top = policy.levels[-1].after_days if policy.levels else 0
    behind = top + policy.repeat_every * policy.repeat_max + LOOKBACK_MARGIN_DAYS
    return end_of_day(as_of - dt.timedelta(days=behind)), end_of_day(as_of + dt.timedelta(days=ahead))


def open_items(session: Session, *, orgs: list[str], policy: Policy, as_of: dt.date) -> list[OpenItem]:
    """Open occurrences whose ladder may have a step on as_of, as the planner's plain values.
    Occurrences are read as plain tuples and each measure once: a holding has millions."""
    start, end = ladder_window(policy, as_of)
    query = (
        sa.select(OccurrenceRow.id, OccurrenceRow.org, OccurrenceRow.measure_id,
                  OccurrenceRow.period, OccurrenceRow.kind, OccurrenceRow.due_at)
        .join(MeasureRow, MeasureRow.id == OccurrenceRow.measure_id)
        .where(OccurrenceRow.org.in_(orgs), OccurrenceRow.status == repo.OPEN, MeasureRow.active,
               OccurrenceRow.due_at >= start, OccurrenceRow.due_at <= end)
        .order_by(OccurrenceRow.org, OccurrenceRow.due_at, OccurrenceRow.id)
    )
    rows = session.execute(query).all()
    wanted = {row.measure_id for row in rows}
    measures = {m.id: m for m in session.exec(select(MeasureRow).where(MeasureRow.id.in_(wanted)))} if wanted else {}
    return [to_open_item(row, measures[row.measure_id]) for row in rows]


def to_open_item(occ, m: MeasureRow) -> OpenItem:
    """An occurrence (row or tuple with id, org, period, kind, due_at) and its measure."""
    return OpenItem(
        occurrence_id=occ.id, org=occ.org, measure=m.code, period=occ.period, kind=occ.kind,
        due=local_date(occ.due_at),
        titles={"kk": m.title, "ru": m.title_ru or m.title, "en": m.title_en or m.title},
        completion_form=m.completion_form, completion_kind=m.completion_kind,
        executor_roles=tuple(m.executor_roles), unit_roles=tuple(m.unit_roles),
        external_party=m.external_party, external=m.external_dependency,
    )


def sent_steps(session: Session, *, orgs: list[str]) -> set[tuple[int, str]]:
    """(occurrence id, step) pairs already claimed in the outbox for the occurrence's current
    due date, whatever their delivery state. Steps claimed for a date the occurrence has
    since been rescheduled from do not count: the new deadline gets its own ladder."""
    from models.tables import OutboxMessage as T

    query = (sa.select(T.occurrence_id, T.step, T.payload["due"].as_string(), OccurrenceRow.due_at)
             .join(OccurrenceRow, OccurrenceRow.id == T.occurrence_id)
             .where(T.org.in_(orgs), OccurrenceRow.status == repo.OPEN).distinct())
    return {(occ, step) for occ, step, due, due_at in session.execute(query)
            if due == local_date(due_at).isoformat()}


@dataclass
class BatchResult:
    orgs: list[str]
    planned: int = 0
    claimed: int = 0
    recipients: int = 0
    occurrences: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    items: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"orgs": len(self.orgs), "planned": self.planned, "claimed": self.claimed,
                "recipients": self.recipients, "occurrences": self.occurrences,
                "warnings": self.warnings}


def plan_batch(engine: Engine, *, orgs: list[str], as_of: dt.date, settings: Settings,
               directory, policy: Policy, claim: bool = True, working_days_only: bool = False,
               keep_items: bool = False) -> BatchResult:
    """One batch of organisations: refresh, plan and (unless claim=False) claim, in one commit.
    With claim=False nothing is written: the session is rolled back (the dry run)."""
    result = BatchResult(orgs=list(orgs))
    with Session(engine, expire_on_commit=False) as session:
        try:
            result.occurrences = repo.refresh_stale(session, orgs=orgs)
            planned = plan_orgs(session, orgs=orgs, as_of=as_of, directory=directory, policy=policy,
                                working_days_only=working_days_only)
            result.planned, result.warnings = len(planned.items), sorted(set(planned.warnings))
            result.recipients = len(planned.recipients())
            if keep_items or not claim:
                result.items = planned.items
            if claim and planned.items:
                from notifications.outbox import enqueue

                result.claimed = enqueue(session, items=planned.items, directory=directory,
                                         settings=settings, now=dt.datetime.now(dt.timezone.utc))
            if claim:
                session.commit()
            else:
                session.rollback()
        except BaseException:
            session.rollback()
            raise
    return result


def plan_orgs(session: Session, *, orgs: list[str], as_of: dt.date, directory, policy: Policy,
              working_days_only: bool = False) -> Plan:
    items = open_items(session, orgs=orgs, policy=policy, as_of=as_of)
    sent = sent_steps(session, orgs=orgs)
    names = repo.role_names_of(session, orgs=orgs)
    by_org: dict[str, list[OpenItem]] = {}
    for item in items:
        by_org.setdefault(item.org, []).append(item)
    combined = Plan()
    for org, mine in by_org.items():
        part = plan(mine, directory, policy, sent=sent, as_of=as_of,
                    role_names=names[org], working_days_only=working_days_only)
        combined.items += part.items
        combined.warnings += part.warnings
    from flows.targets import target_alerts  # off-track targets → the ESG office, executors

    alerts = target_alerts(session, orgs=orgs, as_of=as_of, directory=directory, policy=policy,
                           working_days_only=working_days_only)
    combined.items += alerts.items
    combined.warnings += alerts.warnings
    return combined


def batches(items: list[str], size: int) -> list[list[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def all_orgs(engine: Engine, org: str | None = None) -> list[str]:
    with session_scope(engine) as session:
        return repo.org_codes(session, org=org)
