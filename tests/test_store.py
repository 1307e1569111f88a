"""The store's schema: migrations match the tables, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from calbridge.store.db import current_revision, head_revision, migrate, open_engine
from calbridge.store.tables import Base


def test_migrations_build_exactly_the_tables(db_url: str) -> None:
    engine = open_engine(db_url)
    try:
        migrate(engine)
        migrate(engine)  # idempotent
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
    finally:
        engine.dispose()


def test_times_round_trip_exactly(book: object) -> None:
    from datetime import UTC, datetime

    from book_helpers import plan_one
    from calbridge.book import Book, views

    assert isinstance(book, Book)
    session = plan_one(book, "2026-12-01T10:00")
    with book.transaction() as db:
        from calbridge.store import repo

        again = repo.to_session(repo.session_row(db, session.id or 0))
    assert again.start == datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert again.start.tzinfo is UTC
    assert views.show(book, session.id or 0)["start"] == "2026-12-01T10:00:00+00:00"
