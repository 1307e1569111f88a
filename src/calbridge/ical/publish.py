"""A published, read-only ICS feed (RFC 7986): many events in one VCALENDAR.

Each event is rendered exactly as the coach's CalDAV copy (``ical.build``), then the
VEVENTs are gathered under one calendar with NAME, REFRESH-INTERVAL;VALUE=DURATION and
SOURCE;VALUE=URI (and the X-WR-CALNAME / X-PUBLISHED-TTL that Outlook and Apple read),
no METHOD, and one VTIMEZONE for every TZID. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from icalendar import Calendar, Component, vDuration, vText, vUri

from calbridge.ical.build import PRODID, add_timezones, render_all_day, render_event
from calbridge.ical.model import AllDay, EventSpec


def render_feed(
    events: Sequence[EventSpec],
    all_days: Sequence[AllDay],
    name: str,
    refresh: timedelta,
    source: str,
    stamp: datetime,
) -> bytes:
    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("NAME", vText(name))
    calendar.add("X-WR-CALNAME", vText(name))
    calendar.add("REFRESH-INTERVAL", vDuration(refresh), parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", vDuration(refresh))
    calendar.add("SOURCE", vUri(source), parameters={"VALUE": "URI"})
    years = [stamp.year]
    for spec in events:
        _take(calendar, render_event(spec, stamp))
        years += [spec.master.start.year, spec.master.end.year]
        years += [o.start.year for o in spec.overrides]
    for day in all_days:
        _take(calendar, render_all_day(day, stamp))
        years += [day.start.year, day.end.year]
    add_timezones(calendar, min(years) - 1, max(years))
    data: bytes = calendar.to_ical()
    return data


def _take(calendar: Calendar, data: bytes) -> None:
    one = Calendar.from_ical(data)
    for component in one.subcomponents:
        if isinstance(component, Component) and component.name == "VEVENT":
            calendar.add_component(component)
