"""the web portal: staff_user (accounts of the ESG office, auditors, admins), submission (an
officer's completion or reschedule request awaiting the ESG office), link_revocation (links
of a person issued before a moment no longer open) and login_attempt (sign-in throttling)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

from models.store.tables import UTCDateTime

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        'staff_user',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org', S(length=32), nullable=False),
        sa.Column('username', S(length=120), nullable=False),
        sa.Column('name', S(), nullable=False),
        sa.Column('email', S(length=254), nullable=True),
        sa.Column('role', S(length=16), nullable=False),
        sa.Column('password_hash', S(), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('username', name='uq_staff_user_username'),
    )
    op.create_table(
        'submission',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org', S(length=32), nullable=False),
        sa.Column('occurrence_id', sa.Integer(), nullable=False),
        sa.Column('measure', S(length=16), nullable=False),
        sa.Column('period', sa.Integer(), nullable=False),
        sa.Column('person', S(length=120), nullable=False),
        sa.Column('kind', S(length=16), nullable=False),
        sa.Column('state', S(length=16), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('decided_at', UTCDateTime(), nullable=True),
        sa.Column('decided_by', S(length=200), nullable=True),
        sa.Column('reason', S(), nullable=True),
        sa.ForeignKeyConstraint(['occurrence_id'], ['occurrence.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_submission_org_state', 'submission', ['org', 'state'], unique=False)
    op.create_table(
        'link_revocation',
        sa.Column('org', S(length=32), nullable=False),
        sa.Column('person', S(length=120), nullable=False),
        sa.Column('revoked_before', UTCDateTime(), nullable=False),
        sa.Column('revoked_by', S(length=200), nullable=False),
        sa.Column('reason', S(), nullable=False),
        sa.PrimaryKeyConstraint('org', 'person'),
    )
    op.create_table(
        'login_attempt',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', S(length=200), nullable=False),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_login_attempt_key_at', 'login_attempt', ['key', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_login_attempt_key_at', table_name='login_attempt')
    op.drop_table('login_attempt')
    op.drop_table('link_revocation')
    op.drop_index('ix_submission_org_state', table_name='submission')
    op.drop_table('submission')
    op.drop_table('staff_user')
