"""The configured database: the settings' URL, as an engine migrated to the newest schema on
first use in a process. The CLI and the flows both get their engine here."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from config.settings import get_settings
from models.store.db import get_engine, upgrade

migrated: set[str] = set()  # URLs brought to the newest schema by this process


def engine() -> Engine:
    """The configured database, migrated to the newest schema on first use in a process."""
    url = get_settings().resolved_database_url
    configured = get_engine(url)
    if url not in migrated:
        upgrade(configured)
        migrated.add(url)
    return configured
