"""The published feeds show a series as the calendar copy does: a cancelled occurrence
is an EXDATE, the master stays open, and the STATUS rule holds (events.spec)."""

from __future__ import annotations

from typing import Any

from icalendar import Calendar

from book_helpers import plan
from calbridge.book import Book, planning
from calbridge.book.feeds import client_feed, coach_feed
from calbridge.core.model import Actor, SeriesSpec
from validate_helpers import assert_valid


def _masters(data: bytes) -> list[Any]:
    events = Calendar.from_ical(data).walk("VEVENT")
    return [e for e in events if "RECURRENCE-ID" not in e]


def test_a_series_with_its_first_occurrence_cancelled_in_both_feeds(book: Book) -> None:
    rows = plan(book, "2026-12-07T10:00", clients=("dee",), series=SeriesSpec("weekly", (0,), 3))
    planning.cancel(book, rows[0].id or 0, Actor.ADMIN)
    planning.answer(book, rows[1].id or 0, Actor.CLIENT, True)
    for data in (coach_feed(book, "maia", "https://x/c"), client_feed(book, "dee", "https://x/d")):
        assert_valid(data)
        (master,) = _masters(data)
        assert str(master["STATUS"]) == "CONFIRMED"  # from the first open occurrence
        assert master.decoded("DTSTART") == rows[0].start
        assert [d.dt for d in master["EXDATE"].dts] == [rows[0].start]
        (override,) = [e for e in Calendar.from_ical(data).walk("VEVENT") if "RECURRENCE-ID" in e]
        assert str(override["STATUS"]) == "TENTATIVE"  # the third still awaits an answer
        assert b"STATUS:CANCELLED" not in data
