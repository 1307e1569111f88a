"""Alembic environment: runs on the connection calbridge hands it (see store.db.migrate)."""

from alembic import context

from calbridge.store.tables import Base

connection = context.config.attributes.get("connection")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
