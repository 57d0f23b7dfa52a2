"""notice: the pending index on occurrence_id alone (a narrower key costs the daily pass's
INSERT a fifth less on PostgreSQL; delivery pages through it in occurrence order)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

PENDING = sa.text('expanded_at IS NULL')


def upgrade() -> None:
    op.drop_index('ix_notice_pending', table_name='notice')
    op.create_index('ix_notice_pending', 'notice', ['occurrence_id'], unique=False,
                    postgresql_where=PENDING, sqlite_where=PENDING)


def downgrade() -> None:
    op.drop_index('ix_notice_pending', table_name='notice')
    op.create_index('ix_notice_pending', 'notice', ['org', 'occurrence_id'], unique=False,
                    postgresql_where=PENDING, sqlite_where=PENDING)
