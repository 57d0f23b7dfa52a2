"""Fan-out: claimed notices → outbox messages, one per recipient and channel.

The daily pass claims what is owed in SQL, one notice per occurrence step (models/store/claims.py).
Delivery turns each notice into its messages just before sending, a chunk at a time, with the
routing the dry run shows (models.core.escalation.fan_out). The messages and the notice's stamp are
written in one commit, and the outbox's unique key makes a repeat (a crash between chunks, two
deliveries at once) insert nothing. A notice whose occurrence was completed, waived,
withdrawn or rescheduled meanwhile makes no messages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine, Row
from sqlmodel import Session

from config.settings import Settings
from models.core.directory import Directory
from models.core.escalation import PlannedItem, Step, StepKind, fan_out, open_item, step_by_id
from models.core.policy import Policy
from models.core.schedule import OccurrenceStatus, local_date
from models.store import claims, occurrences
from models.store.db import session_scope
from models.store.measures import measures_by_id, role_names_of
from notifications.enqueue import enqueue

CHUNK = 500


@dataclass
class FanOut:
    notices: int = 0    # notices expanded
    messages: int = 0   # messages they made, one per recipient (each goes out on every
                        # channel of the person: one outbox row per channel)
    cancelled: int = 0  # notices whose occurrence is no longer open on that due date
    rows: int = 0       # outbox rows the messages made (one per channel of the first route)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"notices": self.notices, "messages": self.messages, "cancelled": self.cancelled,
                "rows": self.rows, "warnings": sorted(set(self.warnings))}


def expand_notices(engine: Engine, *, directory: Directory, settings: Settings, policy: Policy, now: dt.datetime,
                   orgs: Sequence[str] | None = None, chunk: int = CHUNK) -> FanOut:
    """Expand every notice not yet expanded (of these organisations, or all), a page at a
    time in occurrence order, one commit per page."""

    result, after, first = FanOut(), 0, None
    while True:
        with session_scope(engine) as session:
            notices = claims.pending_notices(session, after=after, limit=chunk, orgs=orgs)
            if not notices:
                return result
            head = (notices[0].org, notices[0].occurrence_id, notices[0].due_at, notices[0].step)
            if head == first:
                raise RuntimeError(f"notice {first} stays pending after expansion")  # never loop
            first = head
            after = notices[-1].occurrence_id
            counts, items = _items(session, notices, directory, policy, result)
            if items:
                result.rows += enqueue(session, items=items, directory=directory, settings=settings, now=now)
            claims.mark_expanded(session, made=counts, now=now)


def _items(session: Session, notices: list[Row[Any]], directory: Directory, policy: Policy, result: FanOut
           ) -> tuple[dict[tuple[int, dt.datetime, str], int], list[PlannedItem]]:
    """(occurrence, due_at, step) → how many items the notice made, and the items."""
    found = occurrences.facts(session, ids={n.occurrence_id for n in notices})
    measures = measures_by_id(session, ids={o.measure_id for o in found.values()})
    names = role_names_of(session, orgs=sorted({n.org for n in notices}))
    counts: dict[tuple[int, dt.datetime, str], int] = {}
    items: list[PlannedItem] = []
    for notice in notices:
        key = (notice.occurrence_id, notice.due_at, notice.step)
        occ = found[notice.occurrence_id]
        measure = measures[occ.measure_id]
        if occ.status != OccurrenceStatus.OPEN or occ.due_at != notice.due_at or not measure.active:
            counts[key] = 0
            result.cancelled += 1
            continue
        item = open_item(occ, measure)
        step = step_by_id(item.due, item.kind, notice.step, policy) or _step(notice, policy)
        made = fan_out(item, step, directory, policy, as_of=notice.planned_on,
                       role_names=names[notice.org], warnings=result.warnings)
        counts[key] = len(made)
        items += made
        result.notices += 1
        result.messages += len(made)
    return counts, items


def _step(notice: Row[Any], policy: Policy) -> Step:
    """A notice whose step the policy has since dropped still goes to that step's audience."""
    if notice.kind == StepKind.REMINDER or not policy.levels:
        audience = policy.reminder_to
    else:
        audience = policy.levels[min(max(notice.level, 1), len(policy.levels)) - 1].to
    return Step(notice.step, notice.kind, notice.level, local_date(notice.due_at), audience)
