"""Enqueue: one outbox row per (planned item, channel of its recipient), claimed by a unique
key (occurrence:step:recipient:channel) in the caller's transaction, so that a re-run or a
concurrent run adds nothing. Delivery (notifications/outbox.py) sends the rows."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from models.core.delivery import OutboxStatus
from models.core.directory import Directory, Person
from models.core.errors import InputError
from models.core.escalation import StepKind
from models.store import outbox as outbox_rows
from notifications import channels


def idem_key(item: dict, recipient: str, channel: str) -> str:
    """occurrence:step:recipient:channel, the occurrence qualified by its due date
    (occurrence@YYYY-MM-DD): a rescheduled deadline gets its own ladder. An alert has no
    occurrence: org/measure stands in."""
    occurrence = item.get("occurrence_id")
    if occurrence is None:
        occurrence = f"{item.get('org')}/{item.get('measure')}"
    elif item.get("due"):
        occurrence = f"{occurrence}@{item['due']}"
    return f"{occurrence}:{item['step']}:{recipient}:{channel}"


def enqueue(session: Session, *, items: list[dict], directory: Directory, settings, now: dt.datetime) -> int:
    """One row per (item, channel of the item's recipient); a key already claimed is left
    alone (insert-or-ignore on idem_key). Returns how many rows are new. The caller commits."""
    rows, routes = [], {}
    for item in items:
        person = directory.people.get(item["recipient"])
        for channel in channels.channels_for(person, settings) if person else [channels.JOURNAL]:
            key = (item["recipient"], channel)
            if key not in routes:
                routes[key] = _masked(person, channel, settings)
            rows.append(_row(item, channel, routes[key], now))
    return outbox_rows.insert_new(session, rows)


def _masked(person: Person | None, channel: str, settings) -> str:
    if person is None:
        return ""
    try:
        return channels.target_for(person, channel, settings).masked
    except InputError:
        return ""


def _row(item: dict, channel: str, masked: str, now: dt.datetime) -> dict:
    return {
        "org": item.get("org") or "", "idem_key": idem_key(item, item["recipient"], channel),
        "occurrence_id": item.get("occurrence_id"), "measure": str(item.get("measure") or "")[:16],
        "step": item["step"], "kind": item.get("kind") or StepKind.REMINDER,
        "recipient": item["recipient"], "channel": channel,
        "payload": item,  # plain JSON values already: the planner writes dates as ISO text
        "status": OutboxStatus.PENDING, "attempts": 0, "next_attempt_at": now, "last_error": None,
        "masked_target": masked, "subject": None, "language": None, "batch_id": None,
        "claimed_at": None, "created_at": now, "sent_at": None, "updated_at": now,
    }
