"""archived clients and third parties (kept with their history, not planned or offered)

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-02 16:00:00
"""

import sqlalchemy as sa
from alembic import op

from calbridge.store.tables import UTCDateTime

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("clients", "third_parties"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("archived_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    for table in ("clients", "third_parties"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("archived_at")
