"""A series whose occurrences are cancelled one way or another, on a vdir folder,
Radicale and Xandikos: the stored copy keeps the series open with EXDATEs until the
last occurrence goes, then the resource is deleted (issue 11 item 4)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from book_helpers import plan
from calbridge.book import Book, parties, planning, views
from calbridge.core.model import Actor, SeriesSpec, Session
from sync.e2e_helpers import Target, book_on, event_of, items, open_target, sync
from validate_helpers import assert_valid


@pytest.fixture(params=["vdir", "radicale", "xandikos", "graph"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    with open_target(request, tmp_path) as target:
        yield target


@pytest.fixture
def book(make_book: Callable[..., Book], target: Target) -> Book:
    b = book_on(make_book, target)
    parties.add_client(b, "Dee Roy", "dee@example.org", "intensive", "dee")
    return b


def _series(book: Book) -> list[Session]:
    rows = plan(book, "2027-03-01T10:00", clients=("dee",), series=SeriesSpec("weekly", (0,), 3))
    sync(book)
    return rows


def _stored(target: Target, uid: str) -> tuple[Any, list[datetime]]:
    """The stored master (validated as a CalDAV object) and its EXDATEs."""
    data = event_of(target.app, uid).data
    assert_valid(data, caldav=True)
    (master,) = [e for e in Calendar.from_ical(data).walk("VEVENT") if "RECURRENCE-ID" not in e]
    found = master.get("EXDATE", [])
    exdates = [d.dt for p in (found if isinstance(found, list) else [found]) for d in p.dts]
    return master, exdates


def _statuses(book: Book, rows: list[Session]) -> list[str]:
    return [views.show(book, r.id or 0)["status"] for r in rows]


def _cancel(book: Book, row: Session, following: bool = False) -> None:
    planning.cancel(book, row.id or 0, Actor.ADMIN, "test", following)
    sync(book)


def test_cancelling_the_first_occurrence_keeps_the_series(book: Book, target: Target) -> None:
    rows = _series(book)
    _cancel(book, rows[0])
    master, exdates = _stored(target, rows[0].uid)
    assert str(master["STATUS"]) == "TENTATIVE" and exdates == [rows[0].start]
    assert master.decoded("DTSTART") == rows[0].start
    assert sync(book).actions == []  # the copy is read back as it is: nothing else ends
    assert _statuses(book, rows) == ["cancelled", "requested", "requested"]


def test_cancelling_middle_last_then_first_deletes_the_series(book: Book, target: Target) -> None:
    rows = _series(book)
    for done, row in enumerate((rows[1], rows[2]), start=1):
        _cancel(book, row)
        master, exdates = _stored(target, rows[0].uid)
        assert str(master["STATUS"]) == "TENTATIVE"
        assert exdates == [r.start for r in rows[1 : done + 1]]
    assert _statuses(book, rows) == ["requested", "cancelled", "cancelled"]
    _cancel(book, rows[0])
    assert items(target.app) == {}
    assert sync(book).actions == []


def test_this_and_all_following(book: Book, target: Target) -> None:
    rows = _series(book)
    _cancel(book, rows[1], following=True)
    master, _ = _stored(target, rows[0].uid)
    assert str(master["STATUS"]) == "TENTATIVE" and "UNTIL" in master["RRULE"]
    assert master["RRULE"]["UNTIL"][0] < rows[1].start
    assert sync(book).actions == []
    assert _statuses(book, rows) == ["requested", "cancelled", "cancelled"]
    _cancel(book, rows[0], following=True)
    assert items(target.app) == {}
