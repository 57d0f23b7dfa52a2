"""What the Board report stands on and what moved in its period: the roadmap edition and the
Board decision the roadmap is annexed to (the cover), the horizon a period must fall in, and
the period's reschedules, waivers and reopenings as the ledger records them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from flows.reports.labels import document, words
from models.core.errors import InputError
from models.core.ledger import REOPENED, RESCHEDULED, ROADMAP_IMPORTED, WAIVED
from models.core.schedule import OccurrenceKind, end_of_day, local_date
from models.store import occurrences
from models.store.audit import editions
from models.store.ledger import LogFilter, entries, to_entry

CHANGES = (RESCHEDULED, WAIVED, REOPENED)


@dataclass(frozen=True)
class Cover:
    """One organisation's roadmap edition as the report's cover names it."""

    org: str
    title: str           # the document's own title, as imported (Kazakh)
    title_local: str     # the title in the report's language ("" when the catalogue has none)
    decision: str        # the Board decision it is annexed to, in the report's language ("" unknown)
    number: int          # this edition's place among the organisation's editions, from 1
    count: int
    imported_on: dt.date
    source_name: str
    sha256: str
    horizon: tuple[int, int]
    ledger_ref: str      # the roadmap_imported entry ("KT#1"), "" when the import has none

    def edition_line(self, w: dict[str, str]) -> str:
        line = w["cover_edition_line"].format(number=self.number, count=self.count, date=self.imported_on,
                                              source=self.source_name, sha=self.sha256[:16])
        return f"{line}; {w['cover_ledger_entry'].format(ref=self.ledger_ref)}" if self.ledger_ref else line


def covers(session: Session, *, orgs: list[str], as_of: dt.date, lang: str) -> list[Cover]:
    """Each organisation's edition in force at the end of as_of (its first one when every
    edition came later), with the Board decision from the catalogue."""
    out = []
    for org in orgs:
        found = editions(session, org=org)
        if not found:
            continue
        by_then = [e for e in found if dt.datetime.fromisoformat(e["imported_at"]) <= end_of_day(as_of)]
        edition = by_then[-1] if by_then else found[0]
        known = document(edition["title"])
        out.append(Cover(
            org=org, title=edition["title"], title_local=known.get("title", {}).get(lang, ""),
            decision=known.get("decision", {}).get(lang, ""), number=found.index(edition) + 1,
            count=len(found), imported_on=local_date(dt.datetime.fromisoformat(edition["imported_at"])),
            source_name=edition["source_name"], sha256=edition["sha256"],
            horizon=(int(edition["horizon"][0]), int(edition["horizon"][1])),
            ledger_ref=_import_entry(session, org=org, edition_id=edition["edition_id"])))
    return out


def _import_entry(session: Session, *, org: str, edition_id: int) -> str:
    for row in entries(session, where=LogFilter(org=org, event=ROADMAP_IMPORTED)):
        if to_entry(row).data.get("edition_id") == edition_id:
            return f"{org}#{row.seq}"
    return ""


def check_period(session: Session, *, orgs: list[str], period: int, as_of: dt.date,
                 found: list[Cover]) -> None:
    """A report needs a period inside the roadmap's horizon that has begun by as_of and has
    occurrences: anything else would be an empty report (InputError naming --period)."""
    if not found:
        raise InputError("nothing to report: no roadmap is imported (esgtrack roadmap import FILE)",
                         field="--period", value=period)
    start, end = min(c.horizon[0] for c in found), max(c.horizon[1] for c in found)
    if not start <= period <= end:
        raise InputError(f"{period} is outside the roadmap's horizon {start}–{end}", field="--period",
                         value=period)
    if period > as_of.year:
        raise InputError(f"{period} has not begun by --as-of {as_of}: nothing in it can be due yet "
                         f"(the roadmap's horizon is {start}–{end})", field="--period", value=period)
    if not any(occurrences.find(session, org=org, where=occurrences.OccurrenceFilter(period=period))
               for org in orgs):
        raise InputError(f"the roadmap has no occurrence in {period} (its horizon is {start}–{end})",
                         field="--period", value=period)


def period_changes(session: Session, *, orgs: list[str], period: int, as_of: dt.date,
                   lang: str) -> list[dict[str, Any]]:
    """The period's reschedules, waivers and reopenings recorded by the end of as_of, oldest
    first: who recorded each, who approved it and why."""
    w = words(lang)
    rows = [row for org in orgs for row in entries(session, where=LogFilter(org=org, period=period))
            if row.event in CHANGES]
    kinds = {i: f.kind for i, f in occurrences.facts(
        session, ids=[r.occurrence_id for r in rows if r.occurrence_id is not None]).items()}
    out = []
    for row in rows:
        entry = to_entry(row)
        at = dt.datetime.fromisoformat(entry.at)
        if at > end_of_day(as_of):
            continue
        data = entry.data
        change = _change_text(entry.event, data, w)
        if kinds.get(row.occurrence_id or 0) == OccurrenceKind.PROGRESS:
            change = f"{w['kind_progress']}: {change}"
        out.append({"org": entry.org, "measure": entry.measure or "", "period": entry.period,
                    "recorded_on": local_date(at).isoformat(), "change": change,
                    "reason": str(data.get("reason") or w["none"]),
                    "approved_by": str(data.get("approved_by") or w["none"]),
                    "recorded_by": entry.actor, "ref": f"{entry.org}#{entry.seq}"})
    return out


def _change_text(event: str, data: dict[str, Any], w: dict[str, str]) -> str:
    if event == RESCHEDULED:
        return w["change_rescheduled"].format(old=data.get("from", "?"), new=data.get("to", "?"))
    if event == WAIVED:
        return w["change_not_applicable" if data.get("ground") == "not_applicable" else "change_waived"]
    return w["change_reopened"]
