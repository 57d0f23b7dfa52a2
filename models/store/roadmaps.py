"""Importing a roadmap edition: measures, roles, the edition and occurrences (repository),
then the targets the document states (target_repository). The caller commits."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from models.core.normalised import LoadedRoadmap
from models.store import repository as repo
from models.store import target_repository as trepo


def import_roadmap(session: Session, *, org: str, loaded: LoadedRoadmap, now: dt.datetime
                   ) -> repo.ImportReport:
    """Create or update an organisation's roadmap in place; `now` stamps what it writes."""
    report = repo.import_measures(session, org=org, loaded=loaded, now=now)
    trepo.seed_document_targets(session, org=org, now=now)
    return report
