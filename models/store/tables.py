"""SQLModel tables. Every row carries its organisation: one database serves a holding."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Dialect
    from sqlalchemy.orm import Mapper

from models.core.delivery import OutboxStatus
from models.core.schedule import OccurrenceStatus, local_date


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores UTC; returns aware UTC datetimes on every backend. SQLite keeps naive values, so
    this is the one place where the zone is re-attached."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def _ts(nullable: bool = False, **kw: Any) -> sa.Column[dt.datetime]:
    return sa.Column(UTCDateTime(), nullable=nullable, **kw)


class Organisation(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=32)
    name: str = ""
    created_at: dt.datetime = Field(sa_column=_ts())
    # The roadmap edition the occurrences were last expanded from: the daily flow refreshes
    # only organisations whose newest edition is not this one.
    occurrences_edition_id: int | None = None


class RoadmapEdition(SQLModel, table=True):
    __tablename__ = "roadmap_edition"

    id: int | None = Field(default=None, primary_key=True)
    org: str = Field(foreign_key="organisation.code", index=True, max_length=32)
    title: str
    source_name: str
    sha256: str = Field(max_length=64)
    horizon_start: int
    horizon_end: int
    measure_count: int
    changes: dict = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))
    imported_at: dt.datetime = Field(sa_column=_ts())


class MeasureRow(SQLModel, table=True):
    __tablename__ = "measure"
    __table_args__ = (
        sa.UniqueConstraint("org", "code", name="uq_measure_org_code"),
        # the few measures taken out of the roadmap, which the daily pass leaves alone
        sa.Index("ix_measure_inactive", "org", postgresql_where=sa.text("NOT active"),
                 sqlite_where=sa.text("active = 0")),
    )

    id: int | None = Field(default=None, primary_key=True)
    org: str = Field(foreign_key="organisation.code", index=True, max_length=32)
    code: str = Field(max_length=16)
    aspect: str = Field(max_length=1)
    number: int
    position: int
    topic: str
    topic_ru: str = ""
    topic_en: str = ""
    title: str
    title_ru: str = ""
    title_en: str = ""
    deadline_text: str
    kind: str = Field(max_length=16)
    start_year: int | None = None
    end_year: int | None = None
    rrule: str | None = None
    due_month: int = 12
    due_day: int = 31
    due_year_offset: int = 0
    completion_form: str
    completion_form_ru: str = Field(default="", sa_column_kwargs={"server_default": ""})
    completion_form_en: str = Field(default="", sa_column_kwargs={"server_default": ""})
    completion_kind: str = Field(max_length=32)
    executors: list = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    units: list = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    executor_roles: list = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    unit_roles: list = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    external_dependency: bool = False
    external_party: str | None = None
    target: dict | None = Field(default=None, sa_column=sa.Column(sa.JSON, nullable=True))
    active: bool = True
    edition_id: int | None = Field(default=None, foreign_key="roadmap_edition.id")


class OccurrenceRow(SQLModel, table=True):
    __tablename__ = "occurrence"
    __table_args__ = (
        sa.UniqueConstraint("measure_id", "period", "kind", "seq", name="uq_occurrence_slot"),
        sa.Index("ix_occurrence_org_status_due", "org", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org: str = Field(foreign_key="organisation.code", max_length=32)
    measure_id: int = Field(foreign_key="measure.id", index=True)
    period: int
    kind: str = Field(max_length=16)  # due | progress | opened
    seq: int = 0                      # as-needed occurrences opened more than once a year
    status: str = Field(default=OccurrenceStatus.OPEN.value, max_length=16)  # an OccurrenceStatus
    due_at: dt.datetime = Field(sa_column=_ts())
    # due_at's date in Almaty, set with it on every write (see _set_due_on). The daily pass
    # joins on it, so an instant written under another time-zone rule (Almaty moved from
    # UTC+6 to UTC+5 in 2024) still matches the day's ladder. Nullable only so that
    # migration 0007 could add it without rebuilding the table; every write sets it.
    due_on: dt.date | None = Field(default=None, sa_column=sa.Column(sa.Date, nullable=True))
    planned_due_at: dt.datetime = Field(sa_column=_ts())  # as the roadmap set it
    rescheduled: bool = False
    completed_at: dt.datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    late: bool | None = None
    updated_at: dt.datetime = Field(sa_column=_ts())


def _set_due_on(_mapper: Mapper[OccurrenceRow], _connection: Connection, target: OccurrenceRow) -> None:
    target.due_on = local_date(target.due_at)


sa.event.listen(OccurrenceRow, "before_insert", _set_due_on)
sa.event.listen(OccurrenceRow, "before_update", _set_due_on)


class RoleRow(SQLModel, table=True):
    """A role the roadmap names (an executor or a unit), with its names in kk / ru / en."""

    __tablename__ = "role"

    org: str = Field(foreign_key="organisation.code", primary_key=True, max_length=32)
    id: str = Field(primary_key=True, max_length=80)
    kind: str = Field(default="unit", max_length=16)
    name_kk: str = ""
    name_ru: str = ""
    name_en: str = ""


class TargetRow(SQLModel, table=True):
    """A measure's numeric target: stated by the document ("document") or by the ESG office
    ("set"), with its baseline and optional milestones [[year, value], ...]."""

    __tablename__ = "target"
    __table_args__ = (sa.UniqueConstraint("org", "measure_id", "metric", name="uq_target_metric"),)

    id: int | None = Field(default=None, primary_key=True)
    org: str = Field(foreign_key="organisation.code", index=True, max_length=32)
    measure_id: int = Field(foreign_key="measure.id", index=True)
    metric: str = Field(max_length=120)
    unit: str = Field(default="", max_length=32)
    direction: str = Field(default="at_least", max_length=16)  # at_least | at_most
    baseline_year: int | None = None
    baseline_value: float | None = None
    target_year: int
    target_value: float
    milestones: list = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    source: str = Field(default="set", max_length=16)  # document | set
    updated_at: dt.datetime = Field(sa_column=_ts())


class TargetReadingRow(SQLModel, table=True):
    """One recorded value of a target in a year; a later reading of the same year corrects it."""

    __tablename__ = "target_reading"

    id: int | None = Field(default=None, primary_key=True)
    org: str = Field(foreign_key="organisation.code", index=True, max_length=32)
    target_id: int = Field(foreign_key="target.id", index=True)
    year: int
    value: float
    actor: str = Field(max_length=200)
    recorded_at: dt.datetime = Field(sa_column=_ts())
    evidence_ref: str | None = None
    evidence_sha256: str | None = Field(default=None, max_length=64)


class LadderStepRow(SQLModel, table=True):
    """The step due on one day for every (due date, occurrence kind): a pure function of the
    day and the policy (models.core.escalation.steps_due_on), stored so that the daily pass claims
    steps with a join. Keyed by day and policy; a key's rows are written by the first batch
    that needs them and dropped two days after they were last written."""

    __tablename__ = "ladder_step"

    key: str = Field(primary_key=True, max_length=64)  # as_of:digest of the rows
    due_on: dt.date = Field(primary_key=True)             # an occurrence's due date (Almaty)
    occ_kind: str = Field(primary_key=True, max_length=16)
    step: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    level: int = 0
    written_at: dt.datetime = Field(sa_column=_ts())


class NoticeRow(SQLModel, table=True):
    """One step of one occurrence's ladder for one due date, claimed by the daily pass in
    SQL under its primary key (a re-run or a concurrent run inserts nothing). Delivery fans
    each notice out into outbox messages, one per recipient and channel, and stamps
    expanded_at; a partial index holds the notices still to expand."""

    __tablename__ = "notice"
    __table_args__ = (
        sa.Index("ix_notice_pending", "occurrence_id",
                 postgresql_where=sa.text("expanded_at IS NULL"),
                 sqlite_where=sa.text("expanded_at IS NULL")),
    )

    # The natural key is the primary key, and there are no foreign keys: notices are written
    # only by INSERT … SELECT from occurrence (the reference holds by construction) and
    # occurrences are never deleted. Each index or check costs the daily pass a tenth to a
    # third of its time on PostgreSQL (bench/RESULTS.md).
    occurrence_id: int = Field(primary_key=True)
    due_at: dt.datetime = Field(sa_column=sa.Column(UTCDateTime(), primary_key=True))  # its deadline
    step: str = Field(primary_key=True, max_length=64)  # remind-30 | escalate-14 | escalate-30-r2 …
    org: str = Field(max_length=32)
    kind: str = Field(max_length=16)               # reminder | escalation
    level: int = 0
    planned_on: dt.date                            # the Almaty date of the pass that claimed it
    created_at: dt.datetime = Field(sa_column=_ts())
    expanded_at: dt.datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    messages: int | None = None                    # recipients it made messages for (0: cancelled)


class OutboxMessage(SQLModel, table=True):
    """One message to one person over one channel about one occurrence's step. The unique
    idem_key is claimed before sending: a re-run or a concurrent run inserts nothing."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        sa.UniqueConstraint("idem_key", name="uq_outbox_idem_key"),
        sa.Index("ix_outbox_status_next", "status", "next_attempt_at"),
        sa.Index("ix_outbox_org_occurrence", "org", "occurrence_id"),
        sa.Index("ix_outbox_message_key", "message_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org: str = Field(max_length=32)  # no foreign key: a flow-failure alert may precede any import
    idem_key: str = Field(max_length=300)  # occurrence:step:recipient:channel (unique)
    occurrence_id: int | None = Field(default=None, foreign_key="occurrence.id")
    measure: str = Field(default="", max_length=16)
    step: str = Field(max_length=64)
    kind: str = Field(max_length=16)            # reminder | escalation | alert
    recipient: str = Field(max_length=120)      # person id in the directory
    channel: str = Field(max_length=24)         # email | teams | journal | apprise[-N]
    payload: dict = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))
    status: str = Field(default=OutboxStatus.PENDING.value, max_length=16)  # an OutboxStatus
    # pending | sending | sent | failed (will retry) | dead | unknown | cancelled
    attempts: int = 0
    next_attempt_at: dt.datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    last_error: str | None = None               # masked
    masked_target: str = ""
    subject: str | None = None                  # as sent (a digest's subject when grouped)
    language: str | None = Field(default=None, max_length=8)
    batch_id: str | None = Field(default=None, max_length=40)
    claimed_at: dt.datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: dt.datetime = Field(sa_column=_ts())
    sent_at: dt.datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    updated_at: dt.datetime = Field(sa_column=_ts())
    # Fallback (notifications/fallback.py): the rows of one message share message_key
    # (occurrence:step:recipient); hop 0 is the first route of the person's fallback order,
    # hop N the Nth route tried after all rows of the one before ended dead.
    message_key: str | None = Field(default=None, max_length=300)
    hop: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    fallback_reason: str | None = None          # on a fallback row: why it exists (masked)
    fallback_to: str | None = Field(default=None, max_length=64)  # on a dead row: the route that
    # took the message on, "none" (the order is exhausted) or "not needed" (delivered otherwise)


class LedgerEntry(SQLModel, table=True):
    """One entry of an organisation's completion ledger: append-only (database triggers refuse
    UPDATE and DELETE), each entry holding the hash of the one before (models/core/ledger.py)."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        sa.UniqueConstraint("org", "seq", name="uq_ledger_org_seq"),
        sa.UniqueConstraint("org", "prev_hash", name="uq_ledger_org_prev_hash"),
        sa.UniqueConstraint("hash", name="uq_ledger_hash"),
        sa.Index("ix_ledger_org_occurrence", "org", "occurrence_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org: str = Field(foreign_key="organisation.code", max_length=32)
    seq: int
    event: str = Field(max_length=32)
    actor: str = Field(max_length=200)
    at: dt.datetime = Field(sa_column=_ts())
    measure: str | None = Field(default=None, max_length=16)  # the code when it was recorded
    period: int | None = None
    occurrence_id: int | None = None  # no foreign key: the ledger outlives any row it names
    payload: str = Field(sa_column=sa.Column(sa.Text, nullable=False))  # canonical JSON
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class StaffUser(SQLModel, table=True):
    """A person of the ESG office, an auditor or an administrator who signs in to the portal
    (esgtrack users add). Officers never have one: they open signed links."""

    __tablename__ = "staff_user"
    __table_args__ = (sa.UniqueConstraint("username", name="uq_staff_user_username"),)

    id: int | None = Field(default=None, primary_key=True)
    org: str = Field(max_length=32)
    username: str = Field(max_length=120)
    name: str = ""
    email: str | None = Field(default=None, max_length=254)  # single sign-on matches on it
    role: str = Field(max_length=16)                         # esg_office | auditor | admin
    password_hash: str | None = None                         # argon2id; None: single sign-on only
    active: bool = True
    created_at: dt.datetime = Field(sa_column=_ts())


class Submission(SQLModel, table=True):
    """What an officer sent from the portal for the ESG office to decide (maker-checker): a
    completion with its evidence, or a request to move a deadline."""

    __tablename__ = "submission"
    __table_args__ = (sa.Index("ix_submission_org_state", "org", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    org: str = Field(max_length=32)
    occurrence_id: int = Field(foreign_key="occurrence.id")
    measure: str = Field(max_length=16)
    period: int
    person: str = Field(max_length=120)             # the officer (a directory person id)
    kind: str = Field(max_length=16)                # completion | reschedule
    state: str = Field(default="pending", max_length=16)  # pending | accepted | returned
    payload: dict = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))
    created_at: dt.datetime = Field(sa_column=_ts())
    decided_at: dt.datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    decided_by: str | None = Field(default=None, max_length=200)
    reason: str | None = None                       # why it was returned


class LinkRevocation(SQLModel, table=True):
    """Every link of this person issued before `revoked_before` no longer opens."""

    __tablename__ = "link_revocation"

    org: str = Field(primary_key=True, max_length=32)
    person: str = Field(primary_key=True, max_length=120)
    revoked_before: dt.datetime = Field(sa_column=_ts())
    revoked_by: str = Field(max_length=200)
    reason: str = ""


class LoginAttempt(SQLModel, table=True):
    """A failed sign-in (per user name and per client address): the portal throttles on them."""

    __tablename__ = "login_attempt"
    __table_args__ = (sa.Index("ix_login_attempt_key_at", "key", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200)
    at: dt.datetime = Field(sa_column=_ts())


class _Keyed(Protocol):
    @property
    def id(self) -> int | None: ...


def stored_id(row: _Keyed) -> int:
    """The id of a row the database holds (read, or added and flushed). SQLModel types ids
    int | None: None only until the row is inserted."""
    assert row.id is not None, f"{type(row).__name__} has no id until it is flushed"
    return row.id


def table_of(model: type[SQLModel]) -> sa.Table:
    """A table model's Table. SQLAlchemy's declarative mapping sets __table__ on the class;
    SQLModel does not declare it, so type checkers do not know it."""
    return model.__table__  # type: ignore[attr-defined]  # set by the mapping, undeclared by SQLModel


from models.store.ledger_triggers import attach_append_only  # noqa: E402  (needs the table above)

for _table in (LedgerEntry, TargetReadingRow, RoadmapEdition):
    attach_append_only(table_of(_table))
