"""What the sync state machine stands on: a fresh book per example, a calendar whose
failures can be aimed at one operation, the coach's calendar app that edits it, and
``Pair`` for the plain tests of what the machine found.

The book of every example is a copy of one migrated SQLite file (migrating per example
would cost more than the example). The calendar is the project's ``MemoryStore``; the
``FaultyStore`` subclass only *times* its own failure hooks, so a failure can land on a
fetch or a write in the middle of a pass instead of always on the first listing.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Component
from sqlalchemy import select

from calbridge.book import Book, parties, planning
from calbridge.book.requests import PlanRequest
from calbridge.calendars.base import Item, Listing, TransientError, resource_name
from calbridge.calendars.memory import MemoryStore
from calbridge.config.load import build
from calbridge.config.schema import Settings
from calbridge.core.model import Role, Session, Status
from calbridge.store.tables import CalendarItemRow, ChangeRow, ParticipantRow, SessionRow
from calbridge.sync.engine import CalendarSync, Report

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # a Saturday
HOUR = timedelta(hours=1)
#: Name, email and program of each client; "cy" may have one session a month.
CLIENTS = {
    "ana": ("Ana Lopez", "ana@example.org", "generous"),
    "ben": ("Ben Ng", "ben@example.org", "generous"),
    "cy": ("Cy Park", "cy@example.org", "single"),
}
LIMITS = {"generous": 40, "single": 1}
WORKDAY = (9, 17)  # Monday to Friday, London


def config(db_url: str) -> dict[str, Any]:
    return {
        "database": {"url": db_url},
        "programs": {name: {"monthly_limit": n} for name, n in LIMITS.items()},
        "coaches": [
            {
                "id": "maia",
                "name": "Maia Jones",
                "email": "maia@practice.example",
                "timezone": "Europe/London",
                "working_hours": dict.fromkeys(
                    ("mon", "tue", "wed", "thu", "fri"), "{:02d}:00-{:02d}:00".format(*WORKDAY)
                ),
            }
        ],
    }


def slots(first: date, last: date) -> list[datetime]:
    """Every working hour's start from ``first`` to ``last`` (London, as aware UTC)."""
    found = []
    day = first
    while day <= last:
        if day.weekday() < 5:
            for hour in range(*WORKDAY):
                found.append(datetime.combine(day, time(hour), LONDON).astimezone(UTC))
        day += timedelta(days=1)
    return found


#: Three months of working hours after NOW: December 2026 to February 2027 (all GMT).
SLOTS = slots(date(2026, 12, 1), date(2027, 2, 26))
#: Saturday mornings in the same months: always outside the coach's working hours.
WEEKENDS = [
    datetime.combine(date(2026, 12, 5) + timedelta(weeks=n), time(10), LONDON).astimezone(UTC)
    for n in range(12)
]


class Books:
    """Fresh books on one SQLite file: the migrated, populated template is copied in."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "book.db"
        self.template = folder / "template.db"
        self.settings: Settings = build(config(f"sqlite:///{self.path}"), folder)
        book = Book.open(self.settings, origin="test")
        for party_id, (name, email, program) in CLIENTS.items():
            parties.add_client(book, name, email, program, party_id)
        book.engine.dispose()
        shutil.copyfile(self.path, self.template)

    def fresh(self) -> Book:
        for leftover in (self.path, *(Path(f"{self.path}{s}") for s in ("-wal", "-shm"))):
            leftover.unlink(missing_ok=True)
        shutil.copyfile(self.template, self.path)
        book = Book.open(self.settings, origin="test", migrate=False)
        book.clock = lambda: NOW
        return book


# --- reading the book ------------------------------------------------------------------


@dataclass(frozen=True)
class Booked:
    """A session as the book holds it (what the checks need, read without the ORM)."""

    id: int
    uid: str
    start: datetime
    end: datetime
    status: Status
    sequence: int
    partstats: dict[str, str]  # client id -> PARTSTAT

    @property
    def span(self) -> tuple[datetime, datetime]:
        return self.start, self.end

    @property
    def clients(self) -> list[str]:
        return sorted(self.partstats)


def sessions(book: Book) -> dict[int, Booked]:
    columns = (SessionRow.id, SessionRow.uid, SessionRow.start, SessionRow.end)
    clients = select(ParticipantRow.session_id, ParticipantRow.party_id, ParticipantRow.partstat)
    with book.transaction() as db:
        rows = db.execute(select(*columns, SessionRow.status, SessionRow.sequence)).all()
        parts = db.execute(clients.where(ParticipantRow.role == Role.CLIENT.value)).all()
    partstats: dict[int, dict[str, str]] = {}
    for session_id, party_id, partstat in parts:
        partstats.setdefault(session_id, {})[party_id] = partstat
    return {
        sid: Booked(sid, uid, start, end, Status(status), sequence, partstats.get(sid, {}))
        for sid, uid, start, end, status, sequence in rows
    }


def reverts(book: Book, session_id: int) -> int:
    """How many "your calendar edit was reverted" notices the coach has for a session."""
    with book.transaction() as db:
        query = select(ChangeRow.id).where(
            ChangeRow.topic == "session.reverted", ChangeRow.session_id == session_id
        )
        return len(list(db.scalars(query)))


# --- the calendar, and the coach's app ---------------------------------------------------


WRITES = frozenset({"create", "update", "delete"})


@dataclass
class Fault:
    """One failure of calbridge's next operation of a kind (on one resource, if ``href``).

    Aimed at a kind of operation and a resource rather than at the n-th operation of a
    pass, because the order of a pass's writes follows the random UIDs: a failure aimed
    this way hits the same step however the UIDs fall.
    """

    error: Exception
    operations: frozenset[str]  # "changes", "get_many", "create", "update", "delete"
    href: str | None = None  # only operations on this resource (writes)
    skip: int = 0  # matching operations to let through first
    after: bool = False  # raise after the operation did its work: the reply was lost


class FaultyStore(MemoryStore):
    """A ``MemoryStore`` whose ``fail_next``/``fail_after_next`` hooks are armed just before
    the operation a ``Fault`` aims at. The coach's app has its own connection: no faults."""

    def __init__(self) -> None:
        super().__init__()
        self.faults: list[Fault] = []
        self.fired = 0
        self._app = False

    def clear_faults(self) -> None:
        self.faults.clear()
        self.fail_next.clear()
        self.fail_after_next.clear()

    @contextmanager
    def app(self) -> Iterator[FaultyStore]:
        saved = self.fail_next, self.fail_after_next
        self.fail_next, self.fail_after_next, self._app = [], [], True
        try:
            yield self
        finally:
            self.fail_next, self.fail_after_next = saved
            self._app = False

    def _aim(self, operation: str, href: str | None = None) -> None:
        if self._app or not self.faults:
            return
        fault = self.faults[0]
        if operation not in fault.operations or fault.href not in (None, href):
            return
        if fault.skip:
            fault.skip -= 1
            return
        self.faults.pop(0)
        self.fired += 1
        (self.fail_after_next if fault.after else self.fail_next).append(fault.error)

    def changes(self, token: str | None) -> Listing:
        self._aim("changes")
        return super().changes(token)

    def get_many(self, hrefs: Sequence[str]) -> list[Item]:
        self._aim("get_many")
        return super().get_many(hrefs)

    def create(self, name: str, data: bytes) -> Item:
        self._aim("create", name)
        return super().create(name, data)

    def update(self, href: str, data: bytes, etag: str) -> str:
        self._aim("update", href)
        return super().update(href, data, etag)

    def delete(self, href: str, etag: str) -> None:
        self._aim("delete", href)
        super().delete(href, etag)


def calendar_of(data: bytes) -> Calendar:
    cal = Calendar.from_ical(data)
    assert isinstance(cal, Calendar)
    return cal


def vevent(data: bytes) -> Component:
    (event,) = calendar_of(data).walk("VEVENT")
    return event


def uid_in(data: bytes) -> str | None:
    """The UID a resource holds, None if it has none (a malformed event)."""
    events = calendar_of(data).walk("VEVENT")
    uids = {str(e["UID"]) for e in events if "UID" in e}
    assert len(uids) <= 1, f"one resource, several UIDs: {uids}"
    return uids.pop() if uids else None


@dataclass(frozen=True)
class Shown:
    """What the coach's calendar shows for one session."""

    start: datetime
    end: datetime
    partstats: dict[str, str]  # email -> PARTSTAT
    status: str


def shown(data: bytes) -> Shown:
    event = vevent(data)
    attendees = event.get("ATTENDEE", [])
    if not isinstance(attendees, list):
        attendees = [attendees]
    partstats = {
        str(a).lower().removeprefix("mailto:"): str(a.params.get("PARTSTAT", "NEEDS-ACTION"))
        for a in attendees
    }
    return Shown(
        event.decoded("DTSTART"),
        event.decoded("DTEND"),
        partstats,
        str(event.get("STATUS", "CONFIRMED")),
    )


class Reader:
    """Reads resources once per version: an href and etag never name two contents."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], tuple[str | None, Shown]] = {}

    def __call__(self, item: Item) -> tuple[str | None, Shown]:
        key = item.href, item.etag
        if key not in self._seen:
            self._seen[key] = uid_in(item.data), shown(item.data)
        return self._seen[key]


def app_edit(store: FaultyStore, href: str, change: Callable[[Component], None]) -> bytes:
    """The coach's app changes one event and saves it (If-Match its etag)."""
    item = store.items[href]
    cal = calendar_of(item.data)
    for event in cal.walk("VEVENT"):
        change(event)
    data: bytes = cal.to_ical()
    with store.app() as app:
        app.update(href, data, item.etag)
    return data


def move_to(start: datetime, end: datetime, zone: ZoneInfo | None) -> Callable[[Component], None]:
    """A drag in the app: new DTSTART/DTEND (in UTC or the coach's zone), SEQUENCE bumped."""

    def change(event: Component) -> None:
        for key, value in (("DTSTART", start), ("DTEND", end)):
            del event[key]
            event.add(key, value.astimezone(zone) if zone else value)
        event["SEQUENCE"] = int(event.get("SEQUENCE", 0)) + 1

    return change


def answer_as(email: str, partstat: str) -> Callable[[Component], None]:
    """An attendee's reply reaching the coach's copy: that ATTENDEE's PARTSTAT changes."""

    def change(event: Component) -> None:
        attendees = event.get("ATTENDEE", [])
        for attendee in attendees if isinstance(attendees, list) else [attendees]:
            if str(attendee).lower() == f"mailto:{email}":
                attendee.params["PARTSTAT"] = partstat

    return change


def add_note(text: str) -> Callable[[Component], None]:
    """The coach types a note into the event's description."""

    def change(event: Component) -> None:
        event["DESCRIPTION"] = text

    return change


def foreign_event(uid: str, start: datetime, summary: str) -> bytes:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Other App//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20261101T000000Z\r\n"
        f"DTSTART:{start:%Y%m%dT%H%M%SZ}\r\nDTEND:{start + HOUR:%Y%m%dT%H%M%SZ}\r\n"
        f"SUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


def malformed_event(start: datetime) -> bytes:
    """An event some other app wrote without a UID: calbridge must skip it, not fail."""
    return foreign_event("x", start, "No UID").replace(b"UID:x\r\n", b"")


class Pair:
    """One book and its coach's calendar, for the machine's findings as plain tests."""

    def __init__(self, books: Books) -> None:
        self.book = books.fresh()
        self.store = FaultyStore()

    def sync(self) -> Report:
        return CalendarSync(self.book, self.book.coach("maia"), self.store).run()

    def sync_and_crash_after_a_write(self) -> Report:
        return self.sync_failing(Fault(TransientError("killed"), WRITES, after=True))

    def sync_with_a_failed_write(self) -> Report:
        return self.sync_failing(Fault(TransientError("503 Service Unavailable"), WRITES))

    def sync_failing(self, fault: Fault) -> Report:
        self.store.faults.append(fault)
        report = self.sync()
        assert self.store.fired and report.error, "the pass should have written, and failed"
        self.store.clear_faults()
        return report

    def plan(self, start: datetime, client: str = "ana") -> Session:
        request = PlanRequest("maia", [client], start=start, duration=HOUR)
        (session,) = planning.plan(self.book, request)
        return session

    def session(self, planned: Session) -> Booked:
        assert planned.id is not None
        return sessions(self.book)[planned.id]

    def event(self, planned: Session) -> Item | None:
        return self.store.items.get(resource_name(planned.uid))

    def shown(self, planned: Session) -> Shown:
        item = self.event(planned)
        assert item is not None, f"no event for session {planned.id}"
        return shown(item.data)


def unconfirmed(book: Book, uid: str) -> bool:
    """calbridge sent the event's creation and never saw it confirmed (a crash between)."""
    with book.transaction() as db:
        row = db.scalar(select(CalendarItemRow).where(CalendarItemRow.uid == uid))
        return row is not None and row.etag == ""
