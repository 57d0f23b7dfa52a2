"""Recorded events on occurrences: complete, reopen, reschedule, waive, open. Each changes the
occurrence and appends its ledger entry in one session: the functions taking a session
compose (the demo records a history, the tests a crash before commit), and each use case
(record_completion, …) runs one of them in a session_scope of its own, which commits both
or neither."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.core import evidence_rules
from models.core import ledger as L
from models.core.errors import InputError
from models.core.evidence_rules import Evidence
from models.core.ledger import iso_utc
from models.core.roadmap import CompletionKind
from models.core.schedule import OccurrenceKind, OccurrenceStatus, end_of_day, local_date
from models.evidence import store as evidence_store
from models.store import ledger as ledger_store
from models.store.db import session_scope
from models.store.occurrences import OccurrenceRef, open_occurrence, select_occurrence
from models.store.tables import LedgerEntry, MeasureRow, OccurrenceRow


@dataclass(frozen=True)
class Recorded:
    occurrence: OccurrenceRow
    measure: MeasureRow
    entry: LedgerEntry


def _label(occ: OccurrenceRow, m: MeasureRow) -> str:
    suffix = f" ({occ.kind} #{occ.seq + 1})" if occ.kind == OccurrenceKind.OPENED else (
        " (progress check-in)" if occ.kind == OccurrenceKind.PROGRESS else "")
    return f"{m.code} {occ.period}{suffix}"


def _require(text: str | None, option: str, what: str) -> str:
    if text is None or not text.strip():
        raise InputError(f"give {option} ({what})", field=option)
    return text.strip()


def _in_status(session: Session, ref: OccurrenceRef, statuses: tuple[str, ...], hint: str
               ) -> tuple[OccurrenceRow, MeasureRow]:
    """The occurrence meant, under the chain's lock, if its status is one the event applies to;
    else bad input saying what it is and `hint`."""
    ledger_store.lock(session, org=ref.org)
    occ, m = select_occurrence(session, ref=ref, statuses=statuses)
    if occ.status not in statuses:
        when = f" on {local_date(occ.completed_at)}" if occ.completed_at else ""
        raise InputError(f"{_label(occ, m)} is {occ.status}{when}: {hint}", field="MEASURE", value=m.code)
    return occ, m


def append_event(session: Session, occ: OccurrenceRow, m: MeasureRow, *, event: str, actor: str,
            now: dt.datetime, data: dict[str, Any]) -> LedgerEntry:
    occ.updated_at = now
    session.add(occ)
    session.flush()
    occurrence = {"kind": occ.kind, "seq": occ.seq, "due": local_date(occ.due_at).isoformat(),
                  "planned_due": local_date(occ.planned_due_at).isoformat()}
    return ledger_store.append(session, org=occ.org, event=event, actor=actor, at=now,
                               measure=m.code, period=occ.period, occurrence_id=occ.id,
                               data={"occurrence": occurrence, **data})


def checked_evidence(occ: OccurrenceRow, m: MeasureRow, evidence: Evidence, *, names: list[str],
                     now: dt.datetime) -> Evidence:
    """The evidence with its files' names, if it fits the measure's completion form (a progress
    check-in's own rule for its yearly update); else InputError naming what is missing. The CLI's
    `complete` and the portal's submissions both check through here."""
    evidence = replace(evidence, files=tuple(names))
    evidence_rules.check(CompletionKind(m.completion_kind), evidence, measure=m.code,
                         today=local_date(now), progress=occ.kind == OccurrenceKind.PROGRESS)
    return evidence


def complete(session: Session, *, ref: OccurrenceRef, actor: str, evidence: Evidence,
             files: list[Path], store_root: Path, now: dt.datetime,
             completed_on: dt.date | None = None, stored_files: tuple[dict, ...] = (),
             extra: dict[str, Any] | None = None) -> Recorded:
    """Record a completion: the evidence must fit the measure's completion form; files are
    copied into the evidence store (after validation, before the commit). `completed_on`
    back-fills one done earlier (not in the future): it is judged late or on time by that day,
    and the entry keeps both that day and when, and by whom, it was entered. `stored_files`
    are already in the store (a portal submission's); `extra` joins the entry's data."""
    actor = _require(actor, "--by", "who records it")
    if completed_on is not None and completed_on > local_date(now):
        raise InputError(f"the completion date is after today ({local_date(now)})", field="--completed-on",
                         value=completed_on.isoformat())
    evidence_store.check_readable(files)
    occ, m = _in_status(session, ref, (OccurrenceStatus.OPEN,), "reopen it first (esgtrack reopen) to record it again")
    evidence = checked_evidence(occ, m, evidence, names=[p.name for p in files] + [f["name"] for f in stored_files],
                                now=now)
    stored = [*stored_files, *(evidence_store.store(store_root, path).as_dict() for path in files)]
    done_at = now if completed_on is None or completed_on == local_date(now) else end_of_day(completed_on)
    occ.status, occ.completed_at, occ.late = OccurrenceStatus.DONE, done_at, done_at > occ.due_at
    late_days = (local_date(done_at) - local_date(occ.due_at)).days if occ.late else 0
    data: dict[str, object] = {"completion_form": m.completion_form, "completion_kind": m.completion_kind,
                               "late": occ.late, "days_late": late_days,
                               "evidence": {**evidence.as_dict(), "files": stored}}
    if done_at != now:  # back-filled: the entry's time is when it was entered
        data.update(completed_on=completed_on.isoformat() if completed_on else None, completed_at=iso_utc(done_at))
    data.update(extra or {})
    return Recorded(occ, m, append_event(session, occ, m, event=L.COMPLETED, actor=actor, now=now, data=data))


def reopen(session: Session, *, ref: OccurrenceRef, actor: str, reason: str,
           now: dt.datetime) -> Recorded:
    """Undo a completion or a waiver: the occurrence is open again (reminders resume)."""
    actor, reason = _require(actor, "--by", "who reopens it"), _require(reason, "--reason", "why")
    occ, m = _in_status(session, ref, (OccurrenceStatus.DONE, OccurrenceStatus.WAIVED),
                        "only a done or waived occurrence can be reopened")
    data = {"reason": reason, "previous_status": occ.status,
            "previous_completed_at": iso_utc(occ.completed_at) if occ.completed_at else None}
    occ.status, occ.completed_at, occ.late = OccurrenceStatus.OPEN, None, None
    return Recorded(occ, m, append_event(session, occ, m, event=L.REOPENED, actor=actor, now=now, data=data))


def reschedule(session: Session, *, ref: OccurrenceRef, actor: str, to: dt.date, reason: str,
               approved_by: str, now: dt.datetime, backdate: str | None = None,
               extra: dict[str, Any] | None = None) -> Recorded:
    """Move an open occurrence's deadline (the roadmap's deadlines carry an asterisk: they
    can move with approval). A later roadmap import keeps the new date. A date in the past
    needs `backdate`, the reason it is set after the fact; none may precede the period."""
    actor, reason = _require(actor, "--by", "who records it"), _require(reason, "--reason", "why")
    approved_by = _require(approved_by, "--approved-by", "who approved the new date")
    occ, m = _in_status(session, ref, (OccurrenceStatus.OPEN,), "only an open occurrence can be rescheduled")
    old = local_date(occ.due_at)
    if to == old:
        raise InputError(f"{_label(occ, m)} is already due on {old}", field="--to", value=to.isoformat())
    if to < dt.date(occ.period, 1, 1):
        raise InputError(f"{_label(occ, m)} cannot fall due before its period starts ({occ.period}-01-01)",
                         field="--to", value=to.isoformat())
    backdated = to < local_date(now)
    if backdated and not (backdate or "").strip():
        raise InputError(f"{to} is in the past: give --backdate REASON to set a deadline after the fact",
                         field="--to", value=to.isoformat())
    occ.due_at, occ.rescheduled = end_of_day(to), True
    data = {"from": old.isoformat(), "to": to.isoformat(), "reason": reason, "approved_by": approved_by}
    if backdated:
        data["backdate"] = (backdate or "").strip()
    data.update(extra or {})
    return Recorded(occ, m, append_event(session, occ, m, event=L.RESCHEDULED, actor=actor, now=now, data=data))


def waive(session: Session, *, ref: OccurrenceRef, actor: str, reason: str, approved_by: str,
          now: dt.datetime, not_applicable: bool = False) -> Recorded:
    """Close an open occurrence without completing it: waived, or not applicable this period."""
    actor, reason = _require(actor, "--by", "who records it"), _require(reason, "--reason", "why")
    approved_by = _require(approved_by, "--approved-by", "who approved it")
    occ, m = _in_status(session, ref, (OccurrenceStatus.OPEN,), "only an open occurrence can be waived")
    occ.status, occ.completed_at, occ.late = OccurrenceStatus.WAIVED, None, None
    data = {"ground": "not_applicable" if not_applicable else "waived", "reason": reason,
            "approved_by": approved_by}
    return Recorded(occ, m, append_event(session, occ, m, event=L.WAIVED, actor=actor, now=now, data=data))


def open_as_needed(session: Session, *, org: str, code: str, due: dt.date, actor: str, reason: str,
                   now: dt.datetime) -> Recorded:
    """Open an occurrence of an as-needed measure (e.g. a Board training when it is needed),
    with its ledger entry."""
    occ = open_occurrence(session, org=org, code=code, due=due, now=now)
    actor = _require(actor, "--by", "who opens it")
    m = session.get(MeasureRow, occ.measure_id)
    assert m is not None  # open_occurrence has just read it, in this transaction
    return Recorded(occ, m, append_event(session, occ, m, event=L.OCCURRENCE_OPENED, actor=actor, now=now,
                                    data={"reason": reason.strip()}))


# --- the use cases: each event in a transaction of its own --------------------------------

P = ParamSpec("P")
R = TypeVar("R")


def _own_transaction(event: Callable[Concatenate[Session, P], R]) -> Callable[Concatenate[Engine, P], R]:
    @functools.wraps(event)
    def use_case(engine: Engine, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with session_scope(engine) as session:
            return event(session, *args, **kwargs)
    return use_case


record_completion = _own_transaction(complete)
reopen_occurrence = _own_transaction(reopen)
reschedule_occurrence = _own_transaction(reschedule)
waive_occurrence = _own_transaction(waive)
open_occurrence_as_needed = _own_transaction(open_as_needed)
