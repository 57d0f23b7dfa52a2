"""Target use cases: set a target, record a reading (with its ledger event), list targets."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from config.settings import Settings
from flows.reports.status import target_views
from models.core.directory import Directory
from models.core.errors import InputError
from models.core.escalation import Plan
from models.core.ledger import TARGET_READING, TARGET_SET
from models.core.policy import Policy
from models.core.target_alerts import offtrack_step, plan_target_alerts
from models.evidence import store as evidence_store
from models.store import ledger as ledger_store
from models.store import outbox as outbox_rows
from models.store import targets as trepo
from models.store.db import session_scope
from models.store.measures import role_names_of
from models.store.tables import TargetReadingRow, TargetRow


@dataclass(frozen=True)
class Recorded:
    target: TargetRow
    reading: TargetReadingRow
    ledger_seq: int
    ledger_hash: str


def set_target(engine: Engine, *, org: str, code: str, given: trepo.TargetInput, actor: str, reason: str,
               now: dt.datetime, approved_by: str | None = None, decision: str | None = None) -> TargetRow:
    """Define or change a target and record its `target_set` ledger entry (the definition
    before and after, who, why, and for what the roadmap states, who approved it and the
    Board decision), in one commit."""
    actor, reason = (actor or "").strip(), (reason or "").strip()
    if not actor:
        raise InputError("say who sets the target", field="--by")
    if not reason:
        raise InputError("say why the target is set or changed", field="--reason")
    if bool((approved_by or "").strip()) != bool((decision or "").strip()):
        raise InputError("give --approved-by and --decision together", field="--decision")
    approval = ((approved_by or "").strip(), (decision or "").strip()) if approved_by and decision else None
    with session_scope(engine) as session:
        row, before = trepo.set_target(session, org=org, code=code, given=given, now=now, approval=approval)
        data = {"target_id": row.id, "definition": trepo.definition(row), "previous": before, "reason": reason,
                "approved_by": approval[0] if approval else None, "decision": approval[1] if approval else None}
        ledger_store.append(session, org=org, event=TARGET_SET, actor=actor, at=now, data=data,
                            measure=code.upper(), period=row.target_year)
        return row


def record_reading(engine: Engine, *, settings: Settings, org: str, code: str, metric: str | None,
                   year: int, value: float, actor: str, evidence_ref: str | None = None,
                   file: Path | None = None, now: dt.datetime) -> Recorded:
    """Store the evidence file first (content-addressed: a crash leaves at most an unreferenced
    file), then the reading and its `target_reading` ledger event in one commit."""

    trepo.check_year(year, "--year")
    trepo.check_value(value, "--value")
    if not (evidence_ref or "").strip() and file is None:
        raise InputError("give the reading's source: --evidence-ref (the document's reference) or --file",
                         field="--evidence-ref")
    stored = None
    if file is not None:
        evidence_store.check_readable([file])
        stored = evidence_store.store(settings.evidence_dir, file)
    with session_scope(engine) as session:
        target = trepo.get_target(session, org=org, code=code, metric=metric)
        reading = trepo.add_reading(session, target=target, year=year, value=value, actor=actor,
                                    evidence_ref=evidence_ref,
                                    evidence_sha256=stored.sha256 if stored else None, recorded_at=now)
        data = {"target_id": target.id, "metric": target.metric, "unit": target.unit,
                "year": year, "value": reading.value, "reading_id": reading.id,
                "evidence": {"ref": evidence_ref, "files": [stored.as_dict()] if stored else []}}
        entry = ledger_store.append(session, org=org, event=TARGET_READING, actor=actor, at=now,
                                    data=data, measure=code.upper(), period=year)
        return Recorded(target, reading, entry.seq, entry.hash)


def target_alerts(session: Session, *, orgs: list[str], as_of: dt.date, directory: Directory, policy: Policy,
                  working_days_only: bool = False) -> Plan:
    """The daily flow's off-track alerts (models.core.target_alerts), minus those already claimed.
    Targets are read only for organisations with a reading; sent steps and role names only
    for the targets off track."""
    # Only a reading puts a target off track: organisations without one are skipped unread.
    with_readings = trepo.orgs_with_readings(session, orgs=orgs)
    views = [v for v in target_views(session, orgs=with_readings, as_of=as_of)
             if offtrack_step(v)] if with_readings else []
    if not views:
        return Plan()
    sent = outbox_rows.steps_claimed(session, steps={step for v in views if (step := offtrack_step(v)) is not None})
    names = role_names_of(session, orgs=sorted({v.org for v in views}))
    return plan_target_alerts(views, directory, policy, as_of=as_of, sent=sent, role_names=names,
                              working_days_only=working_days_only)
