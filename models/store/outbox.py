"""The outbox's rows: insert under the unique key (occurrence:step:recipient:channel), claim
the due ones, record outcomes, make failed ones due again, list and count. Functions run in
the caller's session; notifications/outbox.py decides what each transaction holds and
describes a row's life.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlmodel import Session, col

from models.core.delivery import OutboxStatus
from models.core.errors import InputError
from models.core.schedule import OccurrenceStatus
from models.store.db import among, insert, rowcount
from models.store.tables import OccurrenceRow, OutboxMessage, table_of

T = table_of(OutboxMessage)
CHUNK = 500
STATUSES = tuple(OutboxStatus)
LIVE = (None, OccurrenceStatus.OPEN)  # an alert has no occurrence


def chunks(values: list[Any], size: int = CHUNK) -> list[list[Any]]:
    return [values[i:i + size] for i in range(0, len(values), size)]


def insert_new(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert rows whose idem_key is not taken yet (insert-or-ignore); returns how many are new."""
    unique = list({r["idem_key"]: r for r in rows}.values())
    # One prepared statement executed for many rows (SQLAlchemy's insertmanyvalues batches
    # them); a multi-VALUES statement per chunk costs far more to compile than to run.
    statement = insert(session)(T).on_conflict_do_nothing(index_elements=["idem_key"]).returning(T.c.id)
    inserted = sum(len(session.execute(statement, part).all()) for part in chunks(unique))
    session.flush()
    return inserted


def expire_leases(session: Session, *, now: dt.datetime, lease: dt.timedelta) -> int:
    """Rows left "sending" by a run that died: we cannot know whether they went out."""
    result = session.execute(
        sa.update(T).where(T.c.status == OutboxStatus.SENDING, T.c.claimed_at < now - lease)
        .values(status=OutboxStatus.UNKNOWN, updated_at=now,
                last_error="interrupted while sending (lease expired); may have arrived"))
    return rowcount(result) or 0


def claim_due(session: Session, *, now: dt.datetime, batch_id: str, limit: int | None = None,
              orgs: Sequence[str] | None = None) -> tuple[list[Row[Any]], int]:
    """Mark due rows "sending" (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's BEGIN IMMEDIATE
    serialises claimers). Rows whose occurrence is no longer open are cancelled instead.
    Returns the claimed rows (as they were read: attempts before this one) and how many were
    cancelled."""
    occ = table_of(OccurrenceRow)
    query = (
        sa.select(T.c.id, T.c.org, T.c.recipient, T.c.channel, T.c.measure, T.c.payload,
                  T.c.attempts, occ.c.status.label("occ_status"))
        .select_from(T.outerjoin(occ, occ.c.id == T.c.occurrence_id))
        .where(T.c.status.in_((OutboxStatus.PENDING, OutboxStatus.FAILED)), T.c.next_attempt_at <= now)
        .order_by(T.c.next_attempt_at, T.c.id).limit(limit)
        .with_for_update(of=T, skip_locked=True)
    )
    if orgs is not None:
        query = query.where(among(session, T.c.org, orgs))
    rows = session.execute(query).all()
    stale = [r.id for r in rows if r.occ_status not in LIVE]
    live = [r for r in rows if r.occ_status in LIVE]
    for ids in chunks(stale):
        session.execute(sa.update(T).where(T.c.id.in_(ids)).values(
            status=OutboxStatus.CANCELLED, updated_at=now, batch_id=batch_id,
            last_error="the occurrence is no longer open (completed, waived or withdrawn)"))
    for ids in chunks([r.id for r in live]):
        session.execute(sa.update(T).where(T.c.id.in_(ids)).values(
            status=OutboxStatus.SENDING, batch_id=batch_id, claimed_at=now, updated_at=now,
            attempts=T.c.attempts + 1))
    return live, len(stale)


def record(session: Session, updates: list[dict[str, Any]]) -> None:
    """Outcomes: each update names its row as "_id" and the columns to set; a row without a
    masked target keeps the one it has."""
    with_target = [u for u in updates if u["masked_target"]]
    without = [{k: v for k, v in u.items() if k != "masked_target"} for u in updates if not u["masked_target"]]
    for batch in (with_target, without):
        if batch:  # executemany: the SET clause comes from the keys of the dicts
            session.execute(sa.update(T).where(T.c.id == sa.bindparam("_id")), batch)


def problems(session: Session, *, batch_id: str | None = None) -> list[dict[str, Any]]:
    """Dead and unknown rows (of one batch, or all): what the flow and the CLI report."""
    query = sa.select(T.c.id, T.c.org, T.c.measure, T.c.step, T.c.recipient, T.c.channel,
                      T.c.status, T.c.attempts, T.c.last_error, T.c.masked_target, T.c.hop,
                      T.c.fallback_to) \
        .where(T.c.status.in_((OutboxStatus.DEAD, OutboxStatus.UNKNOWN))).order_by(T.c.id)
    if batch_id is not None:
        query = query.where(T.c.batch_id == batch_id)
    return [dict(row._mapping) for row in session.execute(query)]


def make_due(session: Session, *, now: dt.datetime, unknown: bool = False, dead: bool = False,
             orgs: Sequence[str] | None = None) -> int:
    """Make failed rows (and, on request, unknown or dead ones) due now, of these
    organisations or all. Dead rows start their attempts afresh. Returns how many rows."""
    scope = among(session, T.c.org, orgs) if orgs is not None else sa.true()
    statuses = [OutboxStatus.FAILED] + ([OutboxStatus.UNKNOWN] if unknown else [])
    total = rowcount(session.execute(sa.update(T).where(T.c.status.in_(statuses), scope).values(
        status=OutboxStatus.PENDING, next_attempt_at=now, updated_at=now))) or 0
    if dead:  # only rows whose message nothing delivered, at the end of its fallback chain:
        # resending a row the message moved on from, or one delivered otherwise, would duplicate it
        end = sa.or_(T.c.fallback_to.is_(None), T.c.fallback_to == "none")
        total += rowcount(session.execute(sa.update(T).where(
            T.c.status == OutboxStatus.DEAD, scope, end, ~_delivered()).values(
            status=OutboxStatus.PENDING, next_attempt_at=now, attempts=0, updated_at=now,
            fallback_to=None))) or 0
    return total


def unsettled(session: Session, *, orgs: Sequence[str] | None = None) -> list[str]:
    """Messages with a dead row not handed on yet (notifications/fallback.py decides)."""
    query = sa.select(T.c.message_key).where(T.c.status == OutboxStatus.DEAD, T.c.fallback_to.is_(None),
                                             T.c.message_key.is_not(None)).distinct()
    if orgs is not None:
        query = query.where(among(session, T.c.org, orgs))
    return list(session.execute(query).scalars())


def message_rows(session: Session, *, keys: list[str]) -> list[Row[Any]]:
    """Every row of these messages, whichever route and hop."""
    found: list[Row[Any]] = []
    for part in chunks(keys):
        found += session.execute(sa.select(
            T.c.id, T.c.message_key, T.c.hop, T.c.recipient, T.c.channel, T.c.status, T.c.payload,
            T.c.last_error, T.c.fallback_to).where(T.c.message_key.in_(part)).order_by(T.c.id)).all()
    return found


def mark_fallback(session: Session, *, ids: list[int], to: str, now: dt.datetime) -> None:
    """Dead rows whose message went on to the route `to` (or "none", "not needed")."""
    for part in chunks(ids):
        session.execute(sa.update(T).where(T.c.id.in_(part)).values(fallback_to=to[:64], updated_at=now))


def _delivered() -> sa.ColumnElement[bool]:
    """The row's message reached someone: a row of it (any route, any hop) was sent."""
    other = T.alias("other")
    return sa.exists().where(other.c.message_key == T.c.message_key, other.c.status == OutboxStatus.SENT)


def remaining(session: Session, *, orgs: Sequence[str] | None = None) -> dict[str, int]:
    """What is left undone after a delivery: failed rows (retried later), pending rows not due
    yet, and dead rows whose message no route delivered ("dead") or another one did
    ("dead_delivered": a sibling channel or a fallback)."""
    scope = among(session, T.c.org, orgs) if orgs is not None else sa.true()
    delivered = _delivered()
    query = sa.select(
        sa.func.count().filter(T.c.status == OutboxStatus.FAILED),
        sa.func.count().filter(T.c.status == OutboxStatus.PENDING),
        sa.func.count().filter(T.c.status == OutboxStatus.DEAD, ~delivered),
        sa.func.count().filter(T.c.status == OutboxStatus.DEAD, delivered),
    ).where(scope, T.c.status.in_((OutboxStatus.FAILED, OutboxStatus.PENDING, OutboxStatus.DEAD)))
    failed, pending, dead, dead_delivered = session.execute(query).one()
    return {"failed": failed, "pending": pending, "dead": dead, "dead_delivered": dead_delivered}


def list_rows(session: Session, *, status: str | None = None, org: str | None = None,
              limit: int | None = None) -> list[OutboxMessage]:
    if status is not None and status not in STATUSES:
        raise InputError(f"status must be one of {', '.join(STATUSES)}", field="--status", value=status)
    query = sa.select(OutboxMessage).order_by(col(OutboxMessage.id))
    if status:
        query = query.where(col(OutboxMessage.status) == status)
    if org:
        query = query.where(col(OutboxMessage.org) == org)
    if limit:
        query = query.limit(limit)
    return list(session.execute(query).scalars())


def status_counts(session: Session, *, org: str | None = None) -> dict[str, int]:
    query = sa.select(T.c.status, sa.func.count()).group_by(T.c.status)
    if org:
        query = query.where(T.c.org == org)
    return {status: n for status, n in session.execute(query)}  # noqa: C416 - a Result is not a mapping


def steps_claimed(session: Session, *, steps: Iterable[str]) -> set[str]:
    """Which of these steps already have a row (the target alerts' once-only steps)."""
    query = sa.select(T.c.step).where(T.c.step.in_(set(steps))).distinct()
    return set(session.execute(query).scalars())
