"""What the coach adds is carried into calbridge's rewrite in a form libical accepts."""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Alarm, Calendar

from calbridge.ical.build import render_event
from calbridge.ical.merge import keep_foreign
from calbridge.ical.model import EventSpec, Occurrence, Person
from validate_helpers import assert_valid

START = datetime(2027, 3, 2, 10, tzinfo=UTC)


def spec() -> EventSpec:
    master = Occurrence(start=START, end=START.replace(hour=11), summary="Session")
    return EventSpec(
        uid="u1@calbridge",
        sequence=0,
        tzid="Europe/London",
        organizer=Person("M", "m@x.org"),
        master=master,
    )


def test_an_absolute_alarm_written_without_its_value_type_is_stored_valid() -> None:
    rendered = render_event(spec())
    copy = Calendar.from_ical(rendered)
    alarm = Alarm()
    alarm.add("ACTION", "DISPLAY")
    alarm.add("DESCRIPTION", "Soon")
    alarm.add("TRIGGER", START.replace(minute=45, hour=9))  # icalendar: no VALUE=DATE-TIME
    copy.walk("VEVENT")[0].add_component(alarm)
    assert b"TRIGGER:20270302T094500Z" in copy.to_ical()
    merged = keep_foreign(rendered, copy.to_ical())
    assert merged is not None and b"TRIGGER;VALUE=DATE-TIME:20270302T094500Z" in merged
    assert_valid(merged, caldav=True)
