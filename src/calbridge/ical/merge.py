"""What a coach or their app adds to calbridge's events survives calbridge's rewrites.

calbridge owns the properties it writes (``OWNED``, and every X-CALBRIDGE-* marker).
Everything else a calendar copy carries belongs to the coach: LOCATION, GEO, ATTACH,
CLASS, RESOURCES, alarms (VALARM) and other subcomponents, vendor X- properties (Apple,
Google, Outlook, Thunderbird), and categories of the coach's own. ``keep_foreign``
carries those into calbridge's next version of the event, VEVENT by VEVENT (matched by
RECURRENCE-ID). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from icalendar import Calendar, Component

from calbridge.ical.bounds import DEFAULT, Bounds, check_resource
from calbridge.ical.model import MalformedEvent
from calbridge.ical.parse import read_calendar

#: Written by calbridge on every rewrite: a calendar copy's values of these are replaced.
#: LAST-MODIFIED and CREATED are the server's or app's bookkeeping of the old version.
OWNED = frozenset(
    {
        "UID",
        "DTSTAMP",
        "SEQUENCE",
        "RECURRENCE-ID",
        "DTSTART",
        "DTEND",
        "DURATION",
        "SUMMARY",
        "DESCRIPTION",
        "STATUS",
        "TRANSP",
        "ORGANIZER",
        "ATTENDEE",
        "COLOR",
        "URL",
        "CONFERENCE",
        "RRULE",
        "RDATE",
        "EXDATE",
        "CATEGORIES",
        "LAST-MODIFIED",
        "CREATED",
    }
)
OWNED_PREFIX = "X-CALBRIDGE-"

Key = datetime | date | None


@dataclass
class Added:
    """What the coach's copy of one VEVENT adds to calbridge's."""

    properties: list[tuple[str, Any]] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    components: list[Component] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.properties or self.categories or self.components)


def keep_foreign(
    rendered: bytes, copy: bytes | None, labels: Iterable[str] = (), bounds: Bounds = DEFAULT
) -> bytes | None:
    """``rendered`` with what ``copy`` (the calendar's version) adds to it, or None when it
    adds nothing (``rendered`` stands as it is). ``labels`` are categories that are never
    the coach's own (calbridge's labels, outcome tags): they are not carried over. A copy
    past the size caps of ``bounds`` is not read: it has nothing to keep."""
    if not copy:
        return None
    try:
        check_resource(copy, bounds)
        calendar = read_calendar(copy)
    except MalformedEvent:
        return None  # an unreadable copy has nothing to keep; the book's version goes out
    return keep_foreign_of(rendered, calendar, labels)


def keep_foreign_of(
    rendered: bytes, copy: Calendar | None, labels: Iterable[str] = ()
) -> bytes | None:
    """``keep_foreign`` with the copy already read (None: unreadable, nothing to keep)."""
    if copy is None:
        return None
    added = foreign_parts(copy, labels)
    if not any(added.values()):
        return None
    calendar = read_calendar(rendered)
    for event in calendar.walk("VEVENT"):
        extra = added.get(_key(event))
        if extra:
            _graft(event, extra)
    data: bytes = calendar.to_ical()
    return data


def foreign_parts(calendar: Calendar, labels: Iterable[str] = ()) -> dict[Key, Added]:
    """Per RECURRENCE-ID (None: the master), what each VEVENT of ``calendar`` adds."""
    skip = {_normal(label) for label in labels}
    found: dict[Key, Added] = {}
    for event in calendar.walk("VEVENT"):
        added = Added()
        for name, value in event.property_items(recursive=False, sorted=False):
            if name in {"BEGIN", "END"} or name in OWNED or name.startswith(OWNED_PREFIX):
                continue
            added.properties.append((name, value))
        added.categories = [c for c in _categories(event) if _normal(c) not in skip]
        added.components = list(event.subcomponents)
        found[_key(event)] = added
    return found


def _graft(event: Component, extra: Added) -> None:
    for name, value in extra.properties:
        event.add(name, value, encode=False)
    mine = {_normal(c) for c in _categories(event)}
    new = [c for c in extra.categories if _normal(c) not in mine]
    if new:
        event.add("CATEGORIES", new)
    for component in extra.components:
        event.add_component(_valid_triggers(component))


def _valid_triggers(component: Component) -> Component:
    """An absolute alarm TRIGGER with its VALUE=DATE-TIME (RFC 5545 3.8.6.3), which some
    writers (icalendar among them) leave out and libical then refuses: calbridge stores
    the coach's alarm as it means it, in a form strict servers take."""
    for part in component.walk():
        trigger = part.get("TRIGGER")
        if isinstance(getattr(trigger, "dt", None), datetime):
            trigger.params["VALUE"] = "DATE-TIME"
    return component


def _key(event: Component) -> Key:
    value = getattr(event.get("RECURRENCE-ID"), "dt", None)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    return value if isinstance(value, date) else None


def _categories(event: Component) -> list[str]:
    value = event.get("CATEGORIES")
    props = value if isinstance(value, list) else [value] if value is not None else []
    return [str(c) for prop in props for c in getattr(prop, "cats", [prop])]


def _normal(label: str) -> str:
    return " ".join(label.replace("_", " ").replace("-", " ").lower().split())
