"""The daily planning pass without Prefect: refresh occurrences, claim the steps due, in SQL
(models/store/claims.py), one commit per batch of organisations. Delivery fans each claimed
notice out to its recipients (notifications/fanout.py). The dry run plans the same steps in
Python, item by item.

The flow, the CLI's dry run and the benchmarks all call these functions; Prefect only
orchestrates them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session

from config.settings import Settings
from flows.usecases.targets import target_alerts
from models.core.directory import Directory, load_directory
from models.core.escalation import OpenItem, Plan, PlannedItem, plan
from models.core.policy import Policy, load_policy
from models.core.schedule import is_business_day
from models.store import claims, occurrences
from models.store.db import session_scope
from models.store.measures import org_codes, role_names_of
from notifications.enqueue import enqueue


def load_policy_for(settings: Settings) -> Policy:
    """The policy the settings name (ESGTRACK_POLICY), else the shipped one."""
    return load_policy(settings.resolved_policy)


def load_directory_for(settings: Settings) -> Directory:
    """The directory the settings name, else the loaded copy, else the shipped example."""
    return load_directory(settings.resolved_directory)


@dataclass
class BatchResult:
    orgs: list[str]
    claimed: int = 0      # steps (notices) newly claimed
    alerts: int = 0       # target alert rows newly claimed in the outbox
    recipients: int = 0
    occurrences: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    items: list[PlannedItem] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"orgs": len(self.orgs), "claimed": self.claimed,
                "alerts": self.alerts, "recipients": self.recipients,
                "occurrences": self.occurrences, "warnings": self.warnings}


def plan_batch(engine: Engine, *, orgs: list[str], as_of: dt.date, settings: Settings,
               directory: Directory, policy: Policy, now: dt.datetime, claim: bool = True,
               working_days_only: bool = False) -> BatchResult:
    """One batch of organisations: refresh, then claim the target alerts and the day's steps
    (in SQL, last), in one commit. With claim=False it is the dry run: the steps are planned
    in Python, item by item with their recipients, and the session is rolled back."""
    result = BatchResult(orgs=list(orgs))
    with Session(engine, expire_on_commit=False) as session:
        try:
            ladder = claim and bool(orgs) and bool(claims.day_ladder(policy, as_of))
            if ladder:
                claims.with_ladder(engine, session, policy=policy, as_of=as_of, now=now)
            result.occurrences = occurrences.refresh_stale(session, orgs=orgs, now=now)
            if not claim:
                planned = plan_orgs(session, orgs=orgs, as_of=as_of, directory=directory,
                                    policy=policy, working_days_only=working_days_only)
                result.items = planned.items
                result.warnings = sorted(set(planned.warnings))
                result.recipients = len(planned.recipients())
                session.rollback()
                return result
            if not (working_days_only and not is_business_day(as_of)):
                alerts = target_alerts(session, orgs=orgs, as_of=as_of, directory=directory,
                                        policy=policy)
                result.warnings = sorted(set(alerts.warnings))
                if alerts.items:
                    result.alerts = enqueue(session, items=alerts.items, directory=directory,
                                            settings=settings, now=now)
                if ladder:
                    result.claimed = claims.claim_steps(session, orgs=orgs, as_of=as_of, policy=policy, now=now)
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return result


def plan_orgs(session: Session, *, orgs: list[str], as_of: dt.date, directory: Directory, policy: Policy,
              working_days_only: bool = False) -> Plan:
    start, end = claims.ladder_window(policy, as_of)
    items = occurrences.open_items(session, orgs=orgs, start=start, end=end)
    sent = claims.sent_steps(session, orgs=orgs)
    names = role_names_of(session, orgs=orgs)
    by_org: dict[str, list[OpenItem]] = {}
    for item in items:
        by_org.setdefault(item.org, []).append(item)
    combined = Plan()
    for org, mine in by_org.items():
        part = plan(mine, directory, policy, sent=sent, as_of=as_of,
                    role_names=names[org], working_days_only=working_days_only)
        combined.items += part.items
        combined.warnings += part.warnings
    alerts = target_alerts(session, orgs=orgs, as_of=as_of, directory=directory, policy=policy,
                            working_days_only=working_days_only)
    combined.items += alerts.items
    combined.warnings += alerts.warnings
    return combined


def batches(items: list[str], size: int) -> list[list[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def all_orgs(engine: Engine, org: str | None = None) -> list[str]:
    with session_scope(engine) as session:
        return org_codes(session, org=org)


def dry_run(engine: Engine, *, as_of: dt.date, org: str | None, settings: Settings, now: dt.datetime
            ) -> BatchResult:
    """The day's pass planned in Python and not claimed: every item with its recipient, for
    all organisations (or one) in one batch; nothing is written."""
    return plan_batch(engine, orgs=all_orgs(engine, org), as_of=as_of, settings=settings,
                      directory=load_directory_for(settings), policy=load_policy_for(settings), now=now,
                      claim=False)
