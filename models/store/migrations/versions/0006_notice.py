"""notice, ladder_step: the daily pass claims one row per occurrence step in SQL (joining
the day's ladder); delivery fans each notice out to its recipients

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""
import datetime as dt
import json

from alembic import op
import sqlalchemy as sa
import sqlmodel

import models.store.tables

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notice',
    sa.Column('occurrence_id', sa.Integer(), nullable=False),
    sa.Column('due_at', models.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('step', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('org', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=False),
    sa.Column('created_at', models.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expanded_at', models.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('messages', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('occurrence_id', 'due_at', 'step')
    )
    op.create_index('ix_notice_pending', 'notice', ['org', 'occurrence_id'], unique=False,
                    postgresql_where=sa.text('expanded_at IS NULL'),
                    sqlite_where=sa.text('expanded_at IS NULL'))
    op.create_table('ladder_step',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('due_at', models.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('occ_kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('step', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('written_at', models.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', 'due_at', 'occ_kind')
    )
    op.create_index('ix_measure_inactive', 'measure', ['org'], unique=False,
                    postgresql_where=sa.text('NOT active'), sqlite_where=sa.text('active = 0'))
    op.create_index('ix_target_reading_org', 'target_reading', ['org'], unique=False)
    _backfill()


def _backfill() -> None:
    """Steps already claimed in the outbox before notices existed stay claimed: an upgrade
    never re-sends them. Each becomes an expanded notice."""
    from models.core.schedule import end_of_day

    conn = op.get_bind()
    outbox = sa.table('outbox_message', sa.column('org'), sa.column('occurrence_id'),
                      sa.column('step'), sa.column('kind'), sa.column('recipient'),
                      sa.column('payload', sa.JSON),
                      sa.column('created_at', models.store.tables.UTCDateTime()))
    notice = sa.table('notice', sa.column('org'), sa.column('occurrence_id'),
                      sa.column('due_at', models.store.tables.UTCDateTime()), sa.column('step'),
                      sa.column('kind'), sa.column('level'), sa.column('planned_on', sa.Date),
                      sa.column('created_at', models.store.tables.UTCDateTime()),
                      sa.column('expanded_at', models.store.tables.UTCDateTime()), sa.column('messages'))
    seen: dict[tuple, dict] = {}
    query = sa.select(outbox.c.org, outbox.c.occurrence_id, outbox.c.step, outbox.c.kind,
                      outbox.c.recipient, outbox.c.payload, outbox.c.created_at).where(
        outbox.c.occurrence_id.is_not(None))
    # streamed: one small dict per claimed step is all that stays in memory
    for org, occurrence_id, step, kind, recipient, payload, created in conn.execute(
            query.execution_options(stream_results=True, yield_per=2000)):
        payload = json.loads(payload) if isinstance(payload, str) else payload
        if not payload.get('due'):
            continue
        due = dt.date.fromisoformat(payload['due'])
        key = (occurrence_id, due, step)
        if key in seen:
            seen[key]['recipients'].add(recipient)
            continue
        as_of = due - dt.timedelta(days=int(payload.get('days') or 0))
        seen[key] = {'org': org, 'occurrence_id': occurrence_id, 'due_at': end_of_day(due),
                     'step': step, 'kind': kind, 'level': int(payload.get('level') or 0),
                     'planned_on': as_of, 'created_at': created, 'expanded_at': created,
                     'recipients': {recipient}}
    rows = [{**row, 'messages': len(row.pop('recipients'))} for row in seen.values()]
    for start in range(0, len(rows), 2000):
        conn.execute(notice.insert(), rows[start:start + 2000])


def downgrade() -> None:
    op.drop_index('ix_target_reading_org', table_name='target_reading')
    op.drop_index('ix_measure_inactive', table_name='measure')
    op.drop_table('ladder_step')
    op.drop_index('ix_notice_pending', table_name='notice')
    op.drop_table('notice')
