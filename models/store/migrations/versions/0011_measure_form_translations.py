"""measure: completion_form_ru and completion_form_en, the completion form in Russian and
English (the normalised roadmap's translations), so no Kazakh wording reaches their readers

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no table copy): occurrence rows reference measure by foreign key.
    for name in ('completion_form_ru', 'completion_form_en'):
        op.add_column('measure', sa.Column(name, sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                           server_default=''))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+), again without copying the referenced table.
    for name in ('completion_form_en', 'completion_form_ru'):
        op.drop_column('measure', name)
