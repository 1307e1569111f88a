"""inbound iMIP: messages seen, newest answers, counter-proposals

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-02 14:45:00
"""

import sqlalchemy as sa
from alembic import op

from calbridge.store.tables import UTCDateTime

revision = "0013"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=True),
        sa.Column("uid", sa.String(length=255), nullable=True),
        sa.Column("sender", sa.String(length=320), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_messages")),
        sa.UniqueConstraint("key", name=op.f("uq_inbound_messages_key")),
    )
    op.create_table(
        "inbound_answers",
        sa.Column("uid", sa.String(length=255), nullable=False),
        sa.Column("occurrence", sa.String(length=32), nullable=False),
        sa.Column("attendee", sa.String(length=320), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("dtstamp", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("uid", "occurrence", "attendee", name=op.f("pk_inbound_answers")),
    )
    op.create_table(
        "counters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("attendee", sa.String(length=320), nullable=False),
        sa.Column("start", UTCDateTime(), nullable=False),
        sa.Column("end", UTCDateTime(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("dtstamp", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_counters_session_id_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counters")),
    )
    op.create_index("ix_counters_state", "counters", ["state"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_counters_state", table_name="counters")
    op.drop_table("counters")
    op.drop_table("inbound_answers")
    op.drop_table("inbound_messages")
