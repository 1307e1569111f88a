"""Busy time from a resource that may be ambiguous: for busy time, doubt means busy.

Real feeds hold two masters for one UID, or one RECURRENCE-ID twice. Sessions refuse
that (``parse_instances``); busy time reads every way the resource can be read, each
read the way recurring-ical-events reads a resource, and keeps all they claim. Pure.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from icalendar import Calendar, Component

from calbridge.ical.bounds import Bounds, PastCap
from calbridge.ical.model import Instance
from calbridge.ical.parse import Window, ambiguity, expand, recurrence_key, settled

#: At most this many readings of an ambiguous resource (the rest of a group repeated
#: more often is read as its last one).
MAX_READINGS = 8


def busy_instances(
    data: bytes, window: Window, zone: ZoneInfo, bounds: Bounds
) -> tuple[list[Instance], str | None]:
    """The occurrences of ``data`` in ``window`` and, if it is ambiguous, why.

    Raises ``MalformedEvent`` (``PastCap`` past a cap) when it cannot be read at all.
    """
    calendar, events = settled(data, zone, bounds)
    doubt = ambiguity(events)
    if doubt is None:
        return expand(calendar, events, window, zone, bounds), None
    found: dict[tuple[object, ...], Instance] = {}
    for reading in _readings(events):
        for instance in expand(_with(calendar, reading), reading, window, zone, bounds):
            found.setdefault((instance.start, instance.end, instance.recurrence_id), instance)
        if len(found) > bounds.occurrences:
            raise PastCap(
                f"event {events[0]['UID']} has more than {bounds.occurrences} occurrences"
                " in the window read ([sync.bounds] occurrences)"
            )
    return sorted(found.values(), key=lambda i: (i.start, i.uid)), doubt


def _readings(events: list[Component]) -> list[list[Component]]:
    """Each way to take one VEVENT per RECURRENCE-ID (and one master)."""
    groups: dict[date | None, list[Component]] = {}
    for event in events:
        groups.setdefault(recurrence_key(event), []).append(event)
    depth = min(MAX_READINGS, max(len(group) for group in groups.values()))
    return [[group[min(k, len(group) - 1)] for group in groups.values()] for k in range(depth)]


def _with(calendar: Calendar, events: list[Component]) -> Calendar:
    """``calendar`` (its properties and VTIMEZONEs) holding only ``events``."""
    copy = Calendar()
    copy.update(calendar)
    copy.subcomponents = [c for c in calendar.subcomponents if c.name != "VEVENT"] + events
    return copy
