"""SQLModel tables. Every row carries its organisation: one database serves a holding."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator):
    """Stores UTC; returns aware UTC datetimes on every backend. SQLite keeps naive values, so
    this is the one place where the zone is re-attached."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _ts(nullable: bool = False, **kw) -> sa.Column:
    return sa.Column(UTCDateTime(), nullable=nullable, **kw)


class Organisation(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=32)
    name: str = ""
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=_ts())


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
    imported_at: dt.datetime = Field(default_factory=utcnow, sa_column=_ts())


class MeasureRow(SQLModel, table=True):
    __tablename__ = "measure"
    __table_args__ = (sa.UniqueConstraint("org", "code", name="uq_measure_org_code"),)

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
    status: str = Field(default="open", max_length=16)  # open | done | waived | withdrawn
    due_at: dt.datetime = Field(sa_column=_ts())
    planned_due_at: dt.datetime = Field(sa_column=_ts())  # as the roadmap set it
    rescheduled: bool = False
    completed_at: dt.datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    late: bool | None = None
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_column=_ts())


class RoleRow(SQLModel, table=True):
    """A role the roadmap names (an executor or a unit), with its names in kk / ru / en."""

    __tablename__ = "role"

    org: str = Field(foreign_key="organisation.code", primary_key=True, max_length=32)
    id: str = Field(primary_key=True, max_length=80)
    kind: str = Field(default="unit", max_length=16)
    name_kk: str = ""
    name_ru: str = ""
    name_en: str = ""
