"""What auditors read: a database's chains verified (with the evidence store and the
occurrences' states), the log as rows, and the contents of an evidence pack."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.core.evidence_rules import numbered
from models.core.ledger import (
    ROADMAP_IMPORTED,
    TARGET_READING,
    TARGET_SET,
    Entry,
    VerifyResult,
    disagreement,
    iso_utc,
    state_from_events,
    verify_chain,
)
from models.core.schedule import OccurrenceKind, OccurrenceStatus, local_date
from models.core.targets import parse_direction
from models.evidence import store as evidence_store
from models.store import ledger as ledger_store
from models.store import targets as trepo
from models.store.occurrences import planned_deadlines
from models.store.tables import (
    MeasureRow,
    OccurrenceRow,
    RoadmapEdition,
    TargetReadingRow,
    TargetRow,
    UTCDateTime,
    stored_id,
)

# --- verification ------------------------------------------------------------------------


def verify_org(session: Session, *, org: str, store_root: Path, anchor: str | None = None,
               files: bool = True) -> VerifyResult:
    """The organisation's chain, then its evidence files, then whether every done or waived
    occurrence has the ledger entry that made it so (which also catches a chain cut short)."""
    entries = list(ledger_store.chain(session, org=org))
    result = verify_chain(entries, org=org, anchor=anchor)
    if not result.ok:
        return result
    if files:
        for seq, file in result.evidence:
            problem = evidence_store.problem(store_root, file)
            if problem:
                return result.fail(seq, f"entry {seq}: {problem}")
    mismatch = (_state_problem(session, org=org, entries=entries, last=result.head_seq)
                or _target_problem(session, org=org, entries=entries, last=result.head_seq))
    return result.fail(*mismatch) if mismatch else result


DEFINED = ("unit", "direction", "baseline_year", "baseline_value", "target_year", "target_value", "milestones")


def _target_problem(session: Session, *, org: str, entries: list[Entry], last: int) -> tuple[int, str] | None:
    """The first target or reading that disagrees with the ledger: a reading each
    `target_reading` entry records (year, value, who), a definition as the last entry that set
    it left it (`target_set`, or a roadmap import that created or changed it), or, with neither
    (a database older than these records), as the roadmap states it; and no target an entry
    defined is gone."""
    readings = {e.data.get("reading_id"): e for e in entries if e.event == TARGET_READING}
    defined: dict[Any, tuple[Entry, dict[str, Any]]] = {}  # target id → the last entry defining it
    for e in entries:
        if e.event == TARGET_SET:
            defined[e.data.get("target_id")] = (e, e.data.get("definition") or {})
        elif e.event == ROADMAP_IMPORTED:
            for t in e.data.get("targets") or []:
                defined[t.get("target_id")] = (e, t.get("definition") or {})
    stored = session.exec(select(TargetReadingRow).where(TargetReadingRow.org == org)
                          .order_by(col(TargetReadingRow.id))).all()
    for row in stored:
        entry = readings.pop(row.id, None)
        what = f"target reading {row.id} ({row.year} = {row.value:g})"
        if entry is None:
            return last + 1, (f"{what} has no ledger entry: it was added outside esgtrack, or entries after "
                              f"{last} were deleted")
        said = entry.data
        for name, found in (("year", row.year), ("value", row.value), ("actor", row.actor)):
            expected = entry.actor if name == "actor" else said.get(name)
            if expected != found:
                return entry.seq, f"{what}: {name} is {found} but entry {entry.seq} says {expected}"
    if readings:
        entry = min(readings.values(), key=lambda e: e.seq)
        return entry.seq, f"entry {entry.seq} records target reading {entry.data.get('reading_id')}, which is gone"
    pairs = session.exec(select(TargetRow, MeasureRow).join(MeasureRow, col(TargetRow.measure_id) == MeasureRow.id)
                         .where(TargetRow.org == org).order_by(col(TargetRow.id))).all()
    for target, measure in pairs:
        now = trepo.definition(target)
        entry, expected = defined.pop(target.id, (None, _stated(measure, target)))
        what = f"target {measure.code} {target.metric}"
        for name in DEFINED:
            if expected.get(name) != now[name]:
                if entry is None:
                    return last + 1, (f"{what}: {name} is {now[name]} but the roadmap states {expected.get(name)} "
                                      "and no ledger entry records a change")
                return entry.seq, f"{what}: {name} is {now[name]} but entry {entry.seq} says {expected.get(name)}"
    if defined:
        entry, gone = min(defined.values(), key=lambda pair: pair[0].seq)
        return entry.seq, (f"target {gone.get('metric')} that entry {entry.seq} defines is gone: deleted outside "
                           "esgtrack")
    return None


def _stated(measure: MeasureRow, target: TargetRow) -> dict[str, Any]:
    """A target's definition as the roadmap states it (what an import seeds)."""
    stated = measure.target or {}
    if stated.get("metric") != target.metric or stated.get("year") is None:
        return {}
    return {"unit": stated.get("unit") or "", "direction": parse_direction(stated.get("direction") or "at_least"),
            "baseline_year": None, "baseline_value": None, "target_year": int(stated["year"]),
            "target_value": float(stated["value"]), "milestones": []}


def _state_problem(session: Session, *, org: str, entries: list[Entry], last: int
                   ) -> tuple[int, str] | None:
    """The first occurrence (by id) whose status, completion time, lateness, rescheduling or
    due date disagrees with what its ledger entries say, as (entry to blame, message)."""
    said = state_from_events(entries)
    plans = planned_deadlines(session, org=org)
    rows = session.exec(select(OccurrenceRow, MeasureRow.code)
                        .join(MeasureRow, col(OccurrenceRow.measure_id) == MeasureRow.id)
                        .where(OccurrenceRow.org == org).order_by(col(OccurrenceRow.id)))
    for occ, code in rows:
        schedule = _schedule_problem(occ, plans)
        if schedule is not None:
            return last + 1, (f"occurrence {occ.id} ({code} {occ.period}): {schedule}, and no ledger entry "
                              "records it: the occurrence was changed outside esgtrack")
        facts = said.get(stored_id(occ))
        found = disagreement(facts, status=occ.status, late=occ.late, rescheduled=occ.rescheduled,
                             completed_at=iso_utc(occ.completed_at) if occ.completed_at else None,
                             due=local_date(occ.due_at).isoformat(),
                             planned_due=local_date(occ.planned_due_at).isoformat())
        if found is None:
            continue
        field, expected, stored, seq = found
        what = f"occurrence {occ.id} ({code} {occ.period})"
        if field == "status":
            what = f"{what} is {occ.status}"
            if seq is None or stored in (OccurrenceStatus.DONE, OccurrenceStatus.WAIVED):
                return last + 1, (f"{what} but no ledger entry records it: entries after {last} "
                                  "were deleted, or the occurrence was changed outside esgtrack")
            return seq, f"{what} but entry {seq} made it {expected}: the occurrence was changed outside esgtrack"
        if seq is None and field == "due":
            return last + 1, (f"{what}: due is {stored} but the roadmap plans {expected} and no ledger entry "
                              "records a reschedule: the occurrence was changed outside esgtrack")
        if seq is None:
            return last + 1, (f"{what}: {field} is {stored} but no ledger entry records it: entries after "
                              f"{last} were deleted, or the occurrence was changed outside esgtrack")
        return seq, (f"{what}: {field} is {stored} but entry {seq} says {expected}: the occurrence was "
                     "changed outside esgtrack")
    return None


def _schedule_problem(occ: OccurrenceRow, plans: dict[tuple[int, int, str, int], dt.datetime]) -> str | None:
    """Whether an occurrence disagrees with the deadlines its measure's roadmap plans: one it
    plans is not withdrawn, one withdrawn is no longer planned, and its planned date is the plan's."""
    if occ.kind == OccurrenceKind.OPENED:
        return None  # opened by hand: its entry is checked instead
    plan = plans.get((occ.measure_id, occ.period, occ.kind, occ.seq))
    if plan is None:
        return None if occ.status in (OccurrenceStatus.WITHDRAWN, OccurrenceStatus.DONE, OccurrenceStatus.WAIVED) \
            else "it is open but the roadmap no longer plans it"
    if occ.status == OccurrenceStatus.WITHDRAWN:
        return "it is withdrawn but the roadmap plans it"
    if local_date(occ.planned_due_at) != local_date(plan) and occ.status == OccurrenceStatus.OPEN:
        return f"planned due is {local_date(occ.planned_due_at)} but the roadmap plans {local_date(plan)}"
    return None


# --- the log as rows ---------------------------------------------------------------------

LOG_COLUMNS = ["org", "seq", "at", "event", "actor", "measure", "period", "occurrence_id",
               "summary", "evidence_ref", "evidence_date", "valid_until", "files", "sha256",
               "urls", "note", "reason", "approved_by", "late", "hash", "prev_hash"]


def log_row(entry: Entry) -> dict[str, Any]:
    data = entry.data
    evidence = data.get("evidence") or {}
    files = evidence.get("files") or []
    return {
        "org": entry.org, "seq": entry.seq, "at": entry.at, "event": entry.event,
        "actor": entry.actor, "measure": entry.measure, "period": entry.period,
        "occurrence_id": entry.occurrence_id, "summary": summary(entry.event, data),
        "evidence_ref": evidence.get("ref"), "evidence_date": evidence.get("date"),
        "valid_until": evidence.get("valid_until"), "files": [f["name"] for f in files],
        "sha256": [f["sha256"] for f in files], "urls": evidence.get("urls") or [],
        "note": evidence.get("note"), "reason": data.get("reason"),
        "approved_by": data.get("approved_by"), "late": data.get("late"), "hash": entry.hash,
        "prev_hash": entry.prev_hash, "data": data,
    }


def _evidence_parts(ev: dict[str, Any]) -> list[str]:
    parts = [numbered(ev["ref"]) + (f" of {ev['date']}" if ev.get("date") else "")] if ev.get("ref") else []
    parts += [f"valid until {ev['valid_until']}"] if ev.get("valid_until") else []
    parts += [f"{len(ev.get('files') or [])} file(s)"] if ev.get("files") else []
    parts += [f"{len(ev.get('urls') or [])} link(s)"] if ev.get("urls") else []
    return parts


def summary(event: str, data: dict[str, Any]) -> str:
    """One line a person reads in the log."""
    if event == "completed":
        parts = _evidence_parts(data.get("evidence") or {})
        parts += [f"late by {data.get('days_late', 0)} day(s)"] if data.get("late") else ["on time"]
        sub = data.get("submission")
        parts += [f"submitted by {sub.get('by')} (submission #{sub.get('id')})"] if isinstance(sub, dict) else []
        return "; ".join(parts)
    if event == "submitted":
        return "; ".join([f"submission #{data.get('submission')}", *_evidence_parts(data.get("evidence") or {})])
    if event == "reschedule_requested":
        return f"submission #{data.get('submission')}: {data.get('from')} → {data.get('to')}: {data.get('reason')}"
    if event == "returned":
        return f"submission #{data.get('submission')} returned: {data.get('reason')}"
    if event == "links_revoked":
        return f"links of {data.get('person')} revoked: {data.get('reason')}"
    if event == "staff_account":
        return f"{data.get('username')} ({data.get('role')}) {data.get('action')}"
    if event == "rescheduled":
        return f"{data['from']} → {data['to']}, approved by {data['approved_by']}: {data['reason']}"
    if event == "waived":
        ground = "not applicable" if data.get("ground") == "not_applicable" else "waived"
        return f"{ground}, approved by {data['approved_by']}: {data['reason']}"
    if event == "reopened":
        return f"was {data.get('previous_status')}: {data['reason']}"
    if event == "occurrence_opened":
        due = (data.get("occurrence") or {}).get("due")
        return f"due {due}" + (f": {data['reason']}" if data.get("reason") else "")
    if event == "roadmap_imported":
        changed = "changed" if data.get("changed") else "no changes"
        sha = str(data.get("sha256"))[:12]
        return f"edition #{data.get('edition_id')} {data.get('source_name')} sha256 {sha}…, {changed}"
    if event == "target_set":
        d = data.get("definition") or {}
        sign = "≥" if d.get("direction") == "at_least" else "≤"
        approved = f", approved by {data['approved_by']} ({data.get('decision')})" if data.get("approved_by") else ""
        return (f"{d.get('metric')} {sign} {d.get('target_value')}{d.get('unit') or ''} by {d.get('target_year')}"
                f"{approved}: {data.get('reason')}")
    if event == "target_reading":  # esgtrack target record (flows/usecases/targets.py)
        ref = (data.get("evidence") or {}).get("ref")
        return f"{data.get('metric')} {data.get('year')} = {data.get('value')}{data.get('unit') or ''}" + (
            f"; {numbered(ref)}" if ref else "")
    return ""


def log_rows(session: Session, *, where: ledger_store.LogFilter) -> list[dict[str, Any]]:
    return [log_row(ledger_store.to_entry(row)) for row in ledger_store.entries(session, where=where)]


# --- the contents of an evidence pack ---------------------------------------------------

NOTIFICATION_COLUMNS = ("id", "org", "occurrence_id", "measure", "step", "kind", "recipient",
                        "channel", "status", "attempts", "masked_target", "subject", "language",
                        "created_at", "sent_at")


def notifications(session: Session, *, org: str, occurrence_ids: list[int]) -> list[dict[str, Any]]:
    """Messages the outbox holds for these occurrences (who was told what, when): the columns
    the outbox has of NOTIFICATION_COLUMNS; [] before the outbox exists."""
    inspector = sa.inspect(session.connection())
    if not occurrence_ids or not inspector.has_table("outbox_message"):
        return []
    present = {c["name"] for c in inspector.get_columns("outbox_message")}
    times = {"created_at", "sent_at"}
    table = sa.table("outbox_message", *(sa.column(c, UTCDateTime()) if c in times else sa.column(c)
                                         for c in NOTIFICATION_COLUMNS if c in present))
    query = (sa.select(table).where(table.c.org == org, table.c.occurrence_id.in_(occurrence_ids))
             .order_by(table.c.occurrence_id, table.c.id))
    return [{k: iso_utc(v) if isinstance(v, dt.datetime) else v for k, v in row._mapping.items()}
            for row in session.execute(query)]


def occurrence_rows(session: Session, *, org: str, period: int) -> list[dict[str, Any]]:
    query = (select(OccurrenceRow, MeasureRow).join(MeasureRow, col(OccurrenceRow.measure_id) == MeasureRow.id)
             .where(OccurrenceRow.org == org, OccurrenceRow.period == period)
             .order_by(col(MeasureRow.position), col(OccurrenceRow.kind), col(OccurrenceRow.seq)))
    return [{"occurrence_id": o.id, "measure": m.code, "aspect": m.aspect, "title": m.title,
             "title_ru": m.title_ru, "title_en": m.title_en, "period": o.period, "kind": o.kind,
             "seq": o.seq, "status": o.status, "due": local_date(o.due_at).isoformat(),
             "planned_due": local_date(o.planned_due_at).isoformat(), "rescheduled": o.rescheduled,
             "completed_at": iso_utc(o.completed_at) if o.completed_at else None, "late": o.late,
             "completion_form": m.completion_form, "completion_kind": m.completion_kind,
             "executors": list(m.executors), "units": list(m.units)}
            for o, m in session.exec(query)]


def editions(session: Session, *, org: str) -> list[dict[str, Any]]:
    rows = session.exec(select(RoadmapEdition).where(RoadmapEdition.org == org)
                        .order_by(col(RoadmapEdition.id)))
    return [{"edition_id": e.id, "title": e.title, "source_name": e.source_name,
             "sha256": e.sha256, "horizon": [e.horizon_start, e.horizon_end],
             "measure_count": e.measure_count, "imported_at": iso_utc(e.imported_at)}
            for e in rows]


def pack_contents(session: Session, *, org: str, period: int) -> dict[str, Any]:
    """Everything an evidence pack holds except the files: plain values (models/evidence/pack.py)."""
    occurrences = occurrence_rows(session, org=org, period=period)
    return {"org": org, "period": period, "occurrences": occurrences,
            "chain": list(ledger_store.chain(session, org=org)),
            "editions": editions(session, org=org),
            "notifications": notifications(session, org=org,
                                           occurrence_ids=[o["occurrence_id"] for o in occurrences])}
