"""Reading and appending ledger entries (one hash chain per organisation). Functions flush;
the caller's session_scope commits, so an event and the change it records land together."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.core.ledger import Entry, iso_utc, make_entry
from models.store.db import among
from models.store.tables import LedgerEntry

STREAM = 1000


def lock(session: Session, *, org: str) -> None:
    """Serialise appends to an organisation's chain until the transaction ends. PostgreSQL: a
    transaction-level advisory lock per organisation. SQLite: every transaction already holds
    the database's write lock (BEGIN IMMEDIATE, models/store/db.py)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                        {"key": f"esgtrack-ledger:{org}"})


def to_entry(row: LedgerEntry) -> Entry:
    return Entry(seq=row.seq, org=row.org, event=row.event, actor=row.actor, at=iso_utc(row.at),
                 measure=row.measure, period=row.period, occurrence_id=row.occurrence_id,
                 payload=row.payload, prev_hash=row.prev_hash, hash=row.hash)


def head(session: Session, *, org: str) -> Entry | None:
    row = session.exec(select(LedgerEntry).where(LedgerEntry.org == org)
                       .order_by(col(LedgerEntry.seq).desc()).limit(1)).first()
    return to_entry(row) if row else None


def append(session: Session, *, org: str, event: str, actor: str, at: dt.datetime, data: dict[str, Any],
           measure: str | None = None, period: int | None = None,
           occurrence_id: int | None = None) -> LedgerEntry:
    """Append one entry after the organisation's current head (under the chain's lock)."""
    if not actor.strip():
        raise ValueError("a ledger entry needs an actor")
    lock(session, org=org)
    entry = make_entry(head(session, org=org), org=org, event=event, actor=actor.strip(), at=at,
                       data=data, measure=measure, period=period, occurrence_id=occurrence_id)
    row = LedgerEntry(org=entry.org, seq=entry.seq, event=entry.event, actor=entry.actor,
                      at=dt.datetime.fromisoformat(entry.at), measure=entry.measure,
                      period=entry.period, occurrence_id=entry.occurrence_id,
                      payload=entry.payload, prev_hash=entry.prev_hash, hash=entry.hash)
    session.add(row)
    session.flush()
    return row


def chain(session: Session, *, org: str) -> Iterator[Entry]:
    """An organisation's whole chain in stored seq order, streamed."""
    query = select(LedgerEntry).where(LedgerEntry.org == org).order_by(col(LedgerEntry.seq))
    result = session.exec(query.execution_options(yield_per=STREAM))
    try:
        for row in result:
            yield to_entry(row)
    finally:  # a reader that stops early must not leave a server-side cursor open
        result.close()


def chain_orgs(session: Session) -> list[str]:
    """Every organisation that has a chain."""
    return list(session.exec(select(LedgerEntry.org).distinct().order_by(LedgerEntry.org)))


def find_hash(session: Session, *, hash: str) -> LedgerEntry | None:
    return session.exec(select(LedgerEntry).where(LedgerEntry.hash == hash.lower())).first()


def entry_at(session: Session, *, org: str, seq: int) -> Entry | None:
    """An organisation's entry of this seq, as stored (unverified); None: it has none."""
    row = session.exec(select(LedgerEntry).where(LedgerEntry.org == org, LedgerEntry.seq == seq)).first()
    return to_entry(row) if row else None


@dataclass(frozen=True)
class LogFilter:
    org: str | None = None
    period: int | None = None
    aspect: str | None = None
    measure: str | None = None
    actor: str | None = None      # exact, case-insensitive
    event: str | None = None
    occurrence_ids: tuple[int, ...] | None = None


def entries(session: Session, *, where: LogFilter = LogFilter()) -> list[LedgerEntry]:
    """Ledger entries in (org, seq) order, filtered; the rows are the stored ones, unverified."""
    query = select(LedgerEntry)
    if where.org:
        query = query.where(LedgerEntry.org == where.org)
    if where.period is not None:
        query = query.where(LedgerEntry.period == where.period)
    if where.aspect:
        query = query.where(col(LedgerEntry.measure).like(f"{where.aspect.upper()}%"))
    if where.measure:
        query = query.where(LedgerEntry.measure == where.measure.upper())
    if where.event:
        query = query.where(LedgerEntry.event == where.event)
    if where.occurrence_ids is not None:
        query = query.where(col(LedgerEntry.occurrence_id).in_(where.occurrence_ids))
    rows = list(session.exec(query.order_by(col(LedgerEntry.org), col(LedgerEntry.seq))))
    if where.actor:  # compared here: SQLite's lower() folds ASCII only, actors may be Cyrillic
        needle = where.actor.strip().casefold()
        rows = [row for row in rows if row.actor.casefold() == needle]
    return rows


def head_seqs(session: Session, *, orgs: list[str]) -> dict[str, int]:
    """The newest entry's seq of each of these organisations' chains (those with one)."""
    query = (sa.select(col(LedgerEntry.org), sa.func.max(col(LedgerEntry.seq)))
             .where(among(session, col(LedgerEntry.org), orgs)).group_by(col(LedgerEntry.org)))
    return {org: int(seq) for org, seq in session.execute(query)}
