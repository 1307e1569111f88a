"""A series in the calendar copy and in mail: cancelled occurrences are EXDATEs, the
master is never CANCELLED; STATUS follows one rule (events.spec's docstring)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from icalendar import Calendar

from calbridge.core.model import Participant, Role, Session, Status
from calbridge.core.recurrence import Recurrence
from calbridge.events.spec import event_status, session_spec
from calbridge.ical.build import render_event
from calbridge.ical.model import EventSpec, Person
from calbridge.mail import imip
from validate_helpers import assert_valid

START = datetime(2026, 12, 7, 10, tzinfo=UTC)  # a Monday
RULE = Recurrence.parse("FREQ=WEEKLY;BYDAY=MO;COUNT=3")
PEOPLE = {"ana": Person("Ana Lopez", "ana@example.org")}
COACH = Person("Maia Jones", "maia@practice.example")


def _series(*statuses: Status) -> list[Session]:
    return [
        Session(
            uid="calbridge-series-1",
            coach_id="maia",
            start=START + timedelta(weeks=i),
            end=START + timedelta(weeks=i, hours=1),
            tzid="Europe/London",
            participants=[Participant("ana", Role.CLIENT)],
            status=status,
            sequence=1 if status is Status.CANCELLED else 0,
            series_id=1,
            recurrence_id=START + timedelta(weeks=i),
            id=i + 1,
        )
        for i, status in enumerate(statuses)
    ]


def _spec(rows: list[Session]) -> EventSpec:
    spec = session_spec(rows, COACH, PEOPLE, {}, RULE)
    assert spec is not None
    return spec


def _events(data: bytes) -> tuple[Any, list[Any]]:
    events = list(Calendar.from_ical(data).walk("VEVENT"))
    master = next(e for e in events if "RECURRENCE-ID" not in e)
    return master, [e for e in events if "RECURRENCE-ID" in e]


def _exdates(master: Any) -> list[datetime]:
    found = master.get("EXDATE", [])
    return [d.dt for prop in (found if isinstance(found, list) else [found]) for d in prop.dts]


OPEN, GONE = Status.REQUESTED, Status.CANCELLED


@pytest.mark.parametrize(
    "statuses",
    [(GONE, OPEN, OPEN), (OPEN, GONE, OPEN), (OPEN, OPEN, GONE), (GONE, GONE, OPEN)],
    ids=["first", "middle", "last", "first-two"],
)
def test_a_cancelled_occurrence_is_an_exdate_never_a_cancelled_master(
    statuses: tuple[Status, ...],
) -> None:
    rows = _series(*statuses)
    spec = _spec(rows)
    gone = [r.recurrence_id for r in rows if r.status is GONE]
    for data, caldav in ((render_event(spec, START), True), (imip.request(spec, START), False)):
        master, overrides = _events(data)
        assert str(master["STATUS"]) == "TENTATIVE"  # the open ones await the client
        assert master.decoded("DTSTART") == START  # the series keeps its first date
        assert _exdates(master) == gone
        assert overrides == []
        assert b"STATUS:CANCELLED" not in data
        assert_valid(data, caldav=caldav)


def test_the_master_follows_the_first_open_occurrence() -> None:
    rows = _series(GONE, Status.SCHEDULED, OPEN)
    master, overrides = _events(render_event(_spec(rows), START))
    assert str(master["STATUS"]) == "CONFIRMED"
    assert [(o.decoded("RECURRENCE-ID"), str(o["STATUS"])) for o in overrides] == [
        (rows[2].start, "TENTATIVE")
    ]
    assert_valid(render_event(_spec(rows), START), caldav=True)


def test_a_series_with_every_occurrence_cancelled_is_no_resource() -> None:
    assert session_spec(_series(GONE, GONE, GONE), COACH, PEOPLE, {}, RULE) is None


def test_the_cancel_of_one_occurrence_has_its_recurrence_id() -> None:
    rows = _series(GONE, OPEN, OPEN)
    single = session_spec([rows[0]], COACH, PEOPLE, {})
    assert single is None  # a cancelled row alone: no resource; mail builds its own
    spec = session_spec([_as_open(rows[0])], COACH, PEOPLE, {})
    assert spec is not None
    data = imip.cancel(spec, START, rows[0].recurrence_id)
    (event,) = Calendar.from_ical(data).walk("VEVENT")
    assert event.decoded("RECURRENCE-ID") == START and str(event["STATUS"]) == "CANCELLED"
    assert_valid(data)


def _as_open(row: Session) -> Session:
    from dataclasses import replace

    return replace(row, status=Status.SCHEDULED, recurrence_id=None, series_id=None)


@pytest.mark.parametrize(
    ("status", "sequence", "shown"),
    [
        (Status.REQUESTED, 0, "TENTATIVE"),  # a new invitation
        (Status.REQUESTED, 2, "TENTATIVE"),  # a move to be accepted
        (Status.SCHEDULED, 0, "CONFIRMED"),
        (Status.SCHEDULED, 3, "CONFIRMED"),
        (Status.COMPLETED, 1, "CONFIRMED"),
    ],
)
def test_one_status_rule_for_copy_and_mail(status: Status, sequence: int, shown: str) -> None:
    (row,) = _series(status)
    row.series_id = row.recurrence_id = None
    row.sequence = sequence
    assert event_status(row) == shown
    spec = session_spec([row], COACH, PEOPLE, {})
    assert spec is not None
    for data, caldav in ((render_event(spec, START), True), (imip.request(spec, START), False)):
        (event,) = Calendar.from_ical(data).walk("VEVENT")
        assert str(event["STATUS"]) == shown
        assert_valid(data, caldav=caldav)
