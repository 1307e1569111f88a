"""mail: reminders decided, outbox expiry

Revision ID: 0005
Revises: 0006
Create Date: 2026-11-21 18:40:00
"""

import sqlalchemy as sa
from alembic import op

import calbridge.store.tables

revision = "0005"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("start", calbridge.store.tables.UTCDateTime(), nullable=False),
        sa.Column("lead_seconds", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", calbridge.store.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
        sa.UniqueConstraint("session_id", "start", "lead_seconds", name="uq_reminders_key"),
    )
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.create_index("ix_reminders_session", ["session_id"], unique=False)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("expires_at", calbridge.store.tables.UTCDateTime(), nullable=True)
        )
        batch_op.create_index("ix_outbox_session", ["session_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_session")
        batch_op.drop_column("expires_at")
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_index("ix_reminders_session")
    op.drop_table("reminders")
