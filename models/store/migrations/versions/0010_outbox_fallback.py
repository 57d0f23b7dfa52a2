"""outbox fallback: message_key (the rows of one message, whichever route), hop (the route of
the person's fallback order a row belongs to), fallback_reason (why a fallback row exists) and
fallback_to (where a dead row's message went next)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_message') as batch:
        batch.add_column(sa.Column('message_key', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
        batch.add_column(sa.Column('hop', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('fallback_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch.add_column(sa.Column('fallback_to', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    # Every key so far is message_key:channel (notifications/enqueue.py idem_key).
    op.execute("UPDATE outbox_message SET message_key = "
               "substr(idem_key, 1, length(idem_key) - length(channel) - 1)")
    # Rows that died before fallback existed were reported then: the upgrade does not suddenly
    # hand them on (an operator who wants that runs `esgtrack outbox retry --dead`).
    op.execute("UPDATE outbox_message SET fallback_to = 'none' WHERE status = 'dead'")
    op.create_index('ix_outbox_message_key', 'outbox_message', ['message_key'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_outbox_message_key', table_name='outbox_message')
    with op.batch_alter_table('outbox_message') as batch:
        batch.drop_column('fallback_to')
        batch.drop_column('fallback_reason')
        batch.drop_column('hop')
        batch.drop_column('message_key')
