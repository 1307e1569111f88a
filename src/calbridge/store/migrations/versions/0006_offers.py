"""offers and holds

Revision ID: 0006
Revises: 0007
Create Date: 2026-11-21 18:40:00
"""

import sqlalchemy as sa
from alembic import op

import calbridge.store.tables

revision = "0006"
down_revision = "0007"
branch_labels = None
depends_on = None

UTC = calbridge.store.tables.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("coach_id", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("deadline", UTC(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("answered_at", UTC(), nullable=True),
        sa.Column("answer", sa.String(length=16), nullable=True),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_offers_session_id_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
    )
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.create_index("ix_offers_state_deadline", ["state", "deadline"], unique=False)
        batch_op.create_index("ix_offers_session", ["session_id"], unique=False)
    op.create_table(
        "holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=255), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("coach_id", sa.String(length=64), nullable=False),
        sa.Column("tzid", sa.String(length=64), nullable=False),
        sa.Column("start", UTC(), nullable=False),
        sa.Column("end", UTC(), nullable=False),
        sa.Column("until", UTC(), nullable=False),
        sa.Column("released_at", UTC(), nullable=True),
        sa.Column("release_reason", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["offer_id"], ["offers.id"], name=op.f("fk_holds_offer_id_offers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holds")),
        sa.UniqueConstraint("uid", name=op.f("uq_holds_uid")),
    )
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.create_index("ix_holds_coach_start", ["coach_id", "start"], unique=False)
        batch_op.create_index("ix_holds_offer", ["offer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.drop_index("ix_holds_offer")
        batch_op.drop_index("ix_holds_coach_start")
    op.drop_table("holds")
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index("ix_offers_session")
        batch_op.drop_index("ix_offers_state_deadline")
    op.drop_table("offers")
