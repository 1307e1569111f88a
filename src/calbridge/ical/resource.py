"""One fetched calendar resource, read once: what the sync planner and the importer need.

A pass used to parse the same bytes for their UID, for their fingerprint, for their
shape, for their occurrences and for what the coach added to them. ``read_resource``
parses them once (after the size caps of ``Bounds``); the UID and the fingerprint are
taken at once, before anything gives the dates their zones (``parse.instances_of`` does
that in place). Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from icalendar import Calendar

from calbridge.ical.bounds import DEFAULT, Bounds, check_resource
from calbridge.ical.build import fingerprint, fingerprint_of
from calbridge.ical.model import MalformedEvent
from calbridge.ical.parse import read_components, uid_in_calendar


@dataclass
class Resource:
    """``data`` as read: its fingerprint, its VCALENDAR (None when it cannot be read),
    its one UID (None when it has not exactly one) and why it cannot be taken."""

    data: bytes
    fingerprint: str
    calendar: Calendar | None = None
    uid: str | None = None
    problem: str | None = None

    def the_uid(self) -> str:
        """The UID, or ``MalformedEvent`` saying why there is not exactly one."""
        if self.uid is None:
            raise MalformedEvent(self.problem or "no UID in the resource")
        return self.uid

    def the_calendar(self) -> Calendar:
        """The VCALENDAR, or ``MalformedEvent`` saying why it cannot be read."""
        if self.calendar is None:
            raise MalformedEvent(self.problem or "not iCalendar data")
        return self.calendar


def read_resource(data: bytes, bounds: Bounds = DEFAULT) -> Resource:
    """``data`` parsed once (never past the caps of ``bounds``)."""
    try:
        check_resource(data, bounds)
        components = read_components(data)
    except MalformedEvent as exc:  # past a cap, or not iCalendar: hashed as bytes
        return Resource(data, fingerprint(data, bounds), problem=str(exc))
    found = fingerprint_of(components)
    names = [component.name for component in components]
    if names != ["VCALENDAR"] or not isinstance(components[0], Calendar):
        problem = f"expected one VCALENDAR, found {names or 'nothing'}"
        return Resource(data, found, problem=problem)
    calendar = components[0]
    try:
        uid = uid_in_calendar(calendar)
    except MalformedEvent as exc:
        return Resource(data, found, calendar, problem=str(exc))
    return Resource(data, found, calendar, uid)
