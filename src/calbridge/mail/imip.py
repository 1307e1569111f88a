"""iTIP objects for mail (RFC 5546/6047), made by the very code the CalDAV copy is.

``ical.build.render_event`` writes the coach's CalDAV copy; with ``method`` it writes
the same object for mail: the same UID, SEQUENCE, times, VTIMEZONEs and attendees, plus
a METHOD property, minus SCHEDULE-AGENT (for the coach's server only) and the internal
X-CALBRIDGE-* markers, as IMIP.md asks. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar

from calbridge.ical.build import render_event
from calbridge.ical.model import EventSpec


def request(spec: EventSpec, stamp: datetime) -> bytes:
    """METHOD:REQUEST carrying the whole object (master, overrides, EXDATEs)."""
    return render_event(spec, stamp, method="REQUEST")


def cancel(spec: EventSpec, stamp: datetime, recurrence_id: datetime | None = None) -> bytes:
    """METHOD:CANCEL for a whole session or series, or one occurrence (RECURRENCE-ID).

    ``spec`` holds the occurrence being cancelled as its master, with the attendees who
    lose it; its SEQUENCE must already be the raised one.
    """
    master = replace(spec.master, status="CANCELLED", recurrence_id=None)
    single = replace(spec, master=master, rrule=None, exdates=(), overrides=())
    data = render_event(single, stamp, method="CANCEL")
    if recurrence_id is None:
        return data
    calendar = Calendar.from_ical(data)
    local = recurrence_id.astimezone(ZoneInfo(spec.tzid)).replace(microsecond=0)
    for vevent in calendar.walk("VEVENT"):
        vevent.add("RECURRENCE-ID", local)
    out: bytes = calendar.to_ical()
    return out
