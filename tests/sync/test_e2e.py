"""End to end: the book and a real calendar (vdir folder, Radicale, Xandikos) stay in step."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlalchemy import select

from book_helpers import at, move, plan, plan_one
from calbridge.book import Book, parties, planning, views
from calbridge.calendars.base import StorageError
from calbridge.calendars.caldav import CalDAVStore
from calbridge.calendars.vdir import VdirStore
from calbridge.core.model import Actor, SeriesSpec
from calbridge.core.timeutil import parse_date
from calbridge.store.tables import ChangeRow
from servers.caldav_servers import CalDAVServer
from sync.conftest import fresh_calendar
from sync.e2e_helpers import (
    Target,
    caldav_target,
    edit,
    event_of,
    graph_target,
    items,
    move_to,
    starts,
    sync,
)


@pytest.fixture(params=["vdir", "radicale", "xandikos", "graph"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    if request.param == "vdir":
        folder = tmp_path / "calendar"
        yield Target({"url": str(folder)}, VdirStore(folder))
        return
    if request.param == "graph":
        with graph_target() as target:
            yield target
        return
    server: CalDAVServer = request.getfixturevalue(request.param)
    with caldav_target(server) as target:
        yield target


@pytest.fixture
def book(make_book: Callable[..., Book], target: Target) -> Book:
    from conftest import base_config

    coaches = base_config("")["coaches"]
    coaches[0]["calendar"] = target.calendar
    b = make_book(coaches=coaches)
    parties.add_client(b, "Ana Lopez", "ana@example.org", "standard", "ana")
    parties.add_client(b, "Dee Roy", "dee@example.org", "intensive", "dee")
    return b


def test_planned_session_appears_and_second_sync_is_quiet(book: Book, target: Target) -> None:
    s = plan_one(book, "2027-03-02T10:00")
    report = sync(book)
    assert report.count("create") == 1
    assert starts(target.app, s.uid) == [at("2027-03-02T10:00")]
    data = event_of(target.app, s.uid).data.decode()
    assert "METHOD" not in data and "SCHEDULE-AGENT=CLIENT" in data.replace("\r\n ", "")
    assert sync(book).actions == []


def test_move_in_calendar_reschedules(book: Book, target: Target) -> None:
    s = plan_one(book, "2027-03-02T10:00")
    sync(book)
    edit(target.app, s.uid, move_to(at("2027-03-04T14:00"), at("2027-03-04T15:00")))
    report = sync(book)
    assert report.count("import") == 1 and not report.refused
    shown = views.show(book, s.id or 0)
    assert shown["start"] == "2027-03-04T14:00:00+00:00"
    assert (shown["status"], shown["awaiting"]) == ("requested", "client")
    assert shown["audit"][-1]["actor"] == "coach"
    assert shown["audit"][-1]["origin"] == "sync:maia"
    assert sync(book).actions == []


def test_move_into_full_month_is_reverted(book: Book, target: Target) -> None:
    plan_one(book, "2027-04-06T10:00")
    plan_one(book, "2027-04-13T10:00")
    s = plan_one(book, "2027-03-02T10:00")
    sync(book)
    edit(target.app, s.uid, move_to(at("2027-04-20T10:00"), at("2027-04-20T11:00")))
    report = sync(book)
    assert report.refused and "2027-04" in report.refused[0]
    assert views.show(book, s.id or 0)["start"] == "2027-03-02T10:00:00+00:00"
    assert starts(target.app, s.uid) == [at("2027-03-02T10:00")]
    with book.transaction() as db:
        topics = list(db.scalars(select(ChangeRow.topic)))
    assert "session.reverted" in topics


def test_stretching_an_event_past_a_day_is_reverted(book: Book, target: Target) -> None:
    s = plan_one(book, "2027-03-02T10:00")
    sync(book)
    edit(target.app, s.uid, move_to(at("2027-03-02T10:00"), at("2027-03-04T10:00")))
    report = sync(book)
    assert report.refused and "24 hours" in report.refused[0]
    assert starts(target.app, s.uid) == [at("2027-03-02T10:00")]
    assert views.show(book, s.id or 0)["end"] == "2027-03-02T11:00:00+00:00"


def test_delete_in_calendar_cancels(book: Book, target: Target) -> None:
    s = plan_one(book, "2027-03-02T10:00")
    keep = plan_one(book, "2027-03-03T10:00", clients=("dee",))
    sync(book)
    item = event_of(target.app, s.uid)
    target.app.delete(item.href, item.etag)
    report = sync(book)
    assert report.count("cancel") == 1
    assert views.show(book, s.id or 0)["status"] == "cancelled"
    assert views.show(book, keep.id or 0)["status"] == "requested"


def test_partstat_in_calendar_is_the_clients_answer(book: Book, target: Target) -> None:
    s = plan_one(book, "2027-03-02T10:00")
    sync(book)

    def accept(cal: Calendar) -> None:
        for event in cal.walk("VEVENT"):
            event["ATTENDEE"].params["PARTSTAT"] = "ACCEPTED"

    edit(target.app, s.uid, accept)
    sync(book)
    shown = views.show(book, s.id or 0)
    assert shown["status"] == "scheduled" and shown["partstat"] == {"ana": "ACCEPTED"}


def test_book_changes_are_pushed(book: Book, target: Target) -> None:
    s = plan_one(book, "2027-03-02T10:00")
    sync(book)
    move(book, s.id or 0, "2027-03-03T11:00", client_requested=True)
    assert sync(book).count("update") == 1
    assert starts(target.app, s.uid) == [at("2027-03-03T11:00")]
    planning.cancel(book, s.id or 0, Actor.ADMIN, "ill")
    assert sync(book).count("delete") == 1
    assert items(target.app) == {}


def test_series_edits_on_both_sides(book: Book, target: Target) -> None:
    done = plan(
        book, "2027-03-01T10:00", clients=("dee",), series=SeriesSpec("weekly", (0,), 4, None)
    )
    sync(book)
    uid = done[0].uid
    # Book side: the 2nd occurrence moves, the 4th is cancelled.
    move(book, done[1].id or 0, "2027-03-09T12:00", client_requested=True)
    planning.cancel(book, done[3].id or 0, Actor.ADMIN)
    sync(book)
    cal = Calendar.from_ical(event_of(target.app, uid).data)
    master = next(e for e in cal.walk("VEVENT") if "RECURRENCE-ID" not in e)
    assert [
        d.dts[0].dt
        for d in (master.get("EXDATE", []).__class__ is list and master["EXDATE"])
        or [master["EXDATE"]]
    ] == [done[3].recurrence_id]
    overrides = [e for e in cal.walk("VEVENT") if "RECURRENCE-ID" in e]
    assert [o.decoded("DTSTART") for o in overrides] == [at("2027-03-09T12:00")]
    # Calendar side: the coach moves the 3rd occurrence (an override) and drops the 1st.
    rid3 = done[2].recurrence_id
    assert rid3 is not None

    def coach_edits(cal: Calendar) -> None:
        from icalendar import Event

        master = next(e for e in cal.walk("VEVENT") if "RECURRENCE-ID" not in e)
        override = Event()
        for key in ("UID", "SUMMARY", "ORGANIZER", "ATTENDEE"):
            if key in master:
                override[key] = master[key]
        override.add("RECURRENCE-ID", rid3)
        override.add("DTSTART", rid3 + timedelta(hours=3))
        override.add("DTEND", rid3 + timedelta(hours=4))
        override.add("DTSTAMP", rid3)
        cal.add_component(override)
        master.add("EXDATE", done[0].recurrence_id)

    edit(target.app, uid, coach_edits)
    report = sync(book)
    assert not report.refused
    assert views.show(book, done[0].id or 0)["status"] == "cancelled"
    assert views.show(book, done[2].id or 0)["start"] == "2027-03-15T13:00:00+00:00"
    assert views.show(book, done[1].id or 0)["start"] == "2027-03-09T12:00:00+00:00"
    assert sync(book).actions == []


FOREIGN = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\nBEGIN:VEVENT\r\nUID:dentist\r\n"
    b"DTSTAMP:20270101T000000Z\r\nDTSTART:20270302T090000Z\r\nDTEND:20270302T100000Z\r\n"
    b"SUMMARY:Dentist\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def test_foreign_and_malformed_events_are_left_alone(
    book: Book, target: Target, request: pytest.FixtureRequest
) -> None:
    target.app.create("dentist.ics", FOREIGN)
    no_uid = FOREIGN.replace(b"UID:dentist\r\n", b"")
    try:
        target.app.create("broken.ics", no_uid)
        stored = True
    except StorageError:
        stored = False  # Radicale validates uploads (400), and every Graph event has a UID
    assert stored != ("radicale" in request.node.name or "graph" in request.node.name)
    s = plan_one(book, "2027-03-02T10:00")
    report = sync(book)
    assert report.count("create") == 1
    assert len(report.skipped) == int(stored)
    assert all("broken.ics" in line for line in report.skipped)
    assert b"SUMMARY:Dentist" in event_of(target.app, "dentist").data
    assert starts(target.app, s.uid) == [at("2027-03-02T10:00")]
    assert sync(book).actions == []


def test_our_event_edited_into_nonsense_is_restored(book: Book, target: Target) -> None:
    s = plan_one(book, "2027-03-02T10:00")
    sync(book)

    def unknown_zone(cal: Calendar) -> None:
        for event in cal.walk("VEVENT"):
            event["DTSTART"].params["TZID"] = "Mars/Olympus_Mons"

    edit(target.app, s.uid, unknown_zone)
    report = sync(book)
    assert report.refused and "could not be read" in report.refused[0]
    assert event_of(target.app, s.uid).href in report.refused[0]  # named by its href
    assert reverts_told(book) == ["maia@practice.example"]  # and the coach told why
    assert views.show(book, s.id or 0)["start"] == "2027-03-02T10:00:00+00:00"
    assert starts(target.app, s.uid) == [at("2027-03-02T10:00")]


def reverts_told(book: Book) -> list[str]:
    from calbridge.store.tables import OutboxRow

    with book.transaction() as db:
        query = select(OutboxRow.recipient).where(OutboxRow.kind == "reverted")
        return list(db.scalars(query))


def test_a_calendar_that_suddenly_looks_empty_cancels_nothing(book: Book, target: Target) -> None:
    sessions = [plan_one(book, f"2027-03-0{d}T10:00", clients=("dee",)) for d in (1, 2, 3, 4)]
    sync(book)
    for item in items(target.app).values():
        target.app.delete(item.href, item.etag)
    # Deletions reported one by one (sync-collection) or a folder emptied: held alike.
    report = sync(book)
    assert report.held_back and report.actions == []
    assert all(views.show(book, s.id or 0)["status"] == "requested" for s in sessions)


def test_closure_shows_as_all_day_event(book: Book, target: Target) -> None:
    from calbridge.book.closures import ClosureMode, add_closure

    add_closure(
        book,
        parse_date("2027-12-24"),
        parse_date("2027-12-26"),
        "Holiday",
        None,
        ClosureMode.CANCEL_ONLY,
    )
    sync(book)
    (item,) = items(target.app).values()
    assert b"DTSTART;VALUE=DATE:20271224" in item.data
    target.app.delete(item.href, item.etag)
    sync(book)
    assert len(items(target.app)) == 1  # the book's closure is put back


@pytest.mark.parametrize("server", ["radicale", "xandikos"])
def test_a_quiet_sync_makes_one_request(
    make_book: Callable[..., Book], server: str, request: pytest.FixtureRequest
) -> None:
    from calbridge.sync.engine import CalendarSync
    from conftest import base_config

    srv: CalDAVServer = request.getfixturevalue(server)
    url = fresh_calendar(srv)
    coaches = base_config("")["coaches"]
    coaches[0]["calendar"] = {"url": url}
    book = make_book(coaches=coaches)
    parties.add_client(book, "Dee Roy", "dee@example.org", "intensive", "dee")
    for day in (1, 2, 3):
        plan_one(book, f"2027-03-0{day}T10:00", clients=("dee",))
    with CalDAVStore(url, srv.auth) as store:
        engine = CalendarSync(book, book.coach("maia"), store)
        assert engine.run().count("create") == 3
        for _ in range(2):
            before = store.requests
            assert engine.run().actions == []
            assert store.requests - before == 1
