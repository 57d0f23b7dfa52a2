"""The outbox's vocabulary: the states a message row goes through (notifications/outbox.py)."""

from __future__ import annotations

from enum import StrEnum


class OutboxStatus(StrEnum):
    """A row's life: pending → sending → sent; refused → failed (retried with backoff) → dead;
    no answer in time → unknown; its occurrence closed meanwhile → cancelled."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DEAD = "dead"
    UNKNOWN = "unknown"
    CANCELLED = "cancelled"
