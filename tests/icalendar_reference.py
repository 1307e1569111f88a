"""The coach's copy built from icalendar's own objects and serialized by icalendar, as
``ical.build`` did before it wrote content lines itself (``ical.lines``). It is the
oracle for tests/ical/test_lines.py: calbridge's bytes and fingerprints must be these."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Component, Event, vCalAddress, vRecur, vText

from calbridge.ical import build as b
from calbridge.ical.model import AllDay, Attendee, EventSpec, Occurrence, Person


def render_event(
    spec: EventSpec,
    stamp: datetime | None = None,
    *,
    method: str | None = None,
    recurrence_id: datetime | None = None,
) -> bytes:
    b._check_spec(spec)
    zone = b._zone(spec.tzid)
    now = b._stamp(stamp)
    mail = method is not None
    master = _timed_event(spec, spec.master, zone, now, mail)
    if recurrence_id is not None:
        master.add("RECURRENCE-ID", b._wall_time(recurrence_id, zone))
    if spec.rrule is not None:
        master.add("RRULE", vRecur(spec.rrule.ical_parts()))
    if spec.exdates:
        master.add("EXDATE", [b._wall_time(exdate, zone) for exdate in spec.exdates])
    overrides = [_timed_event(spec, occ, zone, now, mail) for occ in spec.overrides]
    first, last = b._years_named(spec, zone)
    calendar = _calendar([master, *overrides], first, last)
    if method is not None:
        calendar.add("METHOD", method)
    return bytes(calendar.to_ical())


def render_all_day(event: AllDay, stamp: datetime | None = None) -> bytes:
    vevent = Event()
    vevent.add("UID", event.uid)
    vevent.add("DTSTAMP", b._stamp(stamp))
    vevent.add("DTSTART", event.start)
    vevent.add("DTEND", event.end)
    vevent.add("SUMMARY", vText(b._clean(event.summary)))
    if event.description:
        vevent.add("DESCRIPTION", vText(b._clean(event.description)))
    vevent.add("TRANSP", event.transp)
    _add_labels(vevent, event.color, event.categories, event.x_props)
    return bytes(_calendar([vevent], event.start.year, event.end.year).to_ical())


def _timed_event(
    spec: EventSpec, occurrence: Occurrence, zone: ZoneInfo, now: datetime, mail: bool
) -> Event:
    vevent = Event()
    vevent.add("UID", spec.uid)
    vevent.add("DTSTAMP", now)
    vevent.add("SEQUENCE", spec.sequence)
    if occurrence.recurrence_id is not None:
        vevent.add("RECURRENCE-ID", b._wall_time(occurrence.recurrence_id, zone))
    vevent.add("DTSTART", b._wall_time(occurrence.start, zone))
    vevent.add("DTEND", b._wall_time(occurrence.end, zone))
    vevent.add("SUMMARY", vText(b._clean(occurrence.summary)))
    if occurrence.description:
        vevent.add("DESCRIPTION", vText(b._clean(occurrence.description)))
    vevent.add("STATUS", occurrence.status)
    vevent.add("TRANSP", spec.transp)
    vevent.add("ORGANIZER", _address(spec.organizer))
    for attendee in occurrence.attendees:
        vevent.add("ATTENDEE", _attendee(attendee, mail))
    _add_labels(vevent, spec.color, spec.categories, {} if mail else spec.x_props)
    if spec.url is not None:
        vevent.add("URL", spec.url)
        vevent.add("CONFERENCE", spec.url, parameters={"VALUE": "URI", "FEATURE": "VIDEO"})
    return vevent


def _add_labels(
    vevent: Event, color: str | None, categories: tuple[str, ...], x_props: dict[str, str]
) -> None:
    if color is not None:
        vevent.add("COLOR", vText(b._clean(color)))
    if categories:
        vevent.add("CATEGORIES", [b._clean(category) for category in categories])
    for name, value in x_props.items():
        vevent.add(name.upper(), vText(b._clean(value)))


def _attendee(attendee: Attendee, mail: bool) -> vCalAddress:
    address = _address(attendee.person)
    address.params["ROLE"] = attendee.role
    address.params["PARTSTAT"] = attendee.partstat
    if attendee.role == "REQ-PARTICIPANT" and attendee.partstat == "NEEDS-ACTION":
        address.params["RSVP"] = "TRUE"
    if not mail:
        address.params["SCHEDULE-AGENT"] = "CLIENT"
    return address


def _address(person: Person) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    if person.name:
        address.params["CN"] = b.common_name(person.name)
    return address


def _calendar(components: list[Component], first_year: int, last_year: int) -> Calendar:
    calendar = Calendar()
    calendar.add("PRODID", b.PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    for component in components:
        calendar.add_component(component)
    b.add_timezones(calendar, first_year, last_year)
    return calendar
