"""text messages: the outbox's channel and provider id, contacts, SMS consent

Revision ID: 0012
Revises: 0013
Create Date: 2026-12-02 14:40:00
"""

import sqlalchemy as sa
from alembic import op

import calbridge.store.tables

revision = "0012"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(length=8), server_default="mail", nullable=False)
        )
        batch_op.add_column(sa.Column("provider_id", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("delivery_status", sa.String(length=32), nullable=True))
        batch_op.create_index(
            "ix_outbox_channel_due", ["channel", "state", "not_before"], unique=False
        )
        batch_op.create_index("ix_outbox_provider", ["provider_id"], unique=False)
    op.create_table(
        "contacts",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("party_id", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("notify", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("kind", "party_id", name=op.f("pk_contacts")),
    )
    op.create_table(
        "sms_consent",
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("changed_at", calbridge.store.tables.UTCDateTime(), nullable=False),
        sa.Column("word", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("phone", name=op.f("pk_sms_consent")),
    )


def downgrade() -> None:
    op.drop_table("sms_consent")
    op.drop_table("contacts")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_provider")
        batch_op.drop_index("ix_outbox_channel_due")
        batch_op.drop_column("delivery_status")
        batch_op.drop_column("provider_id")
        batch_op.drop_column("channel")
