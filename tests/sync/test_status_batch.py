"""A push records its intents and its confirmations in batches: a few status lookups a pass,
not one per event (SQLite, PostgreSQL). Write-before-send stays: every intent is in the book
before the first write goes out."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, select

from book_helpers import plan_one
from calbridge.book import Book
from calbridge.calendars.vdir import VdirStore
from calbridge.store.tables import CalendarItemRow
from calbridge.sync.engine import CalendarSync

# (day, client): within each client's monthly limit, one a weekday at 10:00 London.
PLANS = [
    ("2026-12-01", "ana"),
    ("2026-12-02", "ana"),
    ("2026-12-03", "ben"),
    ("2026-12-04", "ben"),
    ("2026-12-07", "cy"),
    ("2026-12-08", "dee"),
    ("2026-12-09", "dee"),
    ("2026-12-10", "dee"),
    ("2026-12-11", "dee"),
    ("2027-01-04", "ana"),
    ("2027-01-05", "ana"),
    ("2027-01-06", "ben"),
]


@contextmanager
def status_lookups(book: Book) -> Iterator[list[str]]:
    """Every SELECT that reads the status table while the block runs."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "calendar_items" in statement:
            seen.append(statement)

    event.listen(book.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(book.engine, "before_cursor_execute", count)


def test_a_push_looks_the_status_up_per_batch_not_per_event(
    book: Book, tmp_path: Path, monkeypatch: Any
) -> None:
    for day, client in PLANS:
        plan_one(book, f"{day}T10:00", clients=(client,))
    store = VdirStore(str(tmp_path / "cal"), create=True)
    pending_at_first_write: list[int] = []
    create = VdirStore.create

    def first_write_checks(self: VdirStore, name: str, data: bytes) -> Any:
        if not pending_at_first_write:
            with book.transaction() as db:
                rows = db.scalars(
                    select(CalendarItemRow).where(CalendarItemRow.pending.is_not(None))
                )
                pending_at_first_write.append(len(list(rows)))
        return create(self, name, data)

    monkeypatch.setattr(VdirStore, "create", first_write_checks)
    with status_lookups(book) as lookups:
        report = CalendarSync(book, book.coach("maia"), store).run()
    assert not report.error
    assert sum(a["action"] == "create" for a in report.actions) == len(PLANS)
    # Every intent was recorded before the first write was sent (crash safety).
    assert pending_at_first_write == [len(PLANS)]
    # The reading's lookup, the intents' and the confirmations': not one per event.
    assert len(lookups) <= 5, len(lookups)
    with book.transaction() as db:
        rows = list(db.scalars(select(CalendarItemRow)))
    assert len(rows) == len(PLANS)
    assert all(r.etag and r.pending is None and r.fingerprint and r.base for r in rows)


def test_batched_intents_keep_the_agreed_version_of_a_known_event(book: Book) -> None:
    from calbridge.sync import status
    from calbridge.sync.planner import Remote

    with book.transaction() as db:
        status.remember(db, "maia", "u1", "u1.ics", '"e1"', "fp1", base=b"old")
    agreed = Remote("u1", "u1.ics", '"e2"', "fp2", b"theirs")
    with book.transaction() as db:
        status.intend_many(
            db,
            "maia",
            [("u1", "u1.ics", b"mine", "fp3", agreed), ("u2", "u2.ics", b"new", "fp4", None)],
        )
    with book.transaction() as db:
        rows = {r.uid: r for r in db.scalars(select(CalendarItemRow))}
        got = {
            uid: (r.etag, r.base, r.fingerprint, r.pending, r.pending_fingerprint)
            for uid, r in rows.items()
        }
    assert got == {
        "u1": ('"e2"', b"theirs", "fp2", b"mine", "fp3"),
        "u2": ("", None, "", b"new", "fp4"),
    }
