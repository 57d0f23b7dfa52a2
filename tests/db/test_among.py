"""models.store.db.among: `IN (…)` on SQLite, one array parameter on PostgreSQL; exact on both."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from models.store.db import among, session_scope
from models.store.tables import Organisation

LONGEST = "A" * 32  # organisation codes are at most 32 characters
CREATED = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def test_among_matches_whole_values_only(engine):
    with session_scope(engine) as session:
        for code in ("KT", LONGEST):
            session.add(Organisation(code=code, name=code, created_at=CREATED))
    with session_scope(engine) as session:
        def codes(values) -> list[str]:
            query = sa.select(Organisation.code).where(among(session, Organisation.code, values))
            return sorted(session.execute(query).scalars())

        assert codes(["KT", LONGEST]) == sorted(["KT", LONGEST])
        assert codes([LONGEST + "B"]) == []  # not cut to the column's length, then matched
        assert codes([]) == []
