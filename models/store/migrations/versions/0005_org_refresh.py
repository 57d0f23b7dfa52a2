"""organisation.occurrences_edition_id: the daily flow refreshes only stale organisations

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('organisation') as batch:
        batch.add_column(sa.Column('occurrences_edition_id', sa.Integer(), nullable=True))
    # Organisations imported before this column existed were refreshed at their last import.
    op.execute("UPDATE organisation SET occurrences_edition_id = "
               "(SELECT max(id) FROM roadmap_edition WHERE roadmap_edition.org = organisation.code)")


def downgrade() -> None:
    with op.batch_alter_table('organisation') as batch:
        batch.drop_column('occurrences_edition_id')
