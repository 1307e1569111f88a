"""What importing one coach move costs: parses of the calendar's bytes, transactions.

A coach moves a session in their calendar app (a vdir folder); the next pass takes the
move in. Every iCalendar parse (``icalendar.Component.from_ical``) and every book
transaction begun during that pass is counted; the figures are bounds the import path
must keep (issue 12 measured ~9 transactions and the bytes parsed 3 times plus once per
reference copy before the import was made one pure decision applied in one transaction).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar, Component

from book_helpers import at, plan_one
from calbridge.book import Book, parties, views
from calbridge.calendars.vdir import VdirStore
from calbridge.store import db as store_db
from sync.e2e_helpers import Target, book_on, edit, event_of, move_to, sync

#: The bounds after issue 12, per kind of move (see the module docstring for the before):
#: parses of the calendar's copy, parses in all, transactions, whether the book's version
#: is written back. A move to UTC times is written back in the book's TZID form (so the
#: pass also records the write and asks the server for its token); a move that keeps the
#: TZID, as calendar apps make it, needs no write.
BOUNDS = {"to UTC times": (1, 3, 6, True), "keeping the TZID": (1, 2, 4, False)}


@dataclass
class Counts:
    parses: list[bytes] = field(default_factory=list)
    transactions: int = 0

    def of(self, data: bytes) -> int:
        return sum(1 for parsed in self.parses if parsed == data)


@contextmanager
def counting(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counts]:
    counts = Counts()
    from_ical = Component.from_ical.__func__  # type: ignore[attr-defined]
    begin = store_db.transaction

    def parse(cls: type[Component], st: Any, multiple: bool = False) -> Any:
        counts.parses.append(st if isinstance(st, bytes) else str(st).encode())
        return from_ical(cls, st, multiple)

    @contextmanager
    def transaction(factory: Any) -> Iterator[Any]:
        counts.transactions += 1
        with begin(factory) as db:
            yield db

    with monkeypatch.context() as patched:
        patched.setattr(Component, "from_ical", classmethod(parse))
        patched.setattr(store_db, "transaction", transaction)
        yield counts


@pytest.fixture
def target(tmp_path: Path) -> Target:
    folder = tmp_path / "calendar"
    return Target({"url": str(folder)}, VdirStore(folder))


@pytest.fixture
def book(make_book: Callable[..., Book], target: Target) -> Book:
    b = book_on(make_book, target)
    parties.add_client(b, "Ana Lopez", "ana@example.org", "standard", "ana")
    return b


def shifted_an_hour(cal: Calendar) -> None:
    """The coach drags the event an hour later in their app (TZID kept, SEQUENCE bumped)."""
    for event in cal.walk("VEVENT"):
        for key in ("DTSTART", "DTEND"):
            value = event.decoded(key) + timedelta(hours=1)
            del event[key]
            event.add(key, value)


MOVES: dict[str, Callable[[Calendar], None]] = {
    "to UTC times": move_to(at("2027-03-04T14:00"), at("2027-03-04T15:00")),
    "keeping the TZID": shifted_an_hour,
}


@pytest.mark.parametrize("how", sorted(MOVES))
def test_one_imported_move_parses_once_in_few_transactions(
    book: Book, target: Target, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    s = plan_one(book, "2027-03-02T10:00")
    sync(book)
    edit(target.app, s.uid, MOVES[how])
    copy = event_of(target.app, s.uid).data
    with counting(monkeypatch) as counts:
        report = sync(book)
    assert report.count("import") == 1 and not report.refused
    assert views.show(book, s.id or 0)["start"] != "2027-03-02T10:00:00+00:00"
    written_back = event_of(target.app, s.uid).data != copy
    print(
        f"\none imported move ({how}): {counts.of(copy)} parses of the calendar's bytes,"
        f" {len(counts.parses)} parses in all, {counts.transactions} transactions,"
        f" written back: {written_back}"
    )
    most_of_copy, most, transactions, writes = BOUNDS[how]
    assert counts.of(copy) <= most_of_copy
    assert len(counts.parses) <= most
    assert counts.transactions <= transactions
    assert written_back is writes
