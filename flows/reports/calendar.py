"""Calendar feeds (RFC 5545, the icalendar package): one all-day event per open occurrence on
its due date, with an alarm at each of the policy's reminder offsets.

UIDs are `{org}-occ{occurrence id}@esgtrack`: stable across re-exports, renumbered measures
and retitles, so a re-import into Outlook or Google updates events instead of duplicating
them; SEQUENCE and LAST-MODIFIED follow the occurrence's last change (a moved deadline).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from icalendar import Alarm, Calendar, Event
from sqlmodel import Session

from flows.reports.labels import form_in, party_name, words
from flows.reports.status import localized
from models.core.escalation import responsible_for, role_names_in
from models.core.roadmap import ROADMAP_TZ
from models.core.schedule import local_date
from models.store import occurrences
from models.store.measures import role_names
from models.store.tables import stored_id

PRODID = "-//esgtrack//ESG roadmap calendar//EN"
SEQUENCE_EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class FeedItem:
    occurrence_id: int
    org: str
    measure: str
    aspect: str
    period: int
    kind: str  # due | progress | opened
    due: dt.date
    title: str
    completion_form: str = ""
    executors: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    external_party: str | None = None
    updated_at: dt.datetime = field(default=SEQUENCE_EPOCH)


def uid(item: FeedItem) -> str:
    return f"{item.org}-occ{item.occurrence_id}@esgtrack"


def summary(item: FeedItem) -> str:
    return f"{item.measure} {item.period}: {' '.join(item.title.split())}"


def _description(item: FeedItem, lang: str) -> str:
    w = words(lang)
    lines = [f"{item.measure} · {item.period} — {item.title}"]
    if item.kind in ("progress", "opened"):
        lines.append(f"({w['kind_' + item.kind]})")
    progress = item.kind == "progress"
    if item.completion_form:
        lines.append(f"{w['completion_form']}: {w['progress_note'] if progress else item.completion_form}")
    if item.executors:
        lines.append(f"{w['executors']}: {'; '.join(item.executors)}")
    elif item.external_party:
        lines.append(f"{w['external']}: {party_name(item.external_party, lang)}")
    if item.units:
        lines.append(f"{w['units']}: {'; '.join(item.units)}")
    lines.append(f"{w['record_hint']}: {w['calendar_next_progress' if progress else 'calendar_next']}")
    lines.append(f"{w['organisation']}: {item.org}")
    return "\n".join(lines)


def _sequence(moment: dt.datetime) -> int:
    return max(0, int((moment - SEQUENCE_EPOCH).total_seconds() // 60))


def event_for(item: FeedItem, *, lang: str, reminder_days: tuple[int, ...], now: dt.datetime) -> Event:
    event = Event()
    event.add("uid", uid(item))
    event.add("dtstamp", now.astimezone(dt.UTC))
    event.add("dtstart", item.due)
    event.add("dtend", item.due + dt.timedelta(days=1))
    event.add("summary", summary(item))
    event.add("description", _description(item, lang))
    event.add("categories", ["ESG", item.aspect])
    event.add("transp", "TRANSPARENT")
    event.add("status", "CONFIRMED")
    event.add("sequence", _sequence(item.updated_at))
    event.add("last-modified", item.updated_at.astimezone(dt.UTC))
    for days in sorted(set(reminder_days), reverse=True):
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"{summary(item)} — {words(lang)['alarm']}")
        alarm.add("trigger", dt.timedelta(days=-days))
        event.add_component(alarm)
    return event


def build_calendar(items: list[FeedItem], *, lang: str, reminder_days: tuple[int, ...],
                   now: dt.datetime, name: str | None = None) -> bytes:
    """The .ics bytes (CRLF lines, folded at 75 octets as RFC 5545 requires)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name or words(lang)["calendar_name"])
    cal.add("x-wr-timezone", ROADMAP_TZ)
    for item in items:
        cal.add_component(event_for(item, lang=lang, reminder_days=reminder_days, now=now))
    return cal.to_ical()


def feed_items(session: Session, *, orgs: list[str], lang: str, roles: set[str] | None = None,
               external: bool = False) -> list[FeedItem]:
    """Open occurrences in due order. With roles: only measures naming one of them as an
    executor or unit; with external too: also the measures with no internal executor (the
    ESG office follows those up, as the planner routes them)."""
    names = {org: role_names(session, org=org) for org in orgs}
    items = []
    for occ, m in occurrences.open_in_due_order(session, orgs=orgs):
        if roles is not None and not responsible_for(m, roles, external=external):
            continue
        items.append(FeedItem(
            occurrence_id=stored_id(occ), org=occ.org, measure=m.code, aspect=m.aspect, period=occ.period,
            kind=occ.kind, due=local_date(occ.due_at), title=localized(m, "title", lang),
            completion_form=form_in(m, lang), executors=tuple(role_names_in(m.executor_roles, names[occ.org], lang)),
            units=tuple(role_names_in(m.unit_roles, names[occ.org], lang)), external_party=m.external_party,
            updated_at=occ.updated_at))
    return items
