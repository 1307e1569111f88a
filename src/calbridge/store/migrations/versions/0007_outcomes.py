"""outcomes, completion types, signed notes

Revision ID: 0007
Revises: 0009
Create Date: 2026-11-21 18:45:00
"""

import sqlalchemy as sa
from alembic import op

import calbridge.store.tables

revision = "0007"
down_revision = "0009"
branch_labels = None
depends_on = None

_AT = calbridge.store.tables.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "completion_types",
        sa.Column("key", sa.String(length=15), nullable=False),
        sa.Column("label", sa.String(length=15), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("maps_to", sa.String(length=16), nullable=False),
        sa.Column("client_kind", sa.String(length=8), nullable=False),
        sa.Column("client_value", sa.String(length=24), nullable=False),
        sa.Column("coach_kind", sa.String(length=8), nullable=False),
        sa.Column("coach_value", sa.String(length=24), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", _AT(), nullable=False),
        sa.Column("updated_at", _AT(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_completion_types")),
    )
    op.create_table(
        "session_outcomes",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("type_label", sa.String(length=15), nullable=True),
        sa.Column("type_description", sa.Text(), nullable=True),
        sa.Column("maps_to", sa.String(length=16), nullable=True),
        sa.Column("client_rule", sa.String(length=40), nullable=True),
        sa.Column("coach_rule", sa.String(length=40), nullable=True),
        sa.Column("service", sa.String(length=64), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("fee", sa.String(length=24), nullable=True),
        sa.Column("wage_rate", sa.String(length=24), nullable=True),
        sa.Column("cost", sa.String(length=24), nullable=True),
        sa.Column("wage", sa.String(length=24), nullable=True),
        sa.Column("cost_overridden", sa.Boolean(), nullable=False),
        sa.Column("wage_overridden", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", _AT(), nullable=False),
        sa.Column("recorded_by", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_session_outcomes_session_id_sessions"),
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_session_outcomes")),
    )
    op.create_table(
        "session_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=200), nullable=False),
        sa.Column("created_at", _AT(), nullable=False),
        sa.Column("updated_at", _AT(), nullable=False),
        sa.Column("signed_at", _AT(), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_session_notes_session_id_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_notes")),
    )
    with op.batch_alter_table("session_notes", schema=None) as batch_op:
        batch_op.create_index("ix_session_notes_session", ["session_id", "kind"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("session_notes", schema=None) as batch_op:
        batch_op.drop_index("ix_session_notes_session")
    op.drop_table("session_notes")
    op.drop_table("session_outcomes")
    op.drop_table("completion_types")
