"""`esgtrack demo`: the main job on embedded defaults, in a data directory of its own.

A fresh SQLite database, the shipped roadmap and example directory, a short recorded history
(completions, approved reschedules, an as-needed occurrence opened) so that one morning shows
reminders and every escalation level, then the daily flow — messages go to the journal.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pendulum
from sqlalchemy.engine import Engine

from config import EXAMPLE_DIRECTORY, SHIPPED_ROADMAP
from config.settings import get_settings
from flows.usecases import checkpoints, database
from flows.usecases import occurrences as events
from flows.usecases import roadmap as roadmaps
from flows.usecases.daily import run_daily_pass
from flows.usecases.planning import load_directory_for
from models.core.errors import InputError
from models.core.evidence_rules import Evidence
from models.core.normalised import LoadedRoadmap, load_roadmap
from models.core.roadmap import ROADMAP_TZ
from models.store.db import session_scope
from models.store.measures import ImportReport
from models.store.occurrences import OccurrenceRef
from models.store.outbox import list_rows

DEMO_AS_OF = dt.date(2026, 2, 16)  # a Monday: 2025's deadlines are 47 days behind


@dataclass(frozen=True)
class Event:
    at: str            # when it was recorded (Almaty date)
    action: str        # complete | reschedule | open
    measure: str
    args: dict[str, str]


# What the ESG office recorded before the demo's morning. Each line is a real ledger event.
HISTORY = (
    Event("2025-11-03", "reschedule", "E4", {"to": "2025-12-15", "reason": "targets are set in the Q4 plan"}),
    Event("2025-11-20", "complete", "E6", {"ref": "412-Б", "date": "2025-11-19"}),
    Event("2025-12-10", "complete", "E8", {"ref": "455-Б", "date": "2025-12-09"}),
    Event("2025-12-22", "reschedule", "G4", {"to": "2026-01-30", "reason": "Board meeting moved"}),
    Event("2025-12-22", "reschedule", "S5", {"to": "2026-02-13", "reason": "tariff approval pending"}),
    Event("2026-01-12", "reschedule", "G9", {"to": "2026-02-23", "reason": "training provider chosen"}),
    Event("2026-01-20", "complete", "G8", {"ref": "ISO37001-KZ-2026-017", "valid_until": "2029-01-19"}),
    Event("2026-02-02", "open", "S10", {"due": "2026-03-18", "reason": "two new Board members"}),
)


MARKER = ".esgtrack-demo"


def prepare_home(home: Path) -> None:
    """A clean data directory and an environment that points only at it. Only a directory
    the demo made itself (or an empty one) is wiped."""
    if home.exists() and any(home.iterdir()):
        if not (home / MARKER).exists():
            raise InputError(f"refusing to wipe {home}: it is not a directory the demo made; "
                             "pick another with --home", field="--home", value=str(home))
        shutil.rmtree(home)
    home.mkdir(parents=True, exist_ok=True)
    (home / MARKER).write_text("made by esgtrack demo; wiped on its next run\n", encoding="utf-8")
    os.environ["ESGTRACK_HOME"] = str(home)
    os.environ["ESGTRACK_DATABASE_URL"] = f"sqlite:///{home / 'esgtrack.db'}"
    os.environ["ESGTRACK_DIRECTORY"] = str(EXAMPLE_DIRECTORY)
    os.environ.pop("ESGTRACK_SMTP_URL", None)  # the example's addresses are placeholders
    os.environ.pop("ESGTRACK_POLICY", None)
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")  # the demo prints its own summary
    get_settings.cache_clear()


def moment(day: str) -> dt.datetime:
    parsed = pendulum.parse(day, tz=ROADMAP_TZ)
    # a date (not exact=True) parses to a DateTime: its midnight in the roadmap's zone
    assert isinstance(parsed, pendulum.DateTime), f"not a date: {day!r}"
    local = parsed.add(hours=10)
    return local.in_timezone("UTC")


def import_shipped(engine: Engine, org: str) -> tuple[LoadedRoadmap, ImportReport]:
    """The shipped roadmap, imported (and its ledger entry dated) before the history."""
    loaded = load_roadmap(SHIPPED_ROADMAP)
    return loaded, roadmaps.import_edition(engine, org=org, loaded=loaded, actor="esg-head",
                                           now=moment("2025-10-01"))


def record_history(engine: Engine, org: str) -> list[str]:
    """Replay HISTORY through the same use cases the CLI uses; returns one line per event."""
    settings = get_settings()
    lines = []
    for e in HISTORY:
        now = moment(e.at)
        ref = OccurrenceRef(org=org, measure=e.measure, period=2025)
        if e.action == "complete":
            evidence = Evidence(ref=e.args["ref"], date=_day(e.args.get("date")),
                                valid_until=_day(e.args.get("valid_until")))
            rec = events.record_completion(engine, ref=ref, actor="esg-head", evidence=evidence,
                                           files=[], store_root=settings.evidence_dir, now=now)
            lines.append(f"{e.at}  {e.measure} 2025 completed ({e.args['ref']})"
                         + (" — late" if rec.occurrence.late else ""))
        elif e.action == "reschedule":
            events.reschedule_occurrence(engine, ref=ref, actor="esg-head", to=dt.date.fromisoformat(e.args["to"]),
                                         reason=e.args["reason"], approved_by="cao", now=now)
            lines.append(f"{e.at}  {e.measure} 2025 rescheduled to {e.args['to']}: {e.args['reason']}")
        else:
            events.open_occurrence_as_needed(engine, org=org, code=e.measure, due=dt.date.fromisoformat(e.args["due"]),
                                             actor="esg-head", reason=e.args["reason"], now=now)
            lines.append(f"{e.at}  {e.measure} opened, due {e.args['due']}: {e.args['reason']}")
    return lines


def _day(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def sent_summary(engine: Engine) -> list[dict[str, str]]:
    """One row per person: language, channel, the steps and measures they were told about."""


    directory = load_directory_for(get_settings())
    people: dict[tuple[str, str], dict[str, Any]] = {}
    with session_scope(engine) as session:
        for row in list_rows(session):
            key = (row.recipient, row.channel)
            entry = people.setdefault(key, {"steps": defaultdict(list), "status": set()})
            entry["steps"][row.step].append(row.measure)
            entry["status"].add(row.status)
    rows = []
    for (pid, channel), entry in sorted(people.items()):
        person = directory.people.get(pid)
        steps = "; ".join(f"{step}: {', '.join(sorted(set(ms), key=_measure_order))}"
                          for step, ms in sorted(entry["steps"].items(), key=lambda kv: _step_order(kv[0])))
        rows.append({"person": f"{person.name if person else pid} ({pid})",
                     "lang": person.language if person else "", "channel": channel,
                     "status": ", ".join(sorted(entry["status"])), "told about": steps})
    return rows


def _measure_order(code: str) -> tuple[int, int]:
    return ("ESG".find(code[0]), int(code[1:]) if code[1:].isdigit() else 0)


def _step_order(step: str) -> tuple[bool, int, str]:
    kind, _, rest = step.partition("-")
    number = int(rest.split("-")[0]) if rest.split("-")[0].isdigit() else 0
    return (kind != "remind", -number if kind == "remind" else number, step)


def run_demo(*, home: Path, as_of: dt.date = DEMO_AS_OF, org: str = "KT",
             now: dt.datetime | None = None) -> dict[str, Any]:
    """The whole demo; returns what the CLI prints. `now` (the real time of the run) dates the
    portal's links, which are opened after the demo; default the morning of `as_of`."""
    prepare_home(home)

    engine = database.engine()
    checkpoints.init_keys(get_settings())  # the daily run signs a checkpoint of the ledger
    loaded, report = import_shipped(engine, org)
    history = record_history(engine, org)

    summary = run_daily_pass(as_of, org, now=moment(as_of.isoformat()))
    return {"home": home, "loaded": loaded, "report": report, "history": history,
            "summary": summary, "sent": sent_summary(engine),
            "portal": portal_access(engine, org, now or moment(as_of.isoformat()))}


DEMO_OFFICER = "cto"  # Дмитрий Ковалёв (Russian; the page switches to kk / en): responsible for E2–E4


def portal_access(engine: Engine, org: str, now: dt.datetime) -> dict[str, str]:
    """What opens the portal after the demo: an officer's signed link, and two staff accounts
    (the ESG office, an auditor) with passwords made for this demo only."""
    import secrets

    from flows.usecases import portal, staff
    from flows.usecases.planning import load_policy_for

    settings = get_settings()
    passwords = {name: secrets.token_urlsafe(12) for name in ("office", "auditor")}
    staff.add_user(engine, org=org, username="office", name="ESG Office (demo)", role="esg_office",
                   password=passwords["office"], email=None, now=now)
    staff.add_user(engine, org=org, username="auditor", name="Internal Audit (demo)", role="auditor",
                   password=passwords["auditor"], email=None, now=now)
    policy = load_policy_for(settings)
    link = portal.link_url(settings, policy, org=org, person=DEMO_OFFICER, now=now)
    return {"officer": DEMO_OFFICER, "link": link, "days": str(policy.link_days),
            "login": settings.portal_url + "/login", **passwords}
