"""Where the roadmap stands as of a day: status figures per group and targets with their
latest reading (read from the database; the counting itself is models.core.progress)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from flows.reports.labels import party_name, words
from models.core.errors import InputError
from models.core.progress import FIELDS, TOTAL, Bucket, GroupRow, tally
from models.core.schedule import OccurrenceStatus, end_of_day
from models.core.targets import TargetView
from models.core.targets import format_value as fmt_value
from models.store import occurrences
from models.store import targets as trepo
from models.store.measures import measures, role_names
from models.store.tables import MeasureRow, stored_id

GROUPINGS = ("aspect", "topic", "executor", "unit")


@dataclass
class StatusReport:
    as_of: dt.date
    by: str
    lang: str
    period: int | None
    rows: list[GroupRow] = field(default_factory=list)
    targets: list[TargetView] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "by": self.by, "period": self.period,
                "groups": [r.as_dict() for r in self.rows],
                "targets": [t.as_dict() for t in self.targets]}


def status_report(session: Session, *, orgs: list[str], as_of: dt.date, by: str = "aspect",
                  lang: str = "en", period: int | None = None) -> StatusReport:
    """Counts per group (models.core.progress defines them) and every target's latest reading."""
    if by not in GROUPINGS:
        raise InputError(f"expected one of {', '.join(GROUPINGS)}", field="--by", value=by)
    groups_of: dict[tuple[str, str], Sequence[str]] = {}
    labels: dict[str, str] = {TOTAL: words(lang)["total"]}
    for org in orgs:
        names = role_names(session, org=org)
        for m in measures(session, org=org):
            keys = group_keys(m, by, lang, names, labels)
            groups_of[(org, m.code)] = keys
    rows = tally(load_buckets(session, orgs=orgs, as_of=as_of, period=period), groups_of, labels)
    return StatusReport(as_of, by, lang, period, rows, target_views(session, orgs=orgs, as_of=as_of))


def load_buckets(session: Session, *, orgs: list[str], as_of: dt.date,
                 period: int | None = None) -> list[Bucket]:
    """Occurrences due by the end of as_of (not withdrawn), counted in the database per
    measure, status and lateness, with how many fell due before as_of. A completion recorded
    after as_of counts as open: the figures are those of that day."""
    counts = occurrences.counts_by_measure(session, orgs=orgs, end=end_of_day(as_of),
                                           before=end_of_day(as_of - dt.timedelta(days=1)), period=period)
    buckets = []
    for org, code, status, late, count, overdue, later_count, later_overdue in counts:
        buckets.append(Bucket(org, code, status, late, count - later_count, overdue - later_overdue))
        if later_count:
            buckets.append(Bucket(org, code, OccurrenceStatus.OPEN, False, later_count, later_overdue))
    return buckets


def group_keys(m: MeasureRow, by: str, lang: str, names: dict[str, dict[str, str]],
               labels: dict[str, str]) -> list[str]:
    """The groups a measure counts in (several for executors and units), naming each in labels."""
    w = words(lang)
    if by == "aspect":
        labels[m.aspect] = w[f"aspect_{m.aspect}"]
        return [m.aspect]
    if by == "topic":
        key = f"{m.aspect}:{m.topic}"
        labels[key] = f"{m.aspect} · {localized(m, 'topic', lang)}"
        return [key]
    roles = list(m.executor_roles if by == "executor" else m.unit_roles)
    if not roles:
        key = f"external:{m.external_party}" if m.external_dependency else "none"
        labels[key] = f"{w['external']}: {party_name(m.external_party or '', lang)}" if m.external_dependency \
            else w["none"]
        return [key]
    for role in roles:
        labels[role] = names.get(role, {}).get(lang) or role
    return roles


def localized(row: MeasureRow, name: str, lang: str) -> str:
    """A measure's title or topic in the language, falling back to the Kazakh text."""
    if lang == "kk":
        return getattr(row, name)
    return getattr(row, f"{name}_{lang}", "") or getattr(row, name)


def target_views(session: Session, *, orgs: list[str], as_of: dt.date) -> list[TargetView]:
    """Each target with the readings recorded by the end of as_of."""
    return [
        TargetView(
            target_id=stored_id(s.target), org=s.target.org, measure=s.measure.code,
            titles={lang: localized(s.measure, "title", lang) for lang in ("kk", "ru", "en")},
            spec=s.spec, readings=tuple(s.values()), source=s.target.source,
            executor_roles=tuple(s.measure.executor_roles), unit_roles=tuple(s.measure.unit_roles),
            external_party=s.measure.external_party,
        )
        for s in trepo.target_states(session, orgs=orgs, until=end_of_day(as_of))
    ]


# --- presentation -------------------------------------------------------------------------


def percent_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} %"


def status_rows(report: StatusReport) -> list[dict[str, Any]]:
    """One flat dict per group, for tables and CSV."""
    return [{**row.as_dict(), "percent_complete": row.counts.percent} for row in report.rows]


def target_rows(report: StatusReport, lang: str) -> list[dict[str, str]]:
    w = words(lang)
    rows = []
    for view in report.targets:
        j, s = view.judgement, view.spec
        sign = "≥" if s.direction.value == "at_least" else "≤"
        rows.append({
            "org": view.org, "measure": view.measure, "metric": s.metric,
            "target": f"{sign} {fmt_value(s.target_value, s.unit)} {w['by_year'].format(year=s.target_year)}",
            "baseline": f"{fmt_value(s.baseline_value, s.unit)} ({s.baseline_year})" if s.has_baseline else "—",
            "latest": f"{fmt_value(j.reading.value, s.unit)} ({j.reading.year})" if j.reading else "—",
            "expected": fmt_value(j.expected, s.unit),
            "status": j.status.value, "status_text": w[f"status_{j.status.value}"],
        })
    return rows


def status_markdown(report: StatusReport) -> str:
    """The status as markdown (the daily flow's `status` artifact)."""
    w = words(report.lang)
    cols = list(FIELDS)
    lines = [f"# {w['report_title']} — {w['as_of'].lower()} {report.as_of}", "",
             f"| org | {w[report.by]} | " + " | ".join(w[c] for c in cols) + f" | {w['percent_complete']} |",
             "|---|---|" + "---:|" * (len(cols) + 1)]
    for row in report.rows:
        label = f"**{row.label}**" if row.group == TOTAL else row.label
        values = " | ".join(str(getattr(row.counts, c)) for c in cols)
        lines.append(f"| {row.org} | {label} | {values} | {percent_text(row.counts.percent)} |")
    lines += ["", f"## {w['targets']}", ""]
    targets = target_rows(report, report.lang)
    if not targets:
        return "\n".join([*lines, w["no_targets"]])
    lines += [f"| org | {w['measure']} | {w['metric']} | {w['target']} | {w['baseline']} | "
              f"{w['latest']} | {w['expected']} | {w['status']} |", "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {t['org']} | {t['measure']} | {t['metric']} | {t['target']} | {t['baseline']} | "
              f"{t['latest']} | {t['expected']} | {t['status_text']} |" for t in targets]
    return "\n".join(lines)
