"""iTIP objects for mail (RFC 5546/6047), made by the very code the CalDAV copy is.

``ical.build.render_event`` writes the coach's CalDAV copy; with ``method`` it writes
the same object for mail: the same UID, SEQUENCE, times, VTIMEZONEs and attendees, plus
a METHOD property, minus SCHEDULE-AGENT (for the coach's server only) and the internal
X-CALBRIDGE-* markers, as IMIP.md asks. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from icalendar import Calendar, Event

from calbridge.ical.build import PRODID, render_event
from calbridge.ical.model import EventSpec, Person


def request(spec: EventSpec, stamp: datetime, recurrence_id: datetime | None = None) -> bytes:
    """METHOD:REQUEST carrying the whole object (master, overrides, EXDATEs), or with
    ``recurrence_id`` one occurrence of a series alone (``spec`` holds it as its master,
    without RRULE: RFC 5546 §3.2.2 invites an attendee to that instance only)."""
    return render_event(spec, stamp, method="REQUEST", recurrence_id=recurrence_id)


def cancel(spec: EventSpec, stamp: datetime, recurrence_id: datetime | None = None) -> bytes:
    """METHOD:CANCEL for a whole session or series, or one occurrence (RECURRENCE-ID).

    ``spec`` holds the occurrence being cancelled as its master, with the attendees who
    lose it; its SEQUENCE must already be the raised one.
    """
    master = replace(spec.master, status="CANCELLED", recurrence_id=None)
    single = replace(spec, master=master, rrule=None, exdates=(), overrides=())
    return render_event(single, stamp, method="CANCEL", recurrence_id=recurrence_id)


def decline_counter(
    uid: str, organizer: Person, stamp: datetime, recurrence_id: datetime | None, comment: str
) -> bytes:
    """METHOD:DECLINECOUNTER for a refused COUNTER (RFC 5546 §3.2.8): the UID, the
    ORGANIZER, RECURRENCE-ID for one occurrence, and why in COMMENT. libical (the strict
    validator) allows no ATTENDEE, SEQUENCE or times in it: the mail's To names the
    attendee, and the object is matched by UID."""
    calendar = Calendar()
    calendar.add("VERSION", "2.0")
    calendar.add("PRODID", PRODID)
    calendar.add("METHOD", "DECLINECOUNTER")
    event = Event()
    event.add("UID", uid)
    event.add("DTSTAMP", stamp.astimezone(UTC).replace(microsecond=0))
    event.add("ORGANIZER", f"mailto:{organizer.email}", parameters={"CN": organizer.name})
    if recurrence_id is not None:
        event.add("RECURRENCE-ID", recurrence_id.astimezone(UTC).replace(microsecond=0))
    event.add("COMMENT", comment)
    calendar.add_component(event)
    out: bytes = calendar.to_ical()
    return out
