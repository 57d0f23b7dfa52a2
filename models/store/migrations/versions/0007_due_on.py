"""occurrence.due_on: the daily pass joins the day's ladder on the Almaty due date, not on
the stored instant (an instant written under another time-zone rule still matches)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import models.store.tables

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('occurrence') as batch:
        batch.add_column(sa.Column('due_on', sa.Date(), nullable=True))
    _backfill()
    # ladder_step is a cache of the planner's output: recreated keyed by date
    op.drop_table('ladder_step')
    _ladder_table('due_on', sa.Date())


def _backfill() -> None:
    from models.core.schedule import local_date

    conn = op.get_bind()
    occurrence = sa.table('occurrence', sa.column('id'), sa.column('due_at', models.store.tables.UTCDateTime()),
                          sa.column('due_on', sa.Date()))
    update = occurrence.update().where(occurrence.c.id == sa.bindparam('occ')).values(
        due_on=sa.bindparam('day'))
    rows = conn.execute(sa.select(occurrence.c.id, occurrence.c.due_at)
                        .execution_options(stream_results=True, yield_per=5000))
    for part in rows.partitions():
        conn.execute(update, [{'occ': occ, 'day': local_date(due)} for occ, due in part])


def _ladder_table(column: str, type_) -> None:
    op.create_table('ladder_step',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column(column, type_, nullable=False),
    sa.Column('occ_kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('step', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('written_at', models.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', column, 'occ_kind')
    )


def downgrade() -> None:
    op.drop_table('ladder_step')
    _ladder_table('due_at', models.store.tables.UTCDateTime(timezone=True))
    with op.batch_alter_table('occurrence') as batch:
        batch.drop_column('due_on')
