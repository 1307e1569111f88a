"""Valid everywhere (issue 11 item 8), on a vdir folder, Radicale and Xandikos: closures
take their colour from ``[sync] colors.closure`` like every other kind, and what
calbridge leaves in the calendar passes libical as a stored object. (Every object the
suite stores, publishes or mails is validated too, by tests/icsguard, at the end.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from icalendar import Calendar

from book_helpers import plan_one
from calbridge.book import Book, feeds, parties
from calbridge.book.closures import ClosureMode, add_closure
from sync.e2e_helpers import Target, book_on, items, open_target, sync
from validate_helpers import assert_valid


@pytest.fixture(params=["vdir", "radicale", "xandikos"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    with open_target(request, tmp_path) as t:
        yield t


def colors(data: bytes) -> dict[str, str]:
    """COLOR by UID, of every VEVENT in ``data``."""
    return {str(e["UID"]): str(e.get("COLOR")) for e in Calendar.from_ical(data).walk("VEVENT")}


def test_a_closure_takes_the_closure_colour(make_book: Callable[..., Book], target: Target) -> None:
    book = book_on(make_book, target, sync={"colors": {"closure": "darkorange"}})
    parties.add_client(book, "Ana Lopez", "ana@example.org", "standard", "ana")
    session = plan_one(book, "2027-12-22T10:00")
    mode = ClosureMode.CANCEL_ONLY
    add_closure(book, date(2027, 12, 24), date(2027, 12, 26), "Holiday", None, mode)
    sync(book)
    stored = {uid: c for i in items(target.app).values() for uid, c in colors(i.data).items()}
    closure = next(uid for uid in stored if uid.startswith("calbridge-closure-"))
    assert stored == {closure: "darkorange", session.uid: "steelblue"}
    feed = colors(feeds.coach_feed(book, "maia", "https://feeds.example/maia.ics"))
    assert feed == stored  # the published feed says the same
    for item in items(target.app).values():
        assert_valid(item.data, caldav=True)
