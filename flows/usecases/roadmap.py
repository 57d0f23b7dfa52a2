"""The roadmap's use cases. Importing an edition: measures, roles and the edition
(models.store.measures), the occurrences they plan (models.store.occurrences), the targets the
document states (models.store.targets), and the import's ledger entry, in one commit. Listing
measures and occurrences."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.core import ledger as L
from models.core.normalised import LoadedRoadmap
from models.store import ledger as ledger_store
from models.store import occurrences
from models.store import targets as trepo
from models.store.db import session_scope
from models.store.measures import (
    ImportReport,
    check_measure_named,
    import_measures,
    measures,
    org_codes,
    role_names_of,
    translate,
    untranslated_codes,
)
from models.store.tables import LedgerEntry, MeasureRow, OccurrenceRow


def import_roadmap(session: Session, *, org: str, loaded: LoadedRoadmap, now: dt.datetime) -> ImportReport:
    """Create or update an organisation's roadmap in place, in the caller's transaction;
    `now` stamps what it writes. Never duplicates, never touches a recorded completion."""
    report = import_measures(session, org=org, loaded=loaded, now=now)
    report.occurrences = occurrences.refresh_for_edition(session, org=org, edition_id=report.edition_id, now=now)
    report.targets = trepo.seed_document_targets(session, org=org, now=now)
    return report


def record_import(session: Session, *, report: ImportReport, loaded: LoadedRoadmap, actor: str,
                  now: dt.datetime) -> LedgerEntry:
    """The ledger entry of a roadmap import: which edition, its hash, what changed."""
    roadmap = loaded.roadmap
    data = {"edition_id": report.edition_id, "title": roadmap.title,
            "source_name": loaded.source_name, "sha256": loaded.sha256,
            "horizon": [roadmap.horizon_start, roadmap.horizon_end],
            "measure_count": len(roadmap.measures), "changed": report.changed, "targets": report.targets,
            "changes": {k: v for k, v in report.as_dict().items()
                        if k not in {"org", "edition_id", "warnings"}}}
    return ledger_store.append(session, org=report.org, event=L.ROADMAP_IMPORTED,
                               actor=actor or "esg-office", at=now, data=data)


def import_edition(engine: Engine, *, org: str, loaded: LoadedRoadmap, actor: str, now: dt.datetime
                   ) -> ImportReport:
    """The import use case: the roadmap and its ledger entry land together or not at all."""
    with session_scope(engine) as session:
        report = import_roadmap(session, org=org, loaded=loaded, now=now)
        record_import(session, report=report, loaded=loaded, actor=actor, now=now)
    return report


def measure_list(engine: Engine, *, org: str | None = None) -> list[tuple[str, MeasureRow]]:
    """(organisation, measure) for every active measure, of one organisation or all, in roadmap order."""
    with session_scope(engine) as session:
        return [(code, row) for code in org_codes(session, org=org) for row in measures(session, org=code)]


def occurrence_list(engine: Engine, *, org: str | None = None,
                    where: occurrences.OccurrenceFilter | None = None
                    ) -> list[tuple[OccurrenceRow, MeasureRow]]:
    """Occurrences with their measures, filtered (an organisation and a measure named must exist)."""
    with session_scope(engine) as session:
        if org:
            org_codes(session, org=org)
        check_measure_named(session, org=org, code=where.measure if where else None)
        return occurrences.find(session, org=org, where=where or occurrences.OccurrenceFilter())


def untranslated_measures(engine: Engine, *, org: str) -> list[MeasureRow]:
    """The organisation's measures whose Russian or English title is still a placeholder."""
    with session_scope(engine) as session:
        org_codes(session, org=org)
        rows = measures(session, org=org)
        missing = set(untranslated_codes(rows))
        return [row for row in rows if row.code in missing]


def translate_titles(engine: Engine, *, org: str, titles: dict[str, tuple[str | None, str | None]]
                     ) -> list[MeasureRow]:
    """Set Russian and English titles (measure code → (ru, en); None leaves one as it is), all
    or none: an unknown code or an empty text changes nothing."""
    with session_scope(engine) as session:
        org_codes(session, org=org)
        return [translate(session, org=org, code=code, title_ru=ru, title_en=en) for code, (ru, en) in titles.items()]


def role_names(engine: Engine, *, orgs: list[str]) -> dict[str, dict[str, dict[str, str]]]:
    """organisation → role id → its names in kk / ru / en."""
    with session_scope(engine) as session:
        return role_names_of(session, orgs=orgs)
