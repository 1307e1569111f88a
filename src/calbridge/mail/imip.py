"""iTIP objects for mail (RFC 5546/6047), made from the very resource the CalDAV copy is.

The coach's CalDAV copy (``ical.build.render_event``) is the source: the same UID,
SEQUENCE, times, VTIMEZONEs and attendees. For mail it differs in exactly the ways
IMIP.md asks: a METHOD property, no SCHEDULE-AGENT parameter (that one is for the
coach's server only), no internal X-CALBRIDGE-* markers. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Component

from calbridge.ical.build import render_event
from calbridge.ical.model import EventSpec, Occurrence

METHODS = frozenset({"REQUEST", "CANCEL", "PUBLISH"})
_SERVER_ONLY_PARAMS = ("SCHEDULE-AGENT", "SCHEDULE-STATUS", "SCHEDULE-FORCE-SEND")
_INTERNAL_PREFIX = "X-CALBRIDGE-"


def request(spec: EventSpec, stamp: datetime) -> bytes:
    """METHOD:REQUEST carrying the whole object (master, overrides, EXDATEs)."""
    return _for_mail(render_event(spec, stamp), "REQUEST")


def cancel(spec: EventSpec, stamp: datetime, recurrence_id: datetime | None = None) -> bytes:
    """METHOD:CANCEL for a whole session or series, or one occurrence (RECURRENCE-ID).

    ``spec`` holds the occurrence being cancelled as its master, with the attendees who
    lose it; the SEQUENCE must already be the raised one.
    """
    master = replace(spec.master, status="CANCELLED", recurrence_id=None)
    single = replace(spec, master=master, rrule=None, exdates=(), overrides=())
    calendar = Calendar.from_ical(render_event(single, stamp))
    if recurrence_id is not None:
        zone = ZoneInfo(spec.tzid)
        local = recurrence_id.astimezone(zone).replace(microsecond=0)
        for vevent in calendar.walk("VEVENT"):
            vevent.add("RECURRENCE-ID", local)
    return _for_mail(calendar, "CANCEL")


def occurrence_of(spec: EventSpec, recurrence_id: datetime) -> Occurrence:
    """The occurrence of a series spec at ``recurrence_id`` (its override if changed)."""
    for override in spec.overrides:
        if override.recurrence_id == recurrence_id:
            return override
    length = spec.master.end - spec.master.start
    return replace(spec.master, start=recurrence_id, end=recurrence_id + length)


def _for_mail(data: bytes | Calendar, method: str) -> bytes:
    if method not in METHODS:
        raise ValueError(f"unknown iTIP method {method!r}")
    calendar = data if isinstance(data, Calendar) else Calendar.from_ical(data)
    calendar.add("METHOD", method)
    for component in calendar.walk("VEVENT"):
        _strip(component)
    out: bytes = calendar.to_ical()
    return out


def _strip(vevent: Component) -> None:
    for name in [key for key in vevent if key.upper().startswith(_INTERNAL_PREFIX)]:
        del vevent[name]
    values = vevent.get("ATTENDEE", [])
    for value in values if isinstance(values, list) else [values]:
        for param in _SERVER_ONLY_PARAMS:
            value.params.pop(param, None)
