"""calendar hold by the mass-deletion guard

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-02 08:00:00
"""

import sqlalchemy as sa
from alembic import op

from calbridge.store.tables import UTCDateTime

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calendar_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("held_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("held_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calendar_state", schema=None) as batch_op:
        batch_op.drop_column("held_at")
        batch_op.drop_column("held_reason")
