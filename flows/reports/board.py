"""The Board report's content for a period: the cover (roadmap edition, Board decision),
progress per aspect and topic (done and waived apart), overdue measures with their escalation
level and owner, overdue interim progress check-ins apart from them, targets with charts, the
period's changes (reschedules, waivers) and completed items with their evidence.
Rendering lives in render.py (Markdown, HTML) and pdf.py (PDF)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from flows.artifacts import level_of
from flows.reports import charts
from flows.reports.labels import metric_name, party_name, words
from flows.reports.provenance import Cover, check_period, covers, period_changes
from flows.reports.status import localized, percent_text, status_report, target_rows
from models.core.directory import Directory
from models.core.evidence_rules import numbered
from models.core.ledger import COMPLETED
from models.core.policy import Policy
from models.core.progress import FIELDS, TOTAL, Counts, GroupRow
from models.core.schedule import OccurrenceKind, end_of_day, local_date
from models.core.targets import TargetView
from models.store import occurrences
from models.store.ledger import LogFilter, entries, to_entry
from models.store.measures import role_names
from models.store.tables import MeasureRow, stored_id


@dataclass
class BoardReport:
    orgs: list[str]
    period: int
    as_of: dt.date
    lang: str
    words: dict[str, str]
    covers: list[Cover] = field(default_factory=list)
    aspects: list[GroupRow] = field(default_factory=list)
    topics: list[GroupRow] = field(default_factory=list)
    overdue: list[dict[str, Any]] = field(default_factory=list)   # measures
    checkins: list[dict[str, Any]] = field(default_factory=list)  # interim progress check-ins
    targets: list[TargetView] = field(default_factory=list)
    target_rows: list[dict[str, str]] = field(default_factory=list)
    completed: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    progress_png: bytes = b""
    target_pngs: dict[int, bytes] = field(default_factory=dict)

    @property
    def total(self) -> Counts:
        totals = Counts()
        for row in self.aspects:
            if row.group == TOTAL:
                for name in FIELDS:
                    setattr(totals, name, getattr(totals, name) + getattr(row.counts, name))
        return totals

    @property
    def final_year(self) -> int:
        return max((c.horizon[1] for c in self.covers), default=self.period)

    def summary_line(self) -> str:
        """Done and waived counted apart: a waiver is not a completion."""
        t = self.total
        return self.words["summary_line"].format(
            due=t.due, done=t.done_on_time + t.done_late, done_percent=percent_text(done_percent(t)),
            waived=t.waived, open=t.open, overdue=t.overdue, period=self.period)

    def summary_checkins(self) -> str:
        """How many of the period's overdue items are interim check-ins ("" when none)."""
        count = sum(1 for i in self.checkins if i["period"] == self.period)
        return self.words["summary_checkins"].format(checkins=count) if count else ""

    def checkins_note(self) -> str:
        return self.words["checkins_note"].format(year=self.final_year)

    def metric_of(self, view: TargetView) -> str:
        return metric_name(view.spec.metric, self.words)


def done_percent(counts: Counts) -> float | None:
    """Done (on time or late) of due, × 100: waived items are not done."""
    done = counts.done_on_time + counts.done_late
    return round(100.0 * done / counts.due, 1) if counts.due else None


def build_report(session: Session, *, orgs: list[str], period: int, as_of: dt.date, lang: str,
                 policy: Policy, directory: Directory | None = None) -> BoardReport:
    """Everything the Board report shows, charts included."""
    w = words(lang)
    report = BoardReport(orgs, period, as_of, lang, w, covers=covers(session, orgs=orgs, as_of=as_of, lang=lang))
    check_period(session, orgs=orgs, period=period, as_of=as_of, found=report.covers)
    by_aspect = status_report(session, orgs=orgs, as_of=as_of, by="aspect", lang=lang, period=period)
    report.aspects = by_aspect.rows
    report.topics = [r for r in status_report(session, orgs=orgs, as_of=as_of, by="topic",
                                              lang=lang, period=period).rows
                      if r.group != TOTAL and r.counts.due]
    report.targets = by_aspect.targets
    report.target_rows = [{**row, "metric": metric_name(row["metric"], w)} for row in target_rows(by_aspect, lang)]
    items = overdue_items(session, orgs=orgs, as_of=as_of, lang=lang, policy=policy, directory=directory)
    report.overdue = [i for i in items if i["kind"] != OccurrenceKind.PROGRESS]
    report.checkins = [i for i in items if i["kind"] == OccurrenceKind.PROGRESS]
    report.completed = completed_items(session, orgs=orgs, period=period, as_of=as_of, lang=lang)
    report.changes = period_changes(session, orgs=orgs, period=period, as_of=as_of, lang=lang)
    report.progress_png = charts.progress_chart(report.aspects, w)
    first = min([period, *(t.spec.baseline_year or period for t in report.targets)])
    report.target_pngs = {t.target_id: charts.target_chart(t, w, first) for t in report.targets}
    return report


def _owner(m: MeasureRow, names: dict[str, dict[str, str]], lang: str, directory: Directory | None) -> str:
    roles = list(m.executor_roles or m.unit_roles)
    if not roles:
        return f"{words(lang)['external']}: {party_name(m.external_party or '', lang)}" \
            if m.external_dependency else "—"
    parts = []
    for role in roles:
        name = names.get(role, {}).get(lang) or role
        person = directory.holder(role) if directory is not None else None
        parts.append(f"{name} ({person.name_in(lang)})" if person else name)
    return "; ".join(parts)


def overdue_items(session: Session, *, orgs: list[str], as_of: dt.date, lang: str,
                  policy: Policy, directory: Directory | None = None) -> list[dict[str, Any]]:
    """Open occurrences due before as_of (any period), most overdue first; an interim
    progress check-in carries its measure's final deadline ("by 2032")."""
    names = {org: role_names(session, org=org) for org in orgs}
    items = []
    for occ, m in occurrences.open_in_due_order(session, orgs=orgs, due_until=end_of_day(as_of - dt.timedelta(days=1))):
        due = local_date(occ.due_at)
        days = (as_of - due).days
        level = level_of(days, policy)
        items.append({"org": occ.org, "measure": m.code, "period": occ.period,
                      "title": localized(m, "title", lang), "due": due.isoformat(),
                      "days_overdue": days, "level": level,
                      "level_text": str(level) if level else words(lang)["not_escalated"],
                      "owner": _owner(m, names[occ.org], lang, directory), "kind": occ.kind,
                      "final": words(lang)["by_year"].format(year=m.end_year) if m.end_year else "—"})
    return items


def completed_items(session: Session, *, orgs: list[str], period: int, as_of: dt.date,
                    lang: str) -> list[dict[str, Any]]:
    """The period's occurrences done by the end of as_of, with the evidence their completion
    entry names."""
    pairs = occurrences.done_in_period(session, orgs=orgs, period=period, by=end_of_day(as_of))
    evidence = evidence_by_occurrence(session, orgs=orgs, ids=[stored_id(o) for o, _ in pairs])
    return [{"org": o.org, "measure": m.code, "period": o.period, "title": localized(m, "title", lang),
             "due": local_date(o.due_at).isoformat(),
             "completed_on": local_date(o.completed_at).isoformat() if o.completed_at else "—",
             "late": bool(o.late), "evidence": evidence.get(stored_id(o), [])}
            for o, m in pairs]


def evidence_by_occurrence(session: Session, *, orgs: list[str], ids: list[int]) -> dict[int, list[str]]:
    """occurrence id → the evidence of its latest completion entry in the ledger, as text:
    the reference (with its date), file names with the start of their SHA-256, links."""
    if not ids:
        return {}

    found: dict[int, list[str]] = {}
    for org in orgs:
        for row in entries(session, where=LogFilter(org=org, event=COMPLETED, occurrence_ids=tuple(ids))):
            assert row.occurrence_id is not None  # the entries are those of these occurrence ids
            found[row.occurrence_id] = evidence_texts(to_entry(row).data.get("evidence") or {})
    return found


def evidence_texts(evidence: dict[str, Any]) -> list[str]:
    texts = []
    if evidence.get("ref"):
        date = f" ({evidence['date']})" if evidence.get("date") else ""
        texts.append(f"{numbered(evidence['ref'])}{date}")
    texts += [f"{f.get('name', '?')} (sha256 {str(f.get('sha256', ''))[:12]}…)"
              for f in evidence.get("files") or []]
    texts += list(evidence.get("urls") or [])
    if not texts and evidence.get("note"):
        texts.append(str(evidence["note"]))
    return texts
