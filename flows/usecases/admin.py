"""Use cases behind `esgtrack directory …` and `esgtrack outbox …`: load, check, list, retry."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from config import DEFAULT_POLICY, SHIPPED_ROADMAP
from config.settings import Settings
from models.core.directory import (
    Directory,
    Person,
    check_directory,
    load_directory,
)
from models.core.normalised import load_roadmap
from models.core.policy import SPECIAL_RECIPIENTS, load_policy
from models.store import claims
from models.store import outbox as outbox_rows
from models.store.db import session_scope
from models.store.measures import measures, org_codes, roles_in_use, untranslated_codes
from models.store.tables import OutboxMessage
from notifications import channels
from notifications.outbox import DeliveryReport, deliver_pending, make_due


def load_into_home(path: Path, settings: Settings) -> tuple[Directory, Path]:
    """Validate a directory file, then copy it into the data directory (later runs use it)."""
    directory = load_directory(path)
    target = settings.loaded_directory
    target.parent.mkdir(parents=True, exist_ok=True)
    if Path(path).resolve() != target.resolve():
        shutil.copyfile(path, target)
    return directory, target


def policy_roles(settings: Settings) -> set[str]:
    """Role ids the policy names directly (the ESG office, escalation levels' roles)."""
    policy = load_policy(settings.policy or DEFAULT_POLICY)
    names = {policy.esg_office, *policy.progress_escalate_to, *policy.external_route_to}
    for level in policy.levels:
        names |= set(level.to)
    return {n for n in names if n not in SPECIAL_RECIPIENTS}


def roadmap_roles(engine: Engine | None, *, org: str | None = None) -> tuple[set[str], str]:
    """Role ids the active measures name (from the database, else the shipped roadmap)."""
    roles: set[str] = set()
    if engine is not None:
        with session_scope(engine) as session:
            roles = roles_in_use(session, org=org)
        if roles:
            return roles, "database"
    if SHIPPED_ROADMAP.exists():
        for m in load_roadmap(SHIPPED_ROADMAP).roadmap.measures:
            roles |= set(m.executor_roles) | set(m.unit_roles)
        return roles, f"shipped roadmap {SHIPPED_ROADMAP.name} (the database has no measures)"
    return roles, "nothing (no measures imported, no shipped roadmap)"


def check(engine: Engine | None, settings: Settings, *, org: str | None = None) -> dict[str, Any]:
    """Everything `directory check` reports, as plain values (exit 1 unless ok)."""
    path = settings.resolved_directory
    directory = load_directory(path)
    measure_roles, source = roadmap_roles(engine, org=org)
    required = measure_roles | policy_roles(settings)
    result = check_directory(directory, required_roles=required,
                             smtp_configured=channels.smtp_base(settings) is not None)
    invalid = invalid_urls(directory)
    readers = sorted({p.language for p in directory.people.values()} - {"kk"})
    return {
        "directory": str(path), "roles_from": source, "roles_required": len(required),
        "unheld_roles": list(result.unheld_roles), "no_channel": list(result.no_channel),
        "email_without_smtp": list(result.email_without_smtp), "journal_only": list(result.journal_only),
        "real_channels": result.real_channels, "invalid_urls": invalid,
        "untranslated": untranslated(engine, org=org) if readers else [], "readers": readers,
        "ok": result.ok and not invalid,
    }


def untranslated(engine: Engine | None, *, org: str | None = None) -> list[str]:
    """Measures (ORG:CODE) whose Russian or English title is still a placeholder: a warning of
    `directory check` when someone reads Russian or English."""
    if engine is None:
        return []
    with session_scope(engine) as session:
        return [f"{code}:{m}" for code in org_codes(session, org=org)
                for m in untranslated_codes(measures(session, org=code))]


def invalid_urls(directory: Directory) -> list[dict[str, str]]:
    """Teams and apprise URLs that apprise cannot use (shown masked)."""
    import apprise

    bad = []
    for person in directory.people.values():
        urls = ([("teams", person.teams)] if person.teams else []) + \
               [(f"apprise[{i}]", u) for i, u in enumerate(person.apprise)]
        for where, url in urls:
            if apprise.Apprise.instantiate(url, suppress_exceptions=True) is None:
                bad.append({"person": person.id, "channel": where, "url": channels.mask_url(url)})
    return bad


def people_rows(directory: Directory, settings: Settings) -> list[dict[str, Any]]:
    rows = []
    for person in directory.people.values():
        routes = channels.channels_for(person, settings)
        rows.append({
            "id": person.id, "name": person.name, "language": person.language,
            "email": person.email or "", "channels": routes,
            "targets": [_masked_target(person, c, settings) for c in routes],
            "roles": directory.roles_of(person.id), "deputy": person.deputy or "",
            "fallback": list(directory.order_of(person)),
        })
    return rows


def _masked_target(person: Person, channel: str, settings: Settings) -> str:
    return channels.target_for(person, channel, settings).masked


def outbox_dicts(rows: Iterable[OutboxMessage]) -> list[dict[str, Any]]:
    keys = ("id", "org", "measure", "step", "kind", "recipient", "channel", "status", "attempts",
            "next_attempt_at", "sent_at", "created_at", "masked_target", "subject", "language",
            "last_error", "idem_key", "occurrence_id", "batch_id", "message_key", "hop", "fallback_to",
            "fallback_reason")
    return [{k: _plain(getattr(r, k)) for k in keys} for r in rows]


def _plain(value: object) -> object:
    return value.isoformat(timespec="seconds") if isinstance(value, dt.datetime) else value


@dataclass(frozen=True)
class Listing:
    rows: list[dict[str, Any]]  # the messages, as plain values (outbox_dicts)
    counts: dict[str, int]    # status → how many
    waiting: int              # claimed steps not yet turned into messages


def list_outbox(engine: Engine, *, status: str | None = None, org: str | None = None,
                limit: int | None = None) -> Listing:
    with session_scope(engine) as session:
        return Listing(outbox_dicts(outbox_rows.list_rows(session, status=status, org=org, limit=limit)),
                       outbox_rows.status_counts(session, org=org),
                       claims.unexpanded_count(session, org=org))


def retry(engine: Engine, *, directory: Directory, settings: Settings, now: dt.datetime, unknown: bool = False,
          dead: bool = False, orgs: Sequence[str] | None = None,
          progress: Callable[[int, int], None] | None = None) -> tuple[int, DeliveryReport]:
    """Make failed (and, on request, unknown or dead) messages due now, then deliver whatever
    is due. Returns how many were made due, and the delivery's report."""
    made_due = make_due(engine, now=now, unknown=unknown, dead=dead, orgs=orgs)
    return made_due, deliver_pending(engine, directory=directory, settings=settings, now=now, orgs=orgs,
                                     progress=progress)


def retry_failed(report: DeliveryReport) -> bool:
    """`outbox retry` fails (exit 1) when a message ended dead or unknown in this run, or when
    rows remain failed, or dead with their message undelivered by any route."""
    left = report.remaining
    return bool(report.problems or left.get("failed") or left.get("dead"))
