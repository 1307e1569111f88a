"""sync base and pending writes

Revision ID: 0009
Revises: 0004
Create Date: 2026-11-21 19:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calendar_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recovery_token", sa.Text(), nullable=True))
    with op.batch_alter_table("calendar_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("base", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("pending", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("pending_fingerprint", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calendar_items", schema=None) as batch_op:
        batch_op.drop_column("pending_fingerprint")
        batch_op.drop_column("pending")
        batch_op.drop_column("base")
    with op.batch_alter_table("calendar_state", schema=None) as batch_op:
        batch_op.drop_column("recovery_token")
