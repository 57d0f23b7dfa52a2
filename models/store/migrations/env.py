"""Alembic environment: runs on the connection esgtrack hands it, or on the configured URL."""

from alembic import context
from sqlalchemy import create_engine

import models.store.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from sqlmodel import SQLModel

target_metadata = SQLModel.metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
    with engine.begin() as connection:
        _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
