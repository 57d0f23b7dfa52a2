"""Enqueue: one outbox row per (planned item, channel of its recipient), claimed by a unique
key (occurrence:step:recipient:channel) in the caller's transaction, so that a re-run or a
concurrent run adds nothing. Delivery (notifications/outbox.py) sends the rows."""

from __future__ import annotations

import datetime as dt
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
    if item.occurrence_id is None:
        occurrence = f"{item.org}/{item.measure}"
    else:
        occurrence = f"{item.occurrence_id}@{item.due}" if item.due else str(item.occurrence_id)
    return f"{occurrence}:{item.step}:{recipient}:{channel}"


def enqueue(session: Session, *, items: list[PlannedItem], directory: Directory, settings: Settings,
            now: dt.datetime) -> int:
    """One row per (item, channel of the item's recipient); a key already claimed is left
    alone (insert-or-ignore on idem_key). Returns how many rows are new. The caller commits."""
    rows: list[dict[str, Any]] = []
    routes: dict[tuple[str, str], str] = {}
    for item in items:
        person = directory.people.get(item.recipient)
        for channel in channels.channels_for(person, settings) if person else [channels.JOURNAL]:
            key = (item.recipient, channel)
            if key not in routes:
                routes[key] = _masked(person, channel, settings)
            rows.append(_row(item, channel, routes[key], now))
    return outbox_rows.insert_new(session, rows)


def _masked(person: Person | None, channel: str, settings: Settings) -> str:
    if person is None:
        return ""
    try:
        return channels.target_for(person, channel, settings).masked
    except InputError:
        return ""


def _row(item: PlannedItem, channel: str, masked: str, now: dt.datetime) -> dict[str, Any]:
    return {
        "org": item.org, "idem_key": idem_key(item, item.recipient, channel),
        "occurrence_id": item.occurrence_id, "measure": item.measure[:16],
        "step": item.step, "kind": item.kind, "recipient": item.recipient, "channel": channel,
        "payload": item.payload(),
        "status": OutboxStatus.PENDING, "attempts": 0, "next_attempt_at": now, "last_error": None,
        "masked_target": masked, "subject": None, "language": None, "batch_id": None,
        "claimed_at": None, "created_at": now, "sent_at": None, "updated_at": now,
    }
