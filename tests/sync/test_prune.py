"""The change log is pruned once every coach's calendar has read it (SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from book_helpers import plan_one
from calbridge.book import Book, parties
from calbridge.store.tables import ChangeRow
from calbridge.sync.run import sync_all
from calbridge.sync.status import last_change


def _book(make_book: Callable[..., Book], tmp_path: Path) -> Book:
    from conftest import base_config

    coaches: list[dict[str, Any]] = base_config("sqlite://")["coaches"]
    (tmp_path / "calendars").mkdir()  # an absolute folder is created only below its parent
    for coach in coaches:
        coach["calendar"] = {"url": str(tmp_path / "calendars" / coach["id"])}
    book = make_book(coaches=coaches)
    parties.add_client(book, "Ana Lopez", "ana@example.org", "intensive", "ana")
    return book


def _rows(book: Book) -> int:
    with book.transaction() as db:
        return int(db.scalar(select(func.count(ChangeRow.id))) or 0)


def test_the_change_log_read_by_every_calendar_is_pruned(
    make_book: Callable[..., Book], tmp_path: Path
) -> None:
    book = _book(make_book, tmp_path)
    for day in ("01", "02", "03"):
        plan_one(book, f"2026-12-{day}T10:00")
    assert _rows(book) == 3
    sync_all(book, coach_id="maia")  # one coach only: nothing pruned
    assert _rows(book) == 3
    sync_all(book)  # every calendar read everything: only the newest row is kept
    assert _rows(book) == 1
    with book.transaction() as db:
        newest = last_change(db)
    later = plan_one(book, "2026-12-04T10:00")
    with book.transaction() as db:
        assert last_change(db) == newest + 1  # ids never go back, so no cursor skips it
    reports, _ = sync_all(book)
    assert [r.count("create") for r in reports if r.calendar == "maia"] == [1]
    assert (tmp_path / "calendars" / "maia" / f"{later.uid}.ics").exists()
