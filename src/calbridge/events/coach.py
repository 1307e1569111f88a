"""One UID's resource as the coach's calendar copy and every mail carry it: the event
mapping (``spec``) with the practice's colours, the coach as organizer and their video
link. Pure; kept apart from ``spec`` so that what needs no configuration (the import
decisions, ``sync.decide``) does not load it."""

from __future__ import annotations

from collections.abc import Mapping

from calbridge.config.schema import Coach, Settings
from calbridge.core.model import Session
from calbridge.core.recurrence import Recurrence
from calbridge.events.spec import session_spec
from calbridge.ical.model import EventSpec, Person


def spec_of(
    settings: Settings,
    coach: Coach,
    rows: list[Session],
    people: Mapping[str, Person],
    rrule: Recurrence | None,
) -> EventSpec | None:
    """One UID's resource with the practice's colours, the coach as organizer and their
    video link: the calendar copy's and the mail's (``mail.notify``) alike."""
    organizer = Person(coach.name, coach.email)
    colors = settings.event_colors()
    return session_spec(rows, organizer, people, colors, rrule, coach.video_url)
