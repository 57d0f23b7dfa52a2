"""What the ESG office's dashboard and the measure and occurrence pages read that no other use
case gives: overdue items by escalation level, the outbox's health, the directory's problems,
and a measure's or an occurrence's history (ledger entries, portal submissions). One
session_scope each; the queries live in models/store."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from config.settings import Settings
from flows.usecases import admin
from models.core.delivery import OutboxStatus
from models.core.errors import InputError, NotFound
from models.core.escalation import StepKind, current_step, open_item
from models.core.policy import Policy
from models.core.schedule import end_of_day, local_date
from models.core.targets import TargetView, latest, meets, start_of
from models.store import occurrences
from models.store import portal as portal_rows
from models.store.db import session_scope
from models.store.ledger import LogFilter, entries, to_entry
from models.store.measures import get_measure, role_names
from models.store.tables import LedgerEntry, MeasureRow, OccurrenceRow, Submission, stored_id

PREFECT_UI_DEFAULT = "http://127.0.0.1:4200"
MAX_ID = 2**31 - 1  # an id beyond PostgreSQL's integer is no row, not a database error
DEAD_SHOWN = 50  # dead letters listed on the dashboard; the CLI (`esgtrack outbox list`) has them all


def prefect_ui_url(settings: Settings) -> str:
    """ESGTRACK_PREFECT_UI_URL, else PREFECT_UI_URL, else Prefect's local default."""
    return settings.prefect_ui_url or os.environ.get("PREFECT_UI_URL") or PREFECT_UI_DEFAULT


# --- overdue items by escalation level ---------------------------------------------------------


@dataclass(frozen=True)
class OverdueItem:
    occurrence_id: int
    measure: str
    period: int
    kind: str
    title: str
    due: dt.date
    days: int
    level: int  # 0: overdue, but the first escalation has not come due yet (a holiday, say)


@dataclass(frozen=True)
class LevelGroup:
    level: int
    after_days: int | None
    to: tuple[str, ...]
    items: list[OverdueItem] = field(default_factory=list)


def overdue_by_level(engine: Engine, *, org: str, as_of: dt.date, policy: Policy, lang: str) -> list[LevelGroup]:
    """Open occurrences due before as_of, under the escalation level their ladder has reached
    (models.core.escalation.current_step): levels 1..N, then those not escalated yet; most
    overdue first; titles in the reader's language."""
    from flows.reports.status import localized

    with session_scope(engine) as session:
        pairs = occurrences.open_in_due_order(session, orgs=[org],
                                              due_until=end_of_day(as_of - dt.timedelta(days=1)))
        items = [_overdue(occ, m, policy, as_of, localized(m, "title", lang)) for occ, m in pairs]
    groups = [LevelGroup(n, level.after_days, level.to) for n, level in enumerate(policy.levels, start=1)]
    waiting = LevelGroup(0, None, ())
    for item in sorted(items, key=lambda i: -i.days):  # stable: roadmap order within a due date
        (groups[item.level - 1] if 0 < item.level <= len(groups) else waiting).items.append(item)
    return [*groups, waiting]


def _overdue(occ: OccurrenceRow, m: MeasureRow, policy: Policy, as_of: dt.date, title: str) -> OverdueItem:
    item = open_item(occ, m)
    step = current_step(item, policy, as_of)
    level = step.level if step is not None and step.kind == StepKind.ESCALATION else 0
    return OverdueItem(stored_id(occ), m.code, occ.period, occ.kind, title, item.due, (as_of - item.due).days, level)


# --- targets ---------------------------------------------------------------------------------


def target_share(view: TargetView) -> float | None:
    """How far the latest reading has come from the starting value (the baseline, else the
    earliest reading) to the target, 0..1 (1: the target is met); None until it can be told."""
    spec, last = view.spec, latest(view.readings)
    if last is None:
        return None
    if meets(last.value, spec.target_value, spec.direction):
        return 1.0
    start = start_of(spec, view.readings)
    if start is None or start.value == spec.target_value:
        return None
    return min(1.0, max(0.0, (last.value - start.value) / (spec.target_value - start.value)))


def chart_first_year(view: TargetView, as_of: dt.date) -> int:
    """The first year a target's chart shows: its baseline's, its first reading's, or this one."""
    return min([as_of.year, *([view.spec.baseline_year] if view.spec.baseline_year else []),
                *(r.year for r in view.readings)])


# --- the outbox and the directory ----------------------------------------------------------------


@dataclass(frozen=True)
class OutboxHealth:
    counts: dict[str, int]    # every status (zero included), then any other the table holds
    waiting: int              # claimed steps not yet turned into messages
    dead: list[dict[str, Any]]  # the first DEAD_SHOWN dead rows, last_error masked

    @property
    def dead_total(self) -> int:
        return self.counts.get(OutboxStatus.DEAD, 0)


def outbox_health(engine: Engine, *, org: str) -> OutboxHealth:
    listing = admin.list_outbox(engine, status=OutboxStatus.DEAD, org=org, limit=DEAD_SHOWN)
    counts = {str(s): listing.counts.get(s, 0) for s in OutboxStatus} | listing.counts
    dead = [{**row, "last_error": masked_text(row["last_error"])} for row in listing.rows]
    return OutboxHealth(counts, listing.waiting, dead)


_URL = re.compile(r"[a-z][a-z0-9+.-]*://[^\s'\"<>]+", re.IGNORECASE)


def masked_text(text: str | None) -> str:
    """An error message with every URL in it masked (the delivery code stores it masked
    already; a page is one more place it must never leak from)."""
    from notifications.masking import mask_url

    return _URL.sub(lambda m: mask_url(m.group(0)), text or "")


@dataclass(frozen=True)
class Problem:
    severity: str  # error | warning
    problem: str
    subject: str
    detail: str = ""


def directory_problems(engine: Engine, settings: Settings, *, org: str) -> list[Problem]:
    """What `esgtrack directory check` reports, as rows (an unreadable directory is one)."""
    try:
        result = admin.check(engine, settings, org=org)
    except InputError as exc:
        return [Problem("error", "the directory cannot be read", str(settings.resolved_directory), exc.describe())]
    return problems_of(result)


def problems_of(result: dict[str, Any]) -> list[Problem]:
    rows = [Problem("error", "role nobody holds", r) for r in result["unheld_roles"]]
    rows += [Problem("error", "no channel (journal only)", p) for p in result["no_channel"]]
    if result["real_channels"]:
        rows += [Problem("error", "journal only", p,
                         "email, but ESGTRACK_SMTP_URL is unset" if p in result["email_without_smtp"] else "")
                 for p in result["journal_only"] if p not in result["no_channel"]]
    rows += [Problem("error", "unusable URL", f"{b['person']} {b['channel']}", b["url"])
             for b in result["invalid_urls"]]
    rows += [Problem("warning", "no Russian or English title yet", code) for code in result["untranslated"]]
    if result["email_without_smtp"] and not result["real_channels"]:
        rows.append(Problem("warning", "ESGTRACK_SMTP_URL is unset", f"{len(result['email_without_smtp'])} people",
                            "reachable only by email: their messages go to the journal"))
    return rows


# --- a measure's and an occurrence's history -----------------------------------------------------


@dataclass(frozen=True)
class OccurrenceLine:
    id: int
    period: int
    kind: str
    seq: int
    due: dt.date
    planned_due: dt.date
    status: str
    completed_at: dt.datetime | None
    late: bool | None


@dataclass(frozen=True)
class HistoryLine:
    seq: int
    event: str
    at: dt.datetime
    actor: str
    period: int | None
    occurrence_id: int | None
    facts: list[tuple[str, str]]


@dataclass(frozen=True)
class MeasureDetail:
    measure: MeasureRow
    executors: list[str]  # role names in the reader's language
    units: list[str]
    occurrences: list[OccurrenceLine]
    history: list[HistoryLine]


@dataclass(frozen=True)
class OccurrenceDetail:
    occurrence: OccurrenceLine
    measure: MeasureRow
    history: list[HistoryLine]
    submissions: list[Submission]


def measure_detail(engine: Engine, *, org: str, code: str, lang: str) -> MeasureDetail:
    """A measure of this organisation (NotFound otherwise), its occurrences (not withdrawn)
    and every ledger entry recorded under its code."""
    with session_scope(engine) as session:
        m = get_measure(session, org=org, code=code)
        names = role_names(session, org=org)
        pairs = occurrences.find(session, org=org, where=occurrences.OccurrenceFilter(measure=m.code))
        history = entries(session, where=LogFilter(org=org, measure=m.code))
        return MeasureDetail(m, _names(m.executor_roles, names, lang), _names(m.unit_roles, names, lang),
                             [occurrence_line(o) for o, _ in pairs], [history_line(e) for e in history])


def occurrence_detail(engine: Engine, *, org: str, occurrence_id: int) -> OccurrenceDetail:
    """An occurrence of this organisation (NotFound otherwise) with its ledger entries in
    order and the portal submissions made for it."""
    with session_scope(engine) as session:
        occ = session.get(OccurrenceRow, occurrence_id) if 0 < occurrence_id <= MAX_ID else None
        m = session.get(MeasureRow, occ.measure_id) if occ is not None and occ.org == org else None
        if occ is None or m is None:
            raise NotFound(f"no occurrence {occurrence_id} in organisation {org!r}", field="occurrence",
                           value=occurrence_id)
        history = entries(session, where=LogFilter(org=org, occurrence_ids=(occurrence_id,)))
        subs = portal_rows.submissions(session, org=org, occurrence_ids=[occurrence_id])
        return OccurrenceDetail(occurrence_line(occ), m, [history_line(e) for e in history], subs)


def _names(roles: list[str], names: dict[str, dict[str, str]], lang: str) -> list[str]:
    return [names.get(r, {}).get(lang) or r for r in roles]


def occurrence_line(occ: OccurrenceRow) -> OccurrenceLine:
    return OccurrenceLine(stored_id(occ), occ.period, occ.kind, occ.seq, local_date(occ.due_at),
                          local_date(occ.planned_due_at), occ.status, occ.completed_at, occ.late)


def history_line(row: LedgerEntry) -> HistoryLine:
    return HistoryLine(row.seq, row.event, row.at, row.actor, row.period, row.occurrence_id,
                       entry_facts(to_entry(row).data))


def entry_facts(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The key data of a ledger entry as (label, text): why, on whose approval, what moved,
    which evidence; the rest stays on the entry's own page."""
    facts = [(label, _text(data[key])) for key, label in _FACTS if data.get(key) not in (None, "", [])]
    if data.get("from") and data.get("to"):
        facts.append(("deadline", f"{data['from']} → {data['to']}"))
    if data.get("late"):
        facts.append(("late", f"{data.get('days_late', '?')} days"))
    sub = data.get("submission")
    if sub:
        facts.append(("submission", f"#{sub['id']} by {sub['by']}" if isinstance(sub, dict) else f"#{sub}"))
    evidence = data.get("evidence") or {}
    facts += [(f"evidence {key.replace('_', ' ')}", str(evidence[key]))
              for key in ("ref", "date", "valid_until", "note") if evidence.get(key)]
    facts += [("link", str(u)) for u in evidence.get("urls") or []]
    facts += [("file", f"{f.get('name', '?')} (sha256 {str(f.get('sha256', ''))[:12]}…)")
              for f in evidence.get("files") or [] if isinstance(f, dict)]
    return facts


_FACTS = (("reason", "reason"), ("ground", "ground"), ("approved_by", "approved by"), ("backdate", "backdated because"),
          ("previous_status", "was"), ("completed_on", "completed on"), ("metric", "metric"), ("year", "year"),
          ("value", "value"))


def _text(value: object) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
