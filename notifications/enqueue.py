"""Enqueue: one outbox row per (planned item, channel of the first route of its recipient's
fallback order), claimed by a unique key (occurrence:step:recipient:channel) in the caller's
transaction, so that a re-run or a concurrent run adds nothing. Delivery
(notifications/outbox.py) sends the rows; notifications/fallback.py adds the next route's rows
when a message's rows all end dead."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from sqlmodel import Session

from config.settings import Settings
from models.core.delivery import OutboxStatus
from models.core.directory import Directory, Person
from models.core.errors import InputError
from models.core.escalation import PlannedItem
from models.store import outbox as outbox_rows
from notifications import channels


def idem_key(item: PlannedItem, recipient: str, channel: str) -> str:
    """occurrence:step:recipient:channel, the occurrence qualified by its due date
    (occurrence@YYYY-MM-DD): a rescheduled deadline gets its own ladder. An alert has no
    occurrence: org/measure stands in."""
    return f"{_occurrence(item)}:{item.step}:{recipient}:{channel}"


def message_key(item: PlannedItem) -> str:
    """occurrence:step:recipient — one message to one person, whichever routes it takes."""
    return f"{_occurrence(item)}:{item.step}:{item.recipient}"


def row_key(item: PlannedItem, hop: int, recipient: str, channel: str) -> str:
    """The person's own first route keeps the plain key; a fallback (or a deputy standing in
    from the start) is message:fallback-HOP:recipient:channel, so that two deliverers handing
    the same message on insert it once."""
    if hop == 0 and recipient == item.recipient:
        return idem_key(item, recipient, channel)
    return f"{message_key(item)}:fallback-{hop}:{recipient}:{channel}"


def _occurrence(item: PlannedItem) -> str:
    if item.occurrence_id is None:
        return f"{item.org}/{item.measure}"
    return f"{item.occurrence_id}@{item.due}" if item.due else str(item.occurrence_id)


def enqueue(session: Session, *, items: list[PlannedItem], directory: Directory, settings: Settings,
            now: dt.datetime) -> int:
    """One row per (item, channel of the item's recipient); a key already claimed is left
    alone (insert-or-ignore on idem_key). Returns how many rows are new. The caller commits."""
    rows: list[dict[str, Any]] = []
    masks: dict[tuple[str, str], str] = {}
    for item in items:
        person = directory.people.get(item.recipient)
        route = (channels.first_route(person, directory, settings) if person
                 else channels.Route(channels.JOURNAL, item.recipient, (channels.JOURNAL,)))
        reason = (f"{item.recipient} has no channel of their own: to their deputy {route.recipient}"
                  if route.recipient != item.recipient else None)
        rows += route_rows(item, route, hop=0, reason=reason, directory=directory, settings=settings,
                           now=now, masks=masks)
    return outbox_rows.insert_new(session, rows)


def route_rows(item: PlannedItem, route: channels.Route, *, hop: int, reason: str | None,
               directory: Directory, settings: Settings, now: dt.datetime,
               masks: dict[tuple[str, str], str] | None = None) -> list[dict[str, Any]]:
    """The rows that carry one message over one route (one per channel), due now."""
    masks = {} if masks is None else masks
    carried = replace(item, standing_in_for="")  # the item may come from a deputy's row (a later hop)
    if route.recipient != item.recipient:  # a deputy's copy says whom it stands in for
        deputy, person = directory.people.get(route.recipient), directory.people.get(item.recipient)
        if deputy is not None and person is not None:
            carried = replace(item, standing_in_for=person.name_in(deputy.language))
    rows = []
    for channel in route.channels:
        if (route.recipient, channel) not in masks:
            masks[route.recipient, channel] = _masked(directory.people.get(route.recipient), channel, settings)
        rows.append(_row(carried, route.recipient, channel, masks[route.recipient, channel], now)
                    | {"idem_key": row_key(item, hop, route.recipient, channel), "hop": hop,
                       "fallback_reason": reason})
    return rows


def _masked(person: Person | None, channel: str, settings: Settings) -> str:
    if person is None:
        return ""
    try:
        return channels.target_for(person, channel, settings).masked
    except InputError:
        return ""


def _row(item: PlannedItem, recipient: str, channel: str, masked: str, now: dt.datetime) -> dict[str, Any]:
    return {
        "org": item.org, "idem_key": idem_key(item, recipient, channel), "message_key": message_key(item),
        "hop": 0, "fallback_reason": None, "fallback_to": None,
        "occurrence_id": item.occurrence_id, "measure": item.measure[:16],
        "step": item.step, "kind": item.kind, "recipient": recipient, "channel": channel,
        "payload": item.payload(),
        "status": OutboxStatus.PENDING, "attempts": 0, "next_attempt_at": now, "last_error": None,
        "masked_target": masked, "subject": None, "language": None, "batch_id": None,
        "claimed_at": None, "created_at": now, "sent_at": None, "updated_at": now,
    }
