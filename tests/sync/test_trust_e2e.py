"""Trust in the mirror (issue 11, PRODUCT rule 8), on a vdir folder, Radicale and Xandikos.

What coaches, their apps and servers really do to the sessions calendar: "delete all",
a collection replaced by an empty one, a repeat rule added to one session, a UID or a
time zone changed, a location or an alarm added, a second copy of an event, their own
appointments. None of it may cancel a session by itself or be dropped without a word.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from icalendar import Alarm, Calendar
from sqlalchemy import select

from book_helpers import at, plan_one
from calbridge.book import Book, parties, views
from calbridge.calendars.base import StorageError
from calbridge.calendars.caldav import CalDAVStore, UidConflict
from calbridge.calendars.vdir import VdirStore
from calbridge.core.timeutil import parse_time
from calbridge.errors import Refused
from calbridge.store.tables import OutboxRow
from calbridge.sync import status
from calbridge.sync.planner import Decision
from calbridge.sync.run import sync_coach
from servers.caldav_servers import CalDAVServer, delete_resource, mkcalendar
from sync.e2e_helpers import Target, caldav_target, edit, event_of, items, starts, sync


@pytest.fixture(params=["vdir", "radicale", "xandikos"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Target, Any]]:
    if request.param == "vdir":
        folder = tmp_path / "calendar"
        yield Target({"url": str(folder)}, VdirStore(folder)), None
        return
    server: CalDAVServer = request.getfixturevalue(request.param)
    with caldav_target(server) as target:
        yield target, server


@pytest.fixture
def target(where: tuple[Target, Any]) -> Target:
    return where[0]


@pytest.fixture
def book(make_book: Callable[..., Book], target: Target) -> Book:
    from conftest import base_config

    coaches = base_config("")["coaches"]
    coaches[0]["calendar"] = target.calendar
    b = make_book(coaches=coaches, mail={"admin": "office@practice.example"})
    for i in range(12):
        parties.add_client(b, f"Client {i}", f"c{i}@example.org", "intensive", f"c{i}")
    return b


def plan_many(book: Book, n: int) -> list[Any]:
    days = ["2027-03-01", "2027-03-02", "2027-03-03", "2027-03-04", "2027-03-05"]
    return [plan_one(book, f"{days[i % 5]}T{10 + i // 5}:00", clients=(f"c{i}",)) for i in range(n)]


def mails(book: Book, kind: str) -> list[str]:
    with book.transaction() as db:
        query = select(OutboxRow.recipient).where(OutboxRow.kind == kind).order_by(OutboxRow.id)
        return list(db.scalars(query))


def statuses(book: Book, sessions: list[Any]) -> set[str]:
    return {views.show(book, s.id or 0)["status"] for s in sessions}


def held(book: Book) -> dict[str, str]:
    with book.transaction() as db:
        return status.held_calendars(db)


def wipe(target: Target) -> None:
    """What "delete all" in a calendar app does: one DELETE per event."""
    for item in items(target.app).values():
        target.app.delete(item.href, item.etag)


def decide(book: Book, decision: Decision) -> Any:
    report = sync_coach(book, book.coach("maia"), decision=decision)
    assert report.error is None, report.error
    return report


def test_wiping_the_calendar_cancels_nothing_and_holds_it(book: Book, target: Target) -> None:
    sessions = plan_many(book, 8)
    sync(book)
    invites = len(mails(book, "cancel"))
    wipe(target)
    report = sync(book)
    assert report.held_back and "8 of 8 events vanished" in report.held_back
    assert "--restore" in report.held_back and "--accept-deletions" in report.held_back
    assert report.count("cancel") == 0 and statuses(book, sessions) == {"requested"}
    assert len(mails(book, "cancel")) == invites  # no client was told anything
    assert sorted(mails(book, "held")) == ["maia@practice.example", "office@practice.example"]
    assert "maia" in held(book)
    again = sync(book)  # still held, quietly: no second mail, still nothing cancelled
    assert again.held_back and statuses(book, sessions) == {"requested"}
    assert len(mails(book, "held")) == 2
    restored = decide(book, Decision.RESTORE)
    assert restored.count("create") == 8 and not restored.held_back
    assert held(book) == {} and statuses(book, sessions) == {"requested"}
    assert all(starts(target.app, s.uid) == [s.start] for s in sessions)
    assert sync(book).actions == []


def test_accepting_the_deletions_cancels_and_tells_the_clients(book: Book, target: Target) -> None:
    sessions = plan_many(book, 4)
    sync(book)
    wipe(target)
    assert sync(book).held_back and statuses(book, sessions) == {"requested"}
    accepted = decide(book, Decision.ACCEPT)
    assert accepted.count("cancel") == 4 and held(book) == {}
    assert statuses(book, sessions) == {"cancelled"}
    assert sorted(mails(book, "cancel")) == sorted(f"c{i}@example.org" for i in range(4))
    assert sync(book).actions == []


def test_one_deletion_is_an_ordinary_cancellation(book: Book, target: Target) -> None:
    sessions = plan_many(book, 4)
    sync(book)
    gone = event_of(target.app, sessions[0].uid)
    target.app.delete(gone.href, gone.etag)
    report = sync(book)
    assert report.count("cancel") == 1 and not report.held_back and held(book) == {}
    assert views.show(book, sessions[0].id or 0)["status"] == "cancelled"
    assert statuses(book, sessions[1:]) == {"requested"}


def test_a_collection_replaced_by_an_empty_one_is_held(
    book: Book, where: tuple[Target, Any]
) -> None:
    target, server = where
    sessions = plan_many(book, 5)
    sync(book)
    if server is None:  # a folder emptied at once
        wipe(target)
    else:
        url = target.calendar["url"]
        assert delete_resource(server, url).status in (200, 204)
        assert mkcalendar(server, url).status == 201
    report = sync(book)
    assert report.held_back and statuses(book, sessions) == {"requested"}
    assert decide(book, Decision.RESTORE).count("create") == 5
    assert sync(book).actions == []


def test_book_side_cancellations_are_not_held(book: Book, target: Target) -> None:
    from calbridge.book import planning
    from calbridge.core.model import Actor

    sessions = plan_many(book, 8)
    sync(book)
    for s in sessions:
        planning.cancel(book, s.id or 0, Actor.ADMIN, "practice closed")
    report = sync(book)
    assert report.count("delete") == 8 and not report.held_back
    assert items(target.app) == {}


def test_a_repeat_rule_added_to_one_session_is_reverted(book: Book, target: Target) -> None:
    s = plan_one(book, "2027-03-02T10:00", clients=("c1",))
    sync(book)
    cancels = len(mails(book, "cancel"))

    def repeat(cal: Calendar) -> None:
        cal.walk("VEVENT")[0].add("RRULE", {"FREQ": "WEEKLY", "COUNT": 3})

    edit(target.app, s.uid, repeat)
    report = sync(book)
    assert report.refused and "cannot repeat" in report.refused[0]
    assert views.show(book, s.id or 0)["status"] == "requested"
    assert len(mails(book, "cancel")) == cancels and mails(book, "reverted")
    assert b"RRULE" not in event_of(target.app, s.uid).data
    assert starts(target.app, s.uid) == [at("2027-03-02T10:00")]
    assert sync(book).actions == []


def test_a_changed_uid_is_put_back(book: Book, target: Target) -> None:
    s = plan_one(book, "2027-03-02T10:00", clients=("c1",))
    sync(book)
    item = event_of(target.app, s.uid)
    try:
        target.app.update(item.href, item.data.replace(s.uid.encode(), b"someone-else"), item.etag)
    except StorageError:  # Radicale refuses a resource's UID to change (a lax server won't)
        assert sync(book).actions == [] and starts(target.app, s.uid) == [s.start]
        return
    report = sync(book)
    assert report.refused and "UID was changed" in report.refused[0]
    assert views.show(book, s.id or 0)["status"] == "requested"
    assert starts(target.app, s.uid) == [at("2027-03-02T10:00")]
    assert sync(book).actions == []


def test_what_the_coach_adds_survives_later_rewrites(book: Book, target: Target) -> None:
    s = plan_one(book, "2027-03-02T10:00", clients=("c1",))
    sync(book)

    def annotate(cal: Calendar) -> None:
        event = cal.walk("VEVENT")[0]
        event.add("LOCATION", "Room 7")
        event.add("X-APPLE-TRAVEL-ADVISORY-BEHAVIOR", "AUTOMATIC")
        event.add("CATEGORIES", ["Important"])
        alarm = Alarm()
        alarm.add("ACTION", "DISPLAY")
        alarm.add("DESCRIPTION", "Soon")
        alarm.add("TRIGGER", parse_time("2027-03-02T09:45", book.zone("maia")))
        event.add_component(alarm)

    edit(target.app, s.uid, annotate)
    first = sync(book)
    assert not first.refused and first.count("update") == 0
    from book_helpers import move

    move(book, s.id or 0, "2027-03-03T11:00", client_requested=True)  # a book-side rewrite
    assert sync(book).count("update") == 1
    cal = Calendar.from_ical(event_of(target.app, s.uid).data)
    event = cal.walk("VEVENT")[0]
    assert str(event["LOCATION"]) == "Room 7"
    assert str(event["X-APPLE-TRAVEL-ADVISORY-BEHAVIOR"]) == "AUTOMATIC"
    cats = event["CATEGORIES"]
    names = {str(c) for prop in (cats if isinstance(cats, list) else [cats]) for c in prop.cats}
    assert names == {"Session", "Important"}
    assert [a["ACTION"] for a in event.walk("VALARM")] == ["DISPLAY"]
    assert event.decoded("DTSTART") == at("2027-03-03T11:00")
    assert sync(book).actions == []


def test_a_retitled_session_is_put_back_and_the_coach_told(book: Book, target: Target) -> None:
    s = plan_one(book, "2027-03-02T10:00", clients=("c1",))
    sync(book)
    title = str(Calendar.from_ical(event_of(target.app, s.uid).data).walk("VEVENT")[0]["SUMMARY"])

    def retitle(cal: Calendar) -> None:
        event = cal.walk("VEVENT")[0]
        del event["SUMMARY"]
        event.add("SUMMARY", "Lunch")

    edit(target.app, s.uid, retitle)
    report = sync(book)
    assert report.refused and "title" in report.refused[0]
    assert mails(book, "reverted") == ["maia@practice.example"]
    cal = Calendar.from_ical(event_of(target.app, s.uid).data)
    assert str(cal.walk("VEVENT")[0]["SUMMARY"]) == title


def test_a_second_copy_of_a_session_is_reported(book: Book, target: Target) -> None:
    s = plan_one(book, "2027-03-02T10:00", clients=("c1",))
    sync(book)
    try:
        target.app.create("copy-of-it.ics", event_of(target.app, s.uid).data)
    except UidConflict:  # CalDAV servers refuse a second resource with one UID (RFC 4791)
        assert isinstance(target.app, CalDAVStore)
        return
    report = sync(book)
    assert any("copy-of-it.ics" in line and s.uid in line for line in report.skipped)
    assert views.show(book, s.id or 0)["status"] == "requested"
    assert sync(book).actions == []


DENTIST = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\nBEGIN:VEVENT\r\nUID:dentist\r\n"
    b"DTSTAMP:20270101T000000Z\r\nDTSTART:20270302T140000Z\r\nDTEND:20270302T150000Z\r\n"
    b"SUMMARY:Dentist\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def test_the_coachs_own_events_in_the_sessions_calendar_are_busy(
    book: Book, target: Target
) -> None:
    from calbridge.core.timeutil import parse_month

    sync(book)
    target.app.create("dentist.ics", DENTIST)
    free = target.app.create(
        "gym.ics",
        DENTIST.replace(b"UID:dentist", b"UID:gym")
        .replace(b"Dentist", b"Gym")
        .replace(b"T140000Z", b"T150000Z")
        .replace(b"T150000Z\r\nSUMMARY", b"T160000Z\r\nTRANSP:TRANSPARENT\r\nSUMMARY"),
    )
    assert free.href
    sync(book)
    with pytest.raises(Refused, match="Dentist"):
        plan_one(book, "2027-03-02T14:00", clients=("c1",))
    slots = views.slots(book, "maia", "c1", parse_month("2027-03"), timedelta(minutes=60))
    starts_at = {slot["start"] for slot in slots["slots"]}
    assert "2027-03-02T14:00:00+00:00" not in starts_at
    assert "2027-03-02T15:00:00+00:00" in starts_at  # transparent: free
    dentist = event_of(target.app, "dentist")
    target.app.delete(dentist.href, dentist.etag)
    sync(book)
    assert plan_one(book, "2027-03-02T14:00", clients=("c1",)).id
    assert b"SUMMARY:Dentist" not in b"".join(i.data for i in items(target.app).values())
