"""Claims: the day's escalation ladder as rows, and the notices the daily pass claims by
joining it to the open occurrences in SQL, one per occurrence step (flows/usecases/planning.py);
delivery expands them into outbox rows (notifications/fanout.py) and marks them expanded.

An occurrence's step on a given day depends only on its due date and kind (models/core/escalation),
so the pass computes the day's ladder once (a few hundred (due date, kind, step) rows) and
claims every matching open occurrence with one INSERT … SELECT per batch of organisations:
no occurrence is read into Python.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, Row
from sqlmodel import Session, col

from models.core.escalation import steps_due_on
from models.core.policy import Policy
from models.core.schedule import OccurrenceKind, OccurrenceStatus, end_of_day, local_date
from models.store.db import among, insert, rowcount
from models.store.tables import LadderStepRow, MeasureRow, NoticeRow, OccurrenceRow, UTCDateTime, table_of

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite

LOOKBACK_MARGIN_DAYS = 15  # business-day shifts and holidays around the ladder's ends


def ladder_window(policy: Policy, as_of: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Due dates whose ladder can have a step on as_of: from the end of the longest
    escalation (with repeats) back, to the earliest reminder ahead."""
    ahead = max(policy.reminder_days, default=0) + LOOKBACK_MARGIN_DAYS
    top = policy.levels[-1].after_days if policy.levels else 0
    behind = top + policy.repeat_every * policy.repeat_max + LOOKBACK_MARGIN_DAYS
    return end_of_day(as_of - dt.timedelta(days=behind)), end_of_day(as_of + dt.timedelta(days=ahead))



def sent_steps(session: Session, *, orgs: list[str]) -> set[tuple[int, str]]:
    """(occurrence id, step) pairs already claimed for the occurrence's current due date,
    whatever became of their messages. Steps claimed for a date the occurrence has since been
    rescheduled from do not count: the new deadline gets its own ladder."""
    query = (sa.select(col(NoticeRow.occurrence_id), col(NoticeRow.step))
             .join(OccurrenceRow, sa.and_(col(OccurrenceRow.id) == NoticeRow.occurrence_id,
                                          col(OccurrenceRow.due_at) == NoticeRow.due_at))
             .where(among(session, col(OccurrenceRow.org), orgs), col(OccurrenceRow.status) == OccurrenceStatus.OPEN))
    return {(occ, step) for occ, step in session.execute(query)}


OCCURRENCE_KINDS = tuple(kind.value for kind in OccurrenceKind)
LADDER_KEEP = dt.timedelta(days=2)  # a key's rows outlive any run that uses them


@lru_cache(maxsize=8)
def day_ladder(policy: Policy, as_of: dt.date) -> tuple[dict[str, Any], ...]:
    """Every (due date, occurrence kind) in the ladder's window whose step on as_of exists.
    Computed once per process and day: every batch of the run uses the same rows."""
    start, end = ladder_window(policy, as_of)
    return tuple({"due_on": due, "occ_kind": kind, "step": step.id, "kind": step.kind,
                  "level": step.level}
                 for due, kind, step in steps_due_on(as_of, local_date(start), local_date(end),
                                                     OCCURRENCE_KINDS, policy))


@lru_cache(maxsize=8)
def ladder_key(policy: Policy, as_of: dt.date) -> str:
    """as_of and a digest of the ladder itself (so of the policy and the holidays)."""
    digest = hashlib.sha256(repr(day_ladder(policy, as_of)).encode()).hexdigest()[:16]
    return f"{as_of.isoformat()}:{digest}"


def ensure_ladder(session: Session, *, policy: Policy, as_of: dt.date, now: dt.datetime) -> str:
    """The day's ladder rows under their key, written in the caller's transaction unless they
    are all there already (a repeat or a concurrent writer changes nothing), and kept fresh:
    rows last written more than LADDER_KEEP ago are dropped, and a key in use is rewritten
    after a day, so no run loses its rows. Returns the key."""
    key, rows = ladder_key(policy, as_of), day_ladder(policy, as_of)
    if not ladder_stored(session, policy=policy, as_of=as_of, now=now):
        L = table_of(LadderStepRow)
        session.execute(L.delete().where(L.c.written_at < now - LADDER_KEEP))
        upsert = insert(session)(L)
        session.execute(upsert.on_conflict_do_update(
            index_elements=["key", "due_on", "occ_kind"], set_={"written_at": upsert.excluded.written_at}),
            [{**row, "key": key, "written_at": now} for row in rows])
        if session.get_bind().dialect.name == "postgresql":
            # fresh statistics, or the planner takes the new key for one row and loops over it
            session.execute(sa.text("ANALYZE ladder_step"))
    return key


def ladder_stored(session: Session, *, policy: Policy, as_of: dt.date, now: dt.datetime) -> bool:
    """Whether all the day's ladder rows are stored and were written less than a day ago."""
    L = table_of(LadderStepRow)
    have, oldest = session.execute(sa.select(sa.func.count(), sa.func.min(L.c.written_at))
                                   .where(L.c.key == ladder_key(policy, as_of))).one()
    return have == len(day_ladder(policy, as_of)) and oldest is not None and oldest >= now - LADDER_KEEP / 2


def with_ladder(engine: Engine, session: Session, *, policy: Policy, as_of: dt.date,
                 now: dt.datetime) -> None:
    """The batch's first statement checks the day's ladder. On PostgreSQL, when it is missing
    or old, it is written in a short transaction of its own, so that concurrent batches never
    wait on each other's claims; the batch's transaction, which has done nothing yet, is
    ended first and holds no lock the writer could wait for. On SQLite it is written in the
    batch's transaction, which holds the one write lock anyway."""
    if engine.dialect.name != "postgresql":
        ensure_ladder(session, policy=policy, as_of=as_of, now=now)
    elif not ladder_stored(session, policy=policy, as_of=as_of, now=now):
        session.rollback()
        with Session(engine) as writer:
            ensure_ladder(writer, policy=policy, as_of=as_of, now=now)
            writer.commit()


NOTICE_KEY = "notice_pkey"  # the primary key's name on PostgreSQL


def claim_steps(session: Session, *, orgs: list[str], as_of: dt.date, policy: Policy,
                now: dt.datetime) -> int:
    """Claim one notice per open occurrence (of an active measure) whose step is due on
    as_of and not yet claimed for its due date. Returns how many are new. The caller has
    stored the day's ladder (ensure_ladder) and commits. On PostgreSQL the planner settings
    of plan_as_probes hold for the rest of the caller's transaction: claim last."""
    if not orgs or not day_ladder(policy, as_of):
        return 0
    statement = claim_statement(session, orgs=orgs, as_of=as_of, policy=policy, now=now)
    guarded = statement.on_conflict_do_nothing(index_elements=["occurrence_id", "due_at", "step"])
    # preserve_rowcount: psycopg reports an INSERT … SELECT's count only when asked
    options = {"preserve_rowcount": True}
    if session.get_bind().dialect.name != "postgresql":
        return rowcount(session.execute(guarded, execution_options=options))  # one writer at a time
    # NOT EXISTS already skips the steps claimed, so a plain INSERT is enough: ON CONFLICT
    # would cost a third of the pass (speculative insertion). Only a concurrent run can claim
    # one of these steps after this statement's snapshot; its primary key then refuses the
    # row, the savepoint is rolled back and the guarded statement, which sees it, runs.
    plan_as_probes(session)
    try:
        with session.begin_nested():
            return rowcount(session.execute(statement, execution_options=options))
    except sa.exc.IntegrityError as error:
        if getattr(getattr(error.orig, "diag", None), "constraint_name", None) != NOTICE_KEY:
            raise
        return rowcount(session.execute(guarded, execution_options=options))


def claim_statement(session: Session, *, orgs: list[str], as_of: dt.date, policy: Policy,
                    now: dt.datetime) -> postgresql.Insert | sqlite.Insert:
    """INSERT INTO notice … SELECT the batch's open occurrences joined to the day's ladder,
    minus the steps already claimed for their due date."""
    key = ladder_key(policy, as_of)
    o, m, n, L = table_of(OccurrenceRow), table_of(MeasureRow), table_of(NoticeRow), table_of(LadderStepRow)
    start, end = ladder_window(policy, as_of)
    # Measures taken out of the roadmap: few (a partial index holds them), so excluding them
    # is a small hashed list instead of a join to every occurrence's measure.
    inactive = sa.select(m.c.id).where(among(session, m.c.org, orgs), sa.not_(m.c.active))
    # Occurrences drive the join and each finds its ladder row by primary key. SQLite would
    # rather loop over the ladder and probe occurrences once per (row, organisation);
    # a unary + on the join's occurrence side keeps it from using the index that way.
    due = sa.literal_column("+occurrence.due_on") if session.get_bind().dialect.name == "sqlite" else o.c.due_on
    claimed = sa.exists().where(n.c.occurrence_id == o.c.id, n.c.due_at == o.c.due_at, n.c.step == L.c.step)
    chosen = (
        sa.select(o.c.org, o.c.id, o.c.due_at, L.c.step, L.c.kind, L.c.level,
                  sa.literal(as_of, sa.Date()), sa.literal(now, UTCDateTime()))
        .select_from(o.join(L, sa.and_(L.c.key == key, L.c.due_on == due, L.c.occ_kind == o.c.kind)))
        # the window repeats what the ladder implies, so the (org, status, due_at) index
        # reads only the occurrences the floor reads
        .where(among(session, o.c.org, orgs), o.c.status == OccurrenceStatus.OPEN, o.c.due_at >= start,
               o.c.due_at <= end, o.c.measure_id.not_in(inactive), ~claimed)
    )
    return insert(session)(n).from_select(
        ["org", "occurrence_id", "due_at", "step", "kind", "level", "planned_on", "created_at"], chosen)


# A batch joins a few thousand occurrences: for those, nested loops of index probes are the
# right plan whatever the size of `notice`. PostgreSQL may choose otherwise when its figures
# for `notice` are stale, and it is then worst when it matters most, on the first run after
# an outage, which starts from an empty table and fills it batch by batch: a plan made while
# the table looked empty hashes all of it for every later batch, and a generic plan (psycopg
# prepares a statement on its fifth run) probed the key by `step` alone. Both turn quadratic.
PROBES = {"enable_hashjoin": "off", "enable_mergejoin": "off", "plan_cache_mode": "force_custom_plan"}


def plan_as_probes(session: Session) -> None:
    """PostgreSQL plans the rest of the transaction as nested loops of index probes, afresh
    for each statement (PROBES). The claim is the last statement of a batch's transaction."""
    session.execute(sa.select(*(sa.func.set_config(name, value, True) for name, value in PROBES.items())))


# --- notices: delivery's side --------------------------------------------------------------

N = table_of(NoticeRow)


def pending_notices(session: Session, *, after: int, limit: int, orgs: Sequence[str] | None = None
                    ) -> list[Row[Any]]:
    """A keyset page of the notices not yet expanded, from occurrence `after` on, over the
    pending index (occurrence_id). A page may end midway through an occurrence's notices; what
    was expanded is no longer pending, so >= on the last occurrence resumes exactly. Scoped to
    some organisations, the walk also passes (and filters out) the others' pending notices."""
    query = (sa.select(N.c.org, N.c.occurrence_id, N.c.due_at, N.c.step, N.c.kind, N.c.level, N.c.planned_on)
             .where(N.c.expanded_at.is_(None), N.c.occurrence_id >= after)
             .order_by(N.c.occurrence_id, N.c.due_at, N.c.step).limit(limit))
    if orgs is not None:
        query = query.where(among(session, N.c.org, orgs))
    return list(session.execute(query).all())


def mark_expanded(session: Session, *, made: dict[tuple[int, dt.datetime, str], int], now: dt.datetime) -> None:
    """Stamp notices (occurrence id, due_at, step) as expanded, with how many messages each made."""
    if made:
        session.execute(N.update().where(
            N.c.occurrence_id == sa.bindparam("o"), N.c.due_at == sa.bindparam("d"),
            N.c.step == sa.bindparam("s")).values(expanded_at=now, messages=sa.bindparam("made")),
            [{"o": key[0], "d": key[1], "s": key[2], "made": count} for key, count in made.items()])


def unexpanded_count(session: Session, *, org: str | None = None) -> int:
    """Steps the daily pass claimed that delivery has not turned into messages yet."""
    query = sa.select(sa.func.count()).select_from(NoticeRow).where(col(NoticeRow.expanded_at).is_(None))
    if org:
        query = query.where(col(NoticeRow.org) == org)
    return int(session.execute(query).scalar_one())
