"""End to end on the fake Graph server, with the coach working in Outlook itself: moves and
deletions go through Graph's own API (PATCH start/end, DELETE), not through iCalendar, and
the fake records every mail Exchange would send, so "one invitation per client" is proven."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from book_helpers import at, plan_one
from calbridge.book import Book, parties, views
from calbridge.calendars.graph import GraphStore
from calbridge.store.tables import OutboxRow
from servers.graph_server import FakeGraph
from sync.e2e_helpers import Target, book_on, event_of, graph_target, starts, sync
from validate_helpers import assert_valid


@pytest.fixture
def target() -> Iterator[Target]:
    with graph_target() as target:
        yield target


@pytest.fixture
def book(make_book: Callable[..., Book], target: Target) -> Book:
    b = book_on(make_book, target)
    parties.add_client(b, "Ana Lopez", "ana@example.org", "standard", "ana")
    parties.add_client(b, "Dee Roy", "dee@example.org", "intensive", "dee")
    return b


def outlook(fake: FakeGraph, method: str, path: str, body: Any = None) -> Any:
    """What Outlook does: a plain Graph request, with nothing of calbridge's in it."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{fake.url}/v1.0/me{path}", data=data, method=method)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req) as reply:
        raw = reply.read()
    return json.loads(raw) if raw else None


def graph_id(target: Target, uid: str) -> str:
    return event_of(target.app, uid).href.removesuffix(".ics")


def mails(book: Book) -> list[tuple[str, str]]:
    with book.transaction() as db:
        rows = db.execute(select(OutboxRow.kind, OutboxRow.recipient).order_by(OutboxRow.id))
        return [(kind, to) for kind, to in rows]


def test_book_to_outlook_move_in_outlook_back_to_the_book(book: Book, target: Target) -> None:
    s = plan_one(book, "2027-03-02T10:00")
    assert sync(book).count("create") == 1
    event = outlook(target.graph, "GET", f"/events/{graph_id(target, s.uid)}")
    assert event["start"]["dateTime"].startswith("2027-03-02T10:00:00")
    assert event["attendees"] == [] and event["showAs"] == "tentative"  # requested: a hold
    assert "With: Ana Lopez <ana@example.org>" in event["body"]["content"]
    moved = {"start": {"dateTime": "2027-03-04T14:00:00", "timeZone": "UTC"},
             "end": {"dateTime": "2027-03-04T15:00:00", "timeZone": "UTC"}}  # fmt: skip
    outlook(target.graph, "PATCH", f"/events/{event['id']}", moved)
    report = sync(book)
    assert report.count("import") == 1 and not report.refused
    shown = views.show(book, s.id or 0)
    assert shown["start"] == "2027-03-04T14:00:00+00:00"
    assert shown["audit"][-1]["actor"] == "coach"
    assert sync(book).actions == []
    assert starts(target.app, s.uid) == [at("2027-03-04T14:00")]
    assert_valid(event_of(target.app, s.uid).data, caldav=True)


def test_delete_in_outlook_cancels_and_each_client_gets_one_mail_of_each(
    book: Book, target: Target
) -> None:
    s = plan_one(book, "2027-03-02T10:00", clients=("ana",))
    sync(book)
    item = event_of(target.app, s.uid)
    outlook(target.graph, "DELETE", f"/events/{item.href.removesuffix('.ics')}")
    assert sync(book).count("cancel") == 1
    assert views.show(book, s.id or 0)["status"] == "cancelled"
    to_ana = [kind for kind, to in mails(book) if to == "ana@example.org"]
    assert sorted(to_ana) == ["cancel", "request"], mails(book)
    assert target.graph.mailbox.mail == []  # Exchange sent nothing: calbridge is the mailer


def test_a_hold_shows_as_tentative_and_kinds_as_categories(book: Book, target: Target) -> None:
    s = plan_one(book, "2027-03-02T10:00")
    sync(book)
    event = outlook(target.graph, "GET", f"/events/{graph_id(target, s.uid)}")
    data = event_of(target.app, s.uid).data.decode()
    tentative = "STATUS:TENTATIVE" in data
    assert (event["showAs"] == "tentative") is tentative
    assert event["categories"], "the session's kind travels as an Outlook category"
    kind = event["categories"][0]
    assert target.graph.categories[kind] == "preset7"  # client: steelblue, Outlook's blue


def test_a_quiet_pass_is_one_request(book: Book, target: Target) -> None:
    from calbridge.sync.engine import CalendarSync

    for day in (1, 2, 3):
        plan_one(book, f"2027-03-0{day}T10:00", clients=("dee",))
    with GraphStore(target.calendar["url"]) as store:
        engine = CalendarSync(book, book.coach("maia"), store)
        assert engine.run().count("create") == 3
        for _ in range(2):
            before = store.requests
            assert engine.run().actions == []
            assert store.requests - before == 1


def test_an_expired_delta_token_is_a_guarded_full_listing(book: Book, target: Target) -> None:
    sessions = [plan_one(book, f"2027-03-0{d}T10:00", clients=("dee",)) for d in (1, 2, 3, 4)]
    sync(book)
    target.graph.mailbox.expire()
    for s in sessions:
        outlook(target.graph, "DELETE", f"/events/{graph_id(target, s.uid)}")
    report = sync(book)  # 410 Gone: a full listing that looks empty is held, not obeyed
    assert report.held_back and report.actions == []
    assert all(views.show(book, s.id or 0)["status"] == "requested" for s in sessions)


def _weekly(book: Book) -> list[Any]:
    from book_helpers import plan
    from calbridge.core.model import SeriesSpec

    rows = plan(book, "2027-03-01T10:00", clients=("dee",), series=SeriesSpec("weekly", (0,), 3))
    sync(book)
    return rows


def _instances(target: Target, eid: str) -> list[dict[str, Any]]:
    window = "startDateTime=2027-01-01T00:00:00Z&endDateTime=2027-12-31T00:00:00Z"
    return list(outlook(target.graph, "GET", f"/events/{eid}/instances?{window}")["value"])


def test_a_series_is_a_recurrence_pattern_with_its_exceptions(book: Book, target: Target) -> None:
    from calbridge.book import planning
    from calbridge.core.model import Actor

    rows = _weekly(book)
    eid = graph_id(target, rows[0].uid)
    master = outlook(target.graph, "GET", f"/events/{eid}")
    assert master["type"] == "seriesMaster"
    assert master["recurrence"]["pattern"]["type"] == "weekly"
    assert master["recurrence"]["pattern"]["daysOfWeek"] == ["monday"]
    assert master["recurrence"]["range"]["numberOfOccurrences"] == 3
    planning.cancel(book, rows[2].id or 0, Actor.ADMIN, "ill", False)
    from book_helpers import move

    move(book, rows[1].id or 0, "2027-03-09T11:00", client_requested=True)
    sync(book)
    shown = {i["originalStart"][:10]: (i["type"], i["start"]["dateTime"][:16]) for i in
             _instances(target, eid)}  # fmt: skip
    assert shown == {
        "2027-03-01": ("occurrence", "2027-03-01T10:00"),
        "2027-03-08": ("exception", "2027-03-09T11:00"),
    }
    assert sync(book).actions == []


def test_an_occurrence_moved_or_cancelled_in_outlook_reaches_the_book(
    book: Book, target: Target
) -> None:
    rows = _weekly(book)
    eid = graph_id(target, rows[0].uid)
    second, third = _instances(target, eid)[1:3]
    moved = {"start": {"dateTime": "2027-03-09T11:00:00", "timeZone": "UTC"},
             "end": {"dateTime": "2027-03-09T12:00:00", "timeZone": "UTC"}}  # fmt: skip
    outlook(target.graph, "PATCH", f"/events/{second['id']}", moved)
    outlook(target.graph, "DELETE", f"/events/{third['id']}")
    report = sync(book)
    assert not report.refused, report.refused
    assert views.show(book, rows[1].id or 0)["start"] == "2027-03-09T11:00:00+00:00"
    assert views.show(book, rows[2].id or 0)["status"] == "cancelled"
    assert views.show(book, rows[0].id or 0)["start"] == "2027-03-01T10:00:00+00:00"
    assert sync(book).actions == []
    assert_valid(event_of(target.app, rows[0].uid).data, caldav=True)


def test_a_series_across_a_clock_change_keeps_its_local_time(book: Book, target: Target) -> None:
    from book_helpers import plan
    from calbridge.core.model import SeriesSpec

    rows = plan(book, "2027-03-22T10:00", clients=("dee",), series=SeriesSpec("weekly", (0,), 3))
    sync(book)  # London: 10:00 GMT, then 10:00 BST from 28 March
    eid = graph_id(target, rows[0].uid)
    master = outlook(target.graph, "GET", f"/events/{eid}")
    assert master["recurrence"]["range"]["recurrenceTimeZone"] == "Europe/London"
    found = [i["start"]["dateTime"][:16] for i in _instances(target, eid)]
    assert found == ["2027-03-22T10:00", "2027-03-29T09:00", "2027-04-05T09:00"]  # in UTC
    assert sync(book).actions == []


class CrashingStore(GraphStore):
    """A pass that dies right after a write reached Graph (the reply lost)."""

    crash_on: str = ""

    def _crash(self, operation: str) -> None:
        if self.crash_on == operation:
            self.crash_on = ""
            from calbridge.calendars.base import TransientError

            raise TransientError("killed after the write")

    def create(self, name: str, data: bytes) -> Any:
        item = super().create(name, data)
        self._crash("create")
        return item

    def update(self, href: str, data: bytes, etag: str) -> str:
        etag = super().update(href, data, etag)
        self._crash("update")
        return etag


@pytest.mark.parametrize("expire", [False, True])
def test_a_pass_that_dies_after_its_creates_leaves_one_event_each(
    book: Book, target: Target, expire: bool
) -> None:
    from calbridge.sync.engine import CalendarSync

    sessions = [plan_one(book, f"2027-03-0{d}T10:00", clients=("dee",)) for d in (1, 2)]
    with CrashingStore(target.calendar["url"]) as store:
        store.crash_on = "create"
        assert CalendarSync(book, book.coach("maia"), store).run().error
        if expire:
            target.graph.mailbox.expire()
        assert CalendarSync(book, book.coach("maia"), store).run().error is None
        assert CalendarSync(book, book.coach("maia"), store).run().actions == []
    assert len(target.graph.mailbox.events) == 2
    for s in sessions:
        assert starts(target.app, s.uid) == [at(views.show(book, s.id or 0)["start"][:16])]


def test_a_pass_that_dies_after_an_update_is_not_read_as_the_coachs_move(
    book: Book, target: Target
) -> None:
    from book_helpers import move
    from calbridge.sync.engine import CalendarSync

    s = plan_one(book, "2027-03-02T10:00")
    sync(book)
    move(book, s.id or 0, "2027-03-03T11:00", client_requested=True)
    with CrashingStore(target.calendar["url"]) as store:
        store.crash_on = "update"
        assert CalendarSync(book, book.coach("maia"), store).run().error
        again = CalendarSync(book, book.coach("maia"), store).run()
        assert again.error is None and again.count("import") == 0
    assert views.show(book, s.id or 0)["start"] == "2027-03-03T11:00:00+00:00"
    assert starts(target.app, s.uid) == [at("2027-03-03T11:00")]
    assert sync(book).actions == []


def test_a_repeat_rule_added_in_outlook_is_refused_and_the_series_undone(
    book: Book, target: Target
) -> None:
    """The state machine's find: Outlook made a session a daily series; calbridge read its
    own copy and never saw the pattern, so the session stood and the series stayed."""
    s = plan_one(book, "2027-03-02T10:00")
    sync(book)
    eid = graph_id(target, s.uid)
    daily = {"pattern": {"type": "daily", "interval": 1},
             "range": {"type": "noEnd", "startDate": "2027-03-02"}}  # fmt: skip
    outlook(target.graph, "PATCH", f"/events/{eid}", {"recurrence": daily})
    report = sync(book)
    assert report.error is None and report.refused
    event = outlook(target.graph, "GET", f"/events/{eid}")
    assert event["recurrence"] is None and event["type"] == "singleInstance"
    assert views.show(book, s.id or 0)["start"] == "2027-03-02T10:00:00+00:00"
    assert sync(book).actions == []


def test_a_location_and_reminder_set_in_outlook_survive_a_book_move(
    book: Book, target: Target
) -> None:
    """The state machine's find: calbridge's next PATCH (the book moved the session) sent
    its own empty location and reminder off, wiping what the coach set in Outlook."""
    from calbridge.book import planning
    from calbridge.book.requests import EditRequest

    s = plan_one(book, "2027-03-02T10:00")
    sync(book)
    eid = graph_id(target, s.uid)
    coach = {"location": {"displayName": "Room 4"}, "isReminderOn": True,
             "reminderMinutesBeforeStart": 30}  # fmt: skip
    outlook(target.graph, "PATCH", f"/events/{eid}", coach)
    sync(book)
    planning.edit(book, s.id or 0, EditRequest(at("2027-03-03T11:00"), at("2027-03-03T12:00")))
    assert sync(book).count("update") == 1
    event = outlook(target.graph, "GET", f"/events/{eid}")
    assert event["start"]["dateTime"].startswith("2027-03-03T11:00:00")
    assert event["location"]["displayName"] == "Room 4"
    assert (event["isReminderOn"], event["reminderMinutesBeforeStart"]) == (True, 30)
