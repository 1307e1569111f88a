"""a counter's source: "mail" (a COUNTER from the client's calendar app) or "page" (another
time asked for on the client's page, left for the coach by ``[policies] page_move``)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("counters", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=8), server_default="mail", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("counters", schema=None) as batch_op:
        batch_op.drop_column("source")
