"""Busy calendars (ICS feed, CalDAV, folder) become busy time for planning and slots."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from book_helpers import plan_one
from calbridge.book import Book, parties, views
from calbridge.errors import Refused
from calbridge.sync.run import refresh_busy
from conftest import base_config
from servers.feed_server import FeedServer, serve_feed
from sync.e2e_helpers import busy_target

FEED = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN\r
X-WR-CALNAME:Maia (Outlook)\r
BEGIN:VTIMEZONE\r
TZID:GMT Standard Time\r
BEGIN:STANDARD\r
DTSTART:16010101T020000\r
TZOFFSETFROM:+0100\r
TZOFFSETTO:+0000\r
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r
END:STANDARD\r
BEGIN:DAYLIGHT\r
DTSTART:16010101T010000\r
TZOFFSETFROM:+0000\r
TZOFFSETTO:+0100\r
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r
END:DAYLIGHT\r
END:VTIMEZONE\r
BEGIN:VEVENT\r
UID:weekly-supervision\r
DTSTAMP:20261101T000000Z\r
DTSTART;TZID=GMT Standard Time:20261130T140000\r
DTEND;TZID=GMT Standard Time:20261130T150000\r
RRULE:FREQ=WEEKLY;BYDAY=MO\r
SUMMARY:Supervision\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:free-reminder\r
DTSTAMP:20261101T000000Z\r
DTSTART:20261201T100000Z\r
DTEND:20261201T110000Z\r
TRANSP:TRANSPARENT\r
SUMMARY:Think about lunch\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:called-off\r
DTSTAMP:20261101T000000Z\r
DTSTART:20261202T100000Z\r
DTEND:20261202T110000Z\r
STATUS:CANCELLED\r
SUMMARY:Called off\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:training-day\r
DTSTAMP:20261101T000000Z\r
DTSTART;VALUE=DATE:20261203\r
DTEND;VALUE=DATE:20261204\r
SUMMARY:Training\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:broken\r
DTSTAMP:20261101T000000Z\r
RRULE:FREQ=SOMETIMES\r
DTSTART:20261204T100000Z\r
SUMMARY:Broken\r
END:VEVENT\r
END:VCALENDAR\r
"""


@pytest.fixture
def feed_url() -> Iterator[str]:
    yield from serve_feed(FEED)


def busy_book(make_book: Callable[..., Book], busy: list[dict[str, Any]]) -> Book:
    coaches = base_config("")["coaches"]
    coaches[0]["busy"] = busy
    book = make_book(coaches=coaches)
    parties.add_client(book, "Dee Roy", "dee@example.org", "intensive", "dee")
    return book


def refused(book: Book, start: str) -> bool:
    try:
        plan_one(book, start, clients=("dee",))
    except Refused as exc:
        assert exc.code == "unavailable", exc.message
        return True
    return False


def test_ics_feed_is_busy_time(make_book: Callable[..., Book], feed_url: str) -> None:
    book = busy_book(make_book, [{"url": feed_url}])
    (report,) = refresh_busy(book, book.coach("maia"))
    assert report.error is None and len(report.skipped) == 1
    assert "broken" in report.skipped[0]
    assert refused(book, "2026-12-07T14:30")  # weekly supervision, expanded
    assert refused(book, "2027-04-05T14:00")  # ... and still 14:00 local after DST
    assert not refused(book, "2026-12-01T10:00")  # TRANSPARENT is free
    assert not refused(book, "2026-12-02T10:00")  # CANCELLED is free
    assert refused(book, "2026-12-03T16:00")  # all-day event blocks the day
    slots = views.slots(book, "maia", "dee", "2026-12", None)["slots"]
    assert not any(s["start"].startswith("2026-12-07T14:00") for s in slots)
    assert not any(s["start"].startswith("2026-12-03") for s in slots)


def test_unchanged_feed_costs_a_304_and_an_outage_keeps_busy_time(
    make_book: Callable[..., Book], feed_url: str
) -> None:
    book = busy_book(make_book, [{"url": feed_url}])
    refresh_busy(book, book.coach("maia"))
    (again,) = refresh_busy(book, book.coach("maia"))
    assert again.blocks is None and FeedServer.hits[-1] != ""
    FeedServer.status = 503
    (down,) = refresh_busy(book, book.coach("maia"))
    assert down.error and "503" in down.error
    assert refused(book, "2026-12-07T14:30")
    FeedServer.status, FeedServer.body = 200, FEED.replace(b"RRULE:FREQ=WEEKLY;BYDAY=MO\r\n", b"")
    (changed,) = refresh_busy(book, book.coach("maia"))
    assert changed.blocks is not None and not refused(book, "2026-12-07T14:30")


def _event(uid: str, start: str, end: str) -> bytes:
    return (
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:{uid}"
        f"\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:{start}\r\nDTEND:{end}\r\nSUMMARY:Busy"
        "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


@pytest.mark.parametrize("kind", ["folder", "radicale", "xandikos"])
def test_caldav_and_folder_busy_calendars_follow_changes(
    make_book: Callable[..., Book], kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    with busy_target(kind, tmp_path, request) as (busy, store):
        item = store.create(
            "dentist.ics", _event("dentist", "20261208T100000Z", "20261208T113000Z")
        )
        store.create("gym.ics", _event("gym", "20261209T100000Z", "20261209T110000Z"))
        book = busy_book(make_book, [busy])
        refresh_busy(book, book.coach("maia"))
        assert refused(book, "2026-12-08T11:00") and refused(book, "2026-12-09T10:00")
        store.delete(item.href, item.etag)
        (report,) = refresh_busy(book, book.coach("maia"))
        assert report.error is None
        assert not refused(book, "2026-12-08T11:00")
        assert refused(book, "2026-12-09T10:00")


def test_an_outlook_calendar_of_the_coachs_is_busy_time(make_book: Callable[..., Book]) -> None:
    from servers.graph_server import serve_graph

    def at(day: str, hours: tuple[int, int]) -> dict[str, Any]:
        return {
            "start": {"dateTime": f"{day}T{hours[0]:02d}:00:00", "timeZone": "UTC"},
            "end": {"dateTime": f"{day}T{hours[1]:02d}:00:00", "timeZone": "UTC"},
        }

    with serve_graph() as graph:
        box = graph.mailbox
        box.create("other", {"subject": "Dentist", **at("2026-12-08", (10, 11))})
        box.create("other", {"subject": "Lunch?", "showAs": "free", **at("2026-12-09", (10, 11))})
        weekly = {"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["thursday"]},
                  "range": {"type": "numbered", "numberOfOccurrences": 4,
                            "startDate": "2026-12-10"}}  # fmt: skip
        box.create("other", {"subject": "Supervision", "recurrence": weekly,
                             **at("2026-12-10", (14, 15))})  # fmt: skip
        url = graph.calendar_url("other")
        book = busy_book(make_book, [{"url": url, "kind": "graph"}])
        (report,) = refresh_busy(book, book.coach("maia"))
        assert report.error is None and not report.skipped
        assert refused(book, "2026-12-08T10:00")
        assert not refused(book, "2026-12-09T10:00")  # show-as free
        assert refused(book, "2026-12-17T14:00")  # the series' second Thursday
        assert not refused(book, "2027-01-07T14:00")  # after its fourth
        (again,) = refresh_busy(book, book.coach("maia"))
        assert again.blocks is None  # nothing changed: one delta request
