"""The values the iCalendar mapping speaks: what one calendar resource says, book-side.

``EventSpec`` is what calbridge wants a resource to say (built from the book);
``Instance`` is what a resource says about one occurrence (parsed from a server).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol


class Rule(Protocol):
    """A recurrence rule as a value (``core.recurrence.Recurrence``; ical imports nothing
    of the core's, so it names only what it renders): RRULE part names to their values,
    as icalendar's ``vRecur`` takes them."""

    def ical_parts(self) -> dict[str, list[str | int | datetime]]: ...


@dataclass(frozen=True)
class Person:
    name: str
    email: str


@dataclass(frozen=True)
class Attendee:
    person: Person
    role: str = "REQ-PARTICIPANT"  # REQ-PARTICIPANT | OPT-PARTICIPANT | NON-PARTICIPANT
    partstat: str = "NEEDS-ACTION"  # NEEDS-ACTION | ACCEPTED | DECLINED | TENTATIVE


@dataclass(frozen=True)
class Occurrence:
    """One timed VEVENT (a single session, a series master, or an override)."""

    start: datetime  # aware
    end: datetime  # aware
    status: str = "CONFIRMED"  # CONFIRMED | TENTATIVE | CANCELLED
    attendees: tuple[Attendee, ...] = ()
    summary: str = ""
    description: str = ""
    recurrence_id: datetime | None = None  # set on overrides only


@dataclass(frozen=True)
class EventSpec:
    """Everything calbridge writes into one resource (``UID.ics``)."""

    uid: str
    sequence: int
    tzid: str
    organizer: Person
    master: Occurrence
    transp: str = "OPAQUE"
    color: str | None = None  # CSS3 colour name (RFC 7986 COLOR)
    categories: tuple[str, ...] = ()
    url: str | None = None  # video link: URL and CONFERENCE
    rrule: Rule | None = None  # the RRULE, series only
    exdates: tuple[datetime, ...] = ()  # cancelled occurrences (their recurrence ids)
    overrides: tuple[Occurrence, ...] = ()  # changed occurrences, each with recurrence_id
    x_props: dict[str, str] = field(default_factory=dict)  # X-CALBRIDGE-* markers


@dataclass(frozen=True)
class AllDay:
    """An all-day event (closures): ``end`` is exclusive, as DTEND;VALUE=DATE is."""

    uid: str
    start: date
    end: date
    summary: str
    description: str = ""
    transp: str = "OPAQUE"
    categories: tuple[str, ...] = ()
    x_props: dict[str, str] = field(default_factory=dict)
    color: str | None = None  # a CSS3 colour name (RFC 7986 COLOR)


@dataclass(frozen=True)
class Instance:
    """One occurrence as a server's resource states it, after expansion of any RRULE."""

    uid: str
    recurrence_id: datetime | None  # None for a non-recurring event
    start: datetime  # aware (floating times read in the caller's zone)
    end: datetime
    all_day: bool = False
    status: str = "CONFIRMED"
    transp: str = "OPAQUE"
    summary: str = ""
    categories: tuple[str, ...] = ()
    partstats: dict[str, str] = field(default_factory=dict)  # attendee email -> PARTSTAT
    description: str = ""
    x_props: dict[str, str] = field(default_factory=dict)


class MalformedEvent(ValueError):
    """A resource that cannot be read (missing DTSTART, bad RRULE, unknown TZID, ...)."""
