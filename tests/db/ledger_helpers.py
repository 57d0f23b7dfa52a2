"""Helpers for the ledger tests: record events through the real use cases, and tamper with a
database as an attacker with database access would (triggers dropped first)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from config.settings import get_settings
from flows.usecases import occurrences as events
from models.core.evidence_rules import Evidence
from models.store.db import session_scope
from models.store.ledger_triggers import drop_statements

UTC = dt.UTC
NOW = dt.datetime(2025, 11, 3, 6, 0, tzinfo=UTC)  # before every 2025 deadline


def ref(code: str, period: int | None = 2025, org: str = "KT", **kw) -> events.OccurrenceRef:
    return events.OccurrenceRef(org=org, measure=code, period=period, **kw)


def complete(engine, code: str, period: int = 2025, *, actor: str = "aigerim", now=NOW,
             files: tuple[Path, ...] = (), org: str = "KT", **evidence) -> events.Recorded:
    with session_scope(engine) as s:
        return events.complete(s, ref=ref(code, period, org=org), actor=actor,
                               evidence=Evidence(**evidence), files=list(files),
                               store_root=get_settings().evidence_dir, now=now)


def complete_order(engine, code: str = "E6", period: int = 2025, **kw) -> events.Recorded:
    return complete(engine, code, period, ref=f"{code}-{period}/1", date=dt.date(2025, 10, 1), **kw)


def attack(engine, *statements: str, params: list[dict] | None = None) -> None:
    """Drop the append-only triggers, then run the statements (each with its params)."""
    with engine.begin() as conn:
        for statement in drop_statements(engine.dialect.name):
            conn.exec_driver_sql(statement)
        for i, statement in enumerate(statements):
            conn.execute(sa.text(statement), (params or [{}] * len(statements))[i])


def rows(engine, where: str = "") -> list[dict]:
    with engine.connect() as conn:
        result = conn.execute(sa.text(f"SELECT * FROM ledger_entry {where} ORDER BY org, seq"))
        return [dict(r._mapping) for r in result]
