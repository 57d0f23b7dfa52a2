"""What the ESG office and the Board read: targets, status, the Board report and calendar
feeds, each read in one session_scope for one organisation or all (models/store holds the
queries, flows/reports the shaping)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.engine import Engine

from flows.reports.board import BoardReport, build_report
from flows.reports.calendar import FeedItem, feed_items
from flows.reports.status import StatusReport, status_report, target_views
from models.core.directory import Directory
from models.core.errors import InputError
from models.core.policy import Policy
from models.core.targets import TargetView
from models.store.db import session_scope
from models.store.measures import org_codes, role_names_of


def targets(engine: Engine, *, org: str | None, as_of: dt.date) -> list[TargetView]:
    with session_scope(engine) as session:
        return target_views(session, orgs=org_codes(session, org=org), as_of=as_of)


def status(engine: Engine, *, org: str | None, as_of: dt.date, by: str, lang: str,
           period: int | None = None) -> StatusReport:
    with session_scope(engine) as session:
        return status_report(session, orgs=org_codes(session, org=org), as_of=as_of, by=by, lang=lang,
                             period=period)


def board_report(engine: Engine, *, org: str | None, period: int, as_of: dt.date, lang: str, policy: Policy,
                 directory: Directory | None) -> BoardReport:
    with session_scope(engine) as session:
        return build_report(session, orgs=org_codes(session, org=org), period=period, as_of=as_of, lang=lang,
                            policy=policy, directory=directory)


def calendar_items(engine: Engine, *, org: str | None, lang: str, roles: set[str] | None = None,
                   unit: str | None = None, external: bool = False) -> list[FeedItem]:
    """The open occurrences a feed shows: every one, a person's roles' (with the measures
    without an internal executor when they are the ESG office) or one role's (`unit`)."""
    with session_scope(engine) as session:
        orgs = org_codes(session, org=org)
        if unit is not None:
            if not any(unit in names for names in role_names_of(session, orgs=orgs).values()):
                raise InputError("no such role in the roadmap (see `esgtrack measures --format json`, "
                                 "executor_roles / unit_roles)", field="--unit", value=unit)
            roles = {unit}
        return feed_items(session, orgs=orgs, lang=lang, roles=roles, external=external)
