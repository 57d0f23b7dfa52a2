"""Alembic migrations apply cleanly on SQLite and PostgreSQL and match the table classes;
the ledger's triggers exist after migrating."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from models.db import alembic_config, upgrade


def _diff(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        return compare_metadata(context, SQLModel.metadata)


def test_head_matches_the_table_classes(engine):
    assert _diff(engine) == []


def test_downgrade_to_base_and_up_again(engine, db_url):
    config = alembic_config(db_url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    upgrade(engine)
    assert _diff(engine) == []


def test_ledger_refuses_update_and_delete_after_migrating(engine, imported):
    import pytest
    import sqlalchemy as sa

    from models import ledger_store
    from models.db import session_scope
    from models.tables import utcnow

    with session_scope(engine) as session:
        ledger_store.append(session, org="KT", event="roadmap_imported", actor="test",
                            at=utcnow(), data={"note": "one entry to protect"})

    with pytest.raises(sa.exc.DBAPIError):
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE ledger_entry SET actor = 'x'"))
    with pytest.raises(sa.exc.DBAPIError):
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM ledger_entry"))
