"""Fallback: a message whose rows all ended dead goes on by the next route of the person's
fallback order (models.core.directory: e.g. teams → email → deputy → journal).

A message is the rows sharing a message_key (occurrence:step:recipient). Its first route's rows
are hop 0 (notifications/enqueue.py); when every row of the message is dead, the next route of
the order with a (recipient, channel) not tried yet gets rows of hop N+1, due now, with the
reason; the dead rows record where the message went (fallback_to). A message with a row sent
or cancelled needs no fallback; one with a row pending, failed, sending or unknown (it may have
arrived) waits. The new rows' keys are fixed by (message, hop, recipient, channel): two
deliverers handing on the same message insert them once, and they are claimed and sent like
any other row, so a crash never sends one twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Engine, Row

from config.settings import Settings
from models.core.delivery import OutboxStatus
from models.core.directory import Directory
from models.core.escalation import PlannedItem
from models.store import outbox as outbox_rows
from models.store.db import session_scope
from notifications import channels
from notifications.enqueue import route_rows

WAIT = {OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED, OutboxStatus.UNKNOWN}
SETTLED = {OutboxStatus.SENT, OutboxStatus.CANCELLED}
EXHAUSTED, NOT_NEEDED = "none", "not needed"


def hand_on(engine: Engine, *, directory: Directory, settings: Settings, now: dt.datetime,
            orgs: Sequence[str] | None = None) -> int:
    """Give every message whose rows all ended dead its next route, in one commit. Returns
    how many rows were added (they are due now)."""
    with session_scope(engine) as session:
        keys = outbox_rows.unsettled(session, orgs=orgs)
        if not keys:
            return 0
        messages: dict[str, list[Row[Any]]] = {}
        for row in outbox_rows.message_rows(session, keys=keys):
            messages.setdefault(row.message_key, []).append(row)
        new: list[dict[str, Any]] = []
        for rows in messages.values():
            decision = _decide(rows, directory, settings, now)
            if decision is not None:
                to, added = decision
                open_ = [r.id for r in rows if r.status == OutboxStatus.DEAD and r.fallback_to is None]
                outbox_rows.mark_fallback(session, ids=open_, to=to, now=now)
                new += added
        return outbox_rows.insert_new(session, new) if new else 0


def _decide(rows: list[Row[Any]], directory: Directory, settings: Settings, now: dt.datetime
            ) -> tuple[str, list[dict[str, Any]]] | None:
    """(what the dead rows record, the next route's rows) or None: wait."""
    statuses = {r.status for r in rows}
    if statuses & WAIT:
        return None
    if statuses & SETTLED:
        return NOT_NEEDED, []
    item = PlannedItem.from_payload(rows[0].payload)
    person = directory.people.get(item.recipient)
    if person is None:
        return EXHAUSTED, []
    route = channels.next_route(person, directory, settings, tried={(r.recipient, r.channel) for r in rows})
    if route is None:
        return EXHAUSTED, []
    hop = max(r.hop for r in rows) + 1
    reason = _reason(rows, route, directory.order_of(person))
    added = route_rows(item, route, hop=hop, reason=reason, directory=directory, settings=settings, now=now)
    label = route.name if route.recipient == item.recipient else f"{route.name} {route.recipient}"
    return label, added


def _reason(rows: list[Row[Any]], route: channels.Route, order: tuple[str, ...]) -> str:
    last = max(r.hop for r in rows)
    failed = "; ".join(f"{r.recipient} {r.channel}: {(r.last_error or 'dead')[:200]}"
                       for r in rows if r.hop == last)
    return (f"fallback {last + 1} ({route.name}, order {' → '.join(order)}): "
            f"every earlier route ended dead — {failed}")[:1000]
