"""calendar leases (the daemon's shared schedule)

Revision ID: 0008
Revises: 0005
Create Date: 2026-11-21 18:40:00
"""

import sqlalchemy as sa
from alembic import op

import calbridge.store.tables

revision = "0008"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_leases",
        sa.Column("calendar_id", sa.String(length=128), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=True),
        sa.Column("last_owner", sa.String(length=255), nullable=True),
        sa.Column("expires_at", calbridge.store.tables.UTCDateTime(), nullable=False),
        sa.Column("renewed", calbridge.store.tables.UTCDateTime(), nullable=True),
        sa.Column("next_sync_at", calbridge.store.tables.UTCDateTime(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_ok_at", calbridge.store.tables.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("calendar_id"),
    )


def downgrade() -> None:
    op.drop_table("calendar_leases")
