"""A book wired to one real calendar (vdir folder, Radicale or Xandikos), and a stand-in
for the coach's calendar app that edits events the way such apps do."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from icalendar import Calendar

from calbridge.book import Book
from calbridge.calendars.base import CalendarStore, Item
from calbridge.calendars.caldav import CalDAVStore
from calbridge.sync.engine import Report
from calbridge.sync.run import sync_coach


@dataclass
class Target:
    """The coach's calendar as calbridge is configured to see it, and as the app sees it."""

    calendar: dict[str, Any]  # the [coaches.calendar] table
    app: CalendarStore  # the coach's own calendar app
    graph: Any = None  # the fake Graph server (servers.graph_server.FakeGraph), for graph


@contextmanager
def caldav_target(server: Any) -> Iterator[Target]:
    """A fresh calendar on ``server`` (a tests.servers CalDAVServer): the coach's calendar
    table for the TOML, and the coach's app's view of it."""
    from sync.conftest import fresh_calendar

    url = fresh_calendar(server)
    table: dict[str, Any] = {"url": url}
    if server.auth:
        table.update(username=server.auth[0], password=server.auth[1])
    with CalDAVStore(url, server.auth) as app:
        yield Target(table, app)


@contextmanager
def graph_target() -> Iterator[Target]:
    """A calendar on a fresh fake Graph server; the app is a second GraphStore on it."""
    from calbridge.calendars.graph import GraphStore
    from servers.graph_server import serve_graph

    with serve_graph() as fake, GraphStore(fake.calendar_url()) as app:
        yield Target({"url": fake.calendar_url(), "kind": "graph"}, app, fake)


@contextmanager
def open_target(request: Any, tmp_path: Any) -> Iterator[Target]:
    """The calendar ``request.param`` names: "vdir" (a folder under ``tmp_path``) or a
    server fixture ("radicale", "xandikos"), on which a fresh calendar is made."""
    if request.param == "vdir":
        from calbridge.calendars.vdir import VdirStore

        folder = tmp_path / "calendar"
        yield Target({"url": str(folder)}, VdirStore(folder))
        return
    if request.param == "graph":
        with graph_target() as target:
            yield target
        return
    with caldav_target(request.getfixturevalue(request.param)) as target:
        yield target


@contextmanager
def busy_target(kind: str, tmp_path: Any, request: Any) -> Iterator[tuple[dict[str, Any], Any]]:
    """A busy calendar ``kind`` names: "folder" (under ``tmp_path``) or a server fixture
    ("radicale", "xandikos") with a fresh calendar: its [[coaches.busy]] table and a store
    to fill it with."""
    if kind == "folder":
        from calbridge.calendars.vdir import VdirStore

        yield {"url": str(tmp_path / "busy")}, VdirStore(tmp_path / "busy")
        return
    from sync.conftest import fresh_calendar

    server = request.getfixturevalue(kind)
    url = fresh_calendar(server)
    busy: dict[str, Any] = {"url": url, "kind": "caldav"}
    if server.auth:
        busy.update(username=server.auth[0], password=server.auth[1])
    with CalDAVStore(url, server.auth) as store:
        yield busy, store


def book_on(make_book: Callable[..., Book], target: Target, **changes: Any) -> Book:
    """A book whose coach "maia" writes to ``target`` (``changes``: more config)."""
    from conftest import base_config

    coaches = base_config("")["coaches"]
    coaches[0]["calendar"] = target.calendar
    return make_book(coaches=coaches, **changes)


def sync(book: Book) -> Report:
    report = sync_coach(book, book.coach("maia"))
    assert report.error is None, report.error
    return report


def items(app: CalendarStore) -> dict[str, Item]:
    listing = app.changes(None)
    return {i.href: i for i in app.get_many(list(listing.changed))}


def event_of(app: CalendarStore, uid: str) -> Item:
    found = [
        i for i in items(app).values() if f"UID:{uid}".encode() in i.data.replace(b"\r\n ", b"")
    ]
    assert len(found) == 1, f"{len(found)} resources hold {uid}"
    return found[0]


def edit(app: CalendarStore, uid: str, change: Callable[[Calendar], None]) -> None:
    """The coach edits the event in their app (bumping SEQUENCE, as apps do)."""
    item = event_of(app, uid)
    cal = Calendar.from_ical(item.data)
    change(cal)
    for event in cal.walk("VEVENT"):
        event["SEQUENCE"] = int(event.get("SEQUENCE", 0)) + 1
    app.update(item.href, cal.to_ical(), item.etag)


def move_to(
    start: datetime, end: datetime, rid: datetime | None = None
) -> Callable[[Calendar], None]:
    def change(cal: Calendar) -> None:
        for event in cal.walk("VEVENT"):
            if rid is None or (
                event.get("RECURRENCE-ID") and event.decoded("RECURRENCE-ID") == rid
            ):
                for key, value in (("DTSTART", start), ("DTEND", end)):
                    del event[key]
                    event.add(key, value)

    return change


def starts(app: CalendarStore, uid: str) -> list[datetime]:
    cal = Calendar.from_ical(event_of(app, uid).data)
    return [e.decoded("DTSTART") for e in cal.walk("VEVENT")]
