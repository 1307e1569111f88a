"""Calendar resources to Instances: what a server's VEVENTs say, occurrence by occurrence.

Lenient where real calendars are sloppy (LF line ends, lower-case names, no VERSION,
Windows or vendor-prefixed TZIDs, Outlook's own VTIMEZONE names); strict where reading
on would mean guessing (no DTSTART, a broken RRULE, an unknown TZID, a line that is not a
content line, DTEND before DTSTART): those raise ``MalformedEvent`` with the reason.

Every TZID is resolved here, per file, not by icalendar's process-wide cache: a known
IANA or Windows name (or a vendor prefix before one, ``/mozilla.org/.../Europe/Berlin``)
means that zone; any other name means the VTIMEZONE of that name in the same file.
Pure: no I/O.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta, tzinfo
from functools import cache, lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from icalendar import Calendar, Component, Timezone, vText
from icalendar.error import GloballyUniqueTZIDGuessed
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from calbridge.ical.bounds import DEFAULT, Bounds, PastCap, check_resource, check_rules, counted
from calbridge.ical.feed import split_feed, unescape
from calbridge.ical.model import Instance, MalformedEvent

Window = tuple[datetime, datetime]
ZoneResolver = Callable[[str], tzinfo]

X_PREFIX = "X-CALBRIDGE-"
_DATE_PROPERTIES = ("DTSTART", "DTEND", "RECURRENCE-ID", "RDATE", "EXDATE")
_CRITICAL = frozenset({None, "UID", "DURATION", "RRULE", *_DATE_PROPERTIES})
_ONCE = ("UID", "DTSTART", "DTEND", "DURATION", "RECURRENCE-ID", "SEQUENCE", "STATUS", "TRANSP")


def parse_instances(
    data: bytes, window: Window, zone: ZoneInfo, bounds: Bounds = DEFAULT
) -> list[Instance]:
    """Every occurrence of the one UID in ``data`` that overlaps ``window``, by start.

    Past a cap of ``bounds`` (checked before parsing, before expanding, and while
    expanding) it raises ``PastCap``.
    """
    check_resource(data, bounds)
    return instances_of(read_calendar(data), window, zone, bounds)


def instances_of(
    calendar: Calendar, window: Window, zone: ZoneInfo, bounds: Bounds = DEFAULT
) -> list[Instance]:
    """``parse_instances`` of a calendar already read (``ical.resource``). Its dates are
    given their zones in place, which a second call finds done."""
    events = _settled_events(calendar, zone)
    doubt = ambiguity(events)
    if doubt is not None:
        raise MalformedEvent(doubt)
    return expand(calendar, events, window, zone, bounds)


def settled(data: bytes, zone: ZoneInfo, bounds: Bounds) -> tuple[Calendar, list[Component]]:
    """The calendar of one resource (size-checked first) and its VEVENTs, zones given."""
    check_resource(data, bounds)
    calendar = read_calendar(data)
    return calendar, _settled_events(calendar, zone)


def uid_of(data: bytes, bounds: Bounds = DEFAULT) -> str:
    """The UID of a CalDAV resource, which RFC 4791 §4.1 allows only one of."""
    check_resource(data, bounds)
    return uid_in_calendar(read_calendar(data))


def uid_in_calendar(calendar: Calendar) -> str:
    """``uid_of`` a calendar already read."""
    components = [c for c in calendar.subcomponents if c.name != "VTIMEZONE"]
    uids = sorted({str(uid) for c in components for uid in _props(c, "UID")})
    if len(uids) != 1:
        raise MalformedEvent(_uid_problem(uids))
    return uids[0]


def parse_feed(
    data: bytes, window: Window, zone: ZoneInfo, bounds: Bounds = DEFAULT
) -> tuple[list[Instance], list[str]]:
    """All well-formed events of a whole ICS feed, and one problem line per bad one.

    Each UID is read on its own (with the feed's VTIMEZONEs and X-WR-TIMEZONE), so a bad
    event, even one icalendar cannot parse at all, never hides the others.
    """
    feed = split_feed(data)
    instances: list[Instance] = []
    problems = list(feed.problems)
    for key, lines in feed.events.items():
        try:
            instances += parse_instances(feed.resource(lines), window, zone, bounds)
        except MalformedEvent as error:
            problems.append(f"{feed.labels[key]}: {error}")
    return sorted(instances, key=_order), problems


def read_components(data: bytes) -> list[Component]:
    """The top-level components of ``data``, or ``MalformedEvent`` if it is not iCalendar."""
    try:
        with warnings.catch_warnings():
            # A vendor-prefixed TZID: resolved on purpose by ``iana_name``.
            warnings.simplefilter("ignore", GloballyUniqueTZIDGuessed)
            return Component.from_ical(data, multiple=True)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        # icalendar raises the last two from its VTIMEZONE cache on some broken files.
        raise MalformedEvent(f"not iCalendar data: {error}") from error


def read_calendar(data: bytes) -> Calendar:
    """The one VCALENDAR in ``data``."""
    components = read_components(data)
    names = [component.name for component in components]
    if names != ["VCALENDAR"] or not isinstance(components[0], Calendar):
        raise MalformedEvent(f"expected one VCALENDAR, found {names or 'nothing'}")
    return components[0]


def settled_calendar(data: bytes, zone: ZoneInfo) -> tuple[Calendar, list[Component]]:
    """The VCALENDAR of an iTIP message and its VEVENTs, each date given its zone."""
    calendar = read_calendar(data)
    return calendar, _settled_events(calendar, zone)


@lru_cache(maxsize=1024)
def iana_name(tzid: str) -> str | None:
    """The IANA zone a TZID names: itself, a Windows name, or a vendor-prefixed IANA name."""
    cleaned = tzid.strip().strip("/")
    parts = cleaned.split("/")
    suffixes = ["/".join(parts[i:]) for i in range(1, len(parts) - 1)]
    candidates = [cleaned, WINDOWS_TO_OLSON.get(cleaned, ""), *suffixes]
    return next((name for name in candidates if name in _iana_names()), None)


@cache
def _iana_names() -> frozenset[str]:
    return frozenset(available_timezones())


# --- checking one resource, and giving every date a zone ---------------------------


def _settled_events(calendar: Calendar, zone: ZoneInfo) -> list[Component]:
    events: list[Component] = calendar.walk("VEVENT")
    if not events:
        raise MalformedEvent("no VEVENT in the calendar")
    floating = _floating_zone(calendar, zone)
    resolve = _zone_resolver(calendar)
    for event in events:
        _check_readable(event)
        _settle(event, resolve, floating)
        _check_span(event)
    return events


def _check_readable(event: Component) -> None:
    uid = ", ".join(str(uid) for uid in _props(event, "UID")) or "?"
    for name, message in event.errors:
        if name in _CRITICAL:
            what = name or "a line (broken folding?)"
            raise MalformedEvent(f"VEVENT {uid}: {what} could not be read: {message}")
    for name in ("UID", "DTSTART"):
        if name not in event:
            raise MalformedEvent(f"VEVENT {uid}: no {name}")
    for name in _ONCE:
        if isinstance(event.get(name), list):
            raise MalformedEvent(f"VEVENT {uid}: {name} appears more than once")


def _floating_zone(calendar: Calendar, zone: ZoneInfo) -> ZoneInfo:
    """Google's X-WR-TIMEZONE, if it names a zone, else the caller's zone.

    The property is rewritten to its IANA name (or dropped) because recurring-ical-events
    applies it too, to UTC times, and knows IANA names only.
    """
    declared = calendar.pop("X-WR-TIMEZONE", None)
    name = iana_name(str(declared)) if declared is not None else None
    if name is None:
        return zone
    calendar["X-WR-TIMEZONE"] = vText(name)
    return ZoneInfo(name)


def _zone_resolver(calendar: Calendar) -> ZoneResolver:
    defined = {str(tz["TZID"]): tz for tz in calendar.walk("VTIMEZONE") if "TZID" in tz}

    @cache
    def resolve(tzid: str) -> tzinfo:
        name = iana_name(tzid)
        if name is not None:
            return ZoneInfo(name)
        if tzid in defined:
            return _custom_zone(defined[tzid].to_ical())
        raise MalformedEvent(
            f"unknown TZID {tzid!r}: no VTIMEZONE in the file and not an IANA or Windows zone"
        )

    return resolve


@lru_cache(maxsize=64)
def _custom_zone(vtimezone: bytes) -> tzinfo:
    component = Timezone.from_ical(vtimezone)
    if not isinstance(component, Timezone):
        raise MalformedEvent("a VTIMEZONE cannot be read")
    try:
        zone: tzinfo = component.to_tz(lookup_tzid=False)
    except (ValueError, TypeError, KeyError) as error:
        raise MalformedEvent(f"VTIMEZONE {component.get('TZID')} cannot be read") from error
    return zone


def _settle(event: Component, resolve: ZoneResolver, floating: tzinfo) -> None:
    """Give every DATE-TIME its zone: the resolved TZID, UTC, or ``floating``."""
    for name in _DATE_PROPERTIES:
        for prop in _props(event, name):
            tzid = prop.params.get("TZID")
            zone = resolve(str(tzid)) if tzid else floating
            for item in getattr(prop, "dts", [prop]):
                item.dt = _zoned(item.dt, zone, keep_utc=not tzid)


def _zoned(value: object, zone: tzinfo, *, keep_utc: bool) -> object:
    if isinstance(value, tuple):  # an RDATE period: (start, end or duration)
        return tuple(_zoned(part, zone, keep_utc=keep_utc) for part in value)
    if not isinstance(value, datetime) or (keep_utc and value.tzinfo is not None):
        return value
    return value.replace(tzinfo=zone)


def _check_span(event: Component) -> None:
    uid = str(event["UID"])
    start, end = _moment(event, "DTSTART"), _moment(event, "DTEND")
    duration = getattr(event.get("DURATION"), "dt", None)
    if start is None:
        raise MalformedEvent(f"VEVENT {uid}: DTSTART is not a date or date-time")
    if end is not None and isinstance(start, datetime) != isinstance(end, datetime):
        raise MalformedEvent(f"VEVENT {uid}: DTSTART and DTEND are not both dates or times")
    if end is not None and end < start:
        raise MalformedEvent(f"VEVENT {uid}: DTEND {end} is before DTSTART {start}")
    if isinstance(duration, timedelta) and duration < timedelta(0):
        raise MalformedEvent(f"VEVENT {uid}: negative DURATION {duration}")


def ambiguity(events: list[Component]) -> str | None:
    """Why these VEVENTs of one UID can be read more than one way (two masters, a
    RECURRENCE-ID twice), or None. Raises ``MalformedEvent`` for more than one UID."""
    uids = sorted({str(event["UID"]) for event in events})
    if len(uids) != 1:
        raise MalformedEvent(_uid_problem(uids))
    seen: set[object] = set()
    for event in events:
        key = recurrence_key(event)
        if key in seen:
            which = f"RECURRENCE-ID {key}" if key else "no RECURRENCE-ID (two masters)"
            return f"two VEVENTs with UID {uids[0]} and {which}"
        seen.add(key)
    return None


def recurrence_key(event: Component) -> date | None:
    return _moment(event, "RECURRENCE-ID")


def _uid_problem(uids: list[str]) -> str:
    if not uids:
        return "no UID in the resource"
    return f"one resource holds {len(uids)} UIDs ({', '.join(uids)}); RFC 4791 allows one"


# --- expansion ---------------------------------------------------------------------


def expand(
    calendar: Calendar, events: list[Component], window: Window, zone: ZoneInfo, bounds: Bounds
) -> list[Instance]:
    """The occurrences in ``window``, lazily and counted: the cap stops the work."""
    start, end = (_aware(moment, zone).astimezone(zone) for moment in window)
    recurring = any(
        name in event for event in events for name in ("RRULE", "RDATE", "RECURRENCE-ID")
    )
    uid = str(events[0]["UID"])
    rules = [(rule, _moment(e, "DTSTART") or start) for e in events for rule in _props(e, "RRULE")]
    check_rules(uid, rules, end, bounds)
    import recurring_ical_events  # with x-wr-timezone and click: only when expanding

    try:
        query = recurring_ical_events.of(calendar)
        lazy = (o for series in query.series for o in series.between(start, end))
        keep = query.keep_recurrence_attributes
        occurrences = [o.as_component(keep) for o in counted(lazy, bounds.occurrences, uid)]
    except PastCap:
        raise
    except (recurring_ical_events.InvalidCalendar, ValueError, TypeError) as error:
        raise MalformedEvent(f"the recurrence cannot be expanded: {error}") from error
    return sorted((_instance(o, zone, recurring=recurring) for o in occurrences), key=_order)


def _instance(occurrence: Component, zone: ZoneInfo, *, recurring: bool) -> Instance:
    start = _moment(occurrence, "DTSTART")
    if start is None:  # checked before expansion; recurring-ical-events keeps it
        raise MalformedEvent(f"an occurrence of {occurrence.get('UID')} has no DTSTART")
    end = _moment(occurrence, "DTEND") or start
    recurrence_id = _moment(occurrence, "RECURRENCE-ID") if recurring else None
    return Instance(
        uid=str(occurrence["UID"]),
        recurrence_id=None if recurrence_id is None else _aware(recurrence_id, zone),
        start=_aware(start, zone),
        end=_aware(end, zone),
        all_day=not isinstance(start, datetime),
        status=str(occurrence.get("STATUS", "CONFIRMED")).upper(),
        transp=str(occurrence.get("TRANSP", "OPAQUE")).upper(),
        summary=str(occurrence.get("SUMMARY", "")),
        categories=tuple(_categories(occurrence)),
        partstats=dict(_partstats(occurrence)),
        x_props=dict(_x_props(occurrence)),
        description=str(occurrence.get("DESCRIPTION", "")),
    )


def _aware(moment: date, zone: tzinfo) -> datetime:
    """A date as local midnight in ``zone``; a floating time in ``zone``."""
    if not isinstance(moment, datetime):
        return datetime.combine(moment, time(), zone)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone)
    return moment


def _props(component: Component, name: str) -> list[Any]:
    """Every property ``name`` of a component: icalendar gives one, a list, or None."""
    value = component.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _moment(component: Component, name: str) -> date | None:
    """The DATE or DATE-TIME (a datetime is a date too) of property ``name``, if any."""
    value = getattr(component.get(name), "dt", None)
    return value if isinstance(value, date) else None


def _categories(event: Component) -> Iterator[str]:
    for prop in _props(event, "CATEGORIES"):
        yield from (str(category) for category in getattr(prop, "cats", [prop]))


def _partstats(event: Component) -> Iterator[tuple[str, str]]:
    for attendee in _props(event, "ATTENDEE"):
        address = str(attendee).strip()
        if address.lower().startswith("mailto:"):
            partstat = str(attendee.params.get("PARTSTAT", "NEEDS-ACTION")).upper()
            yield address[len("mailto:") :].strip().lower(), partstat


def _x_props(event: Component) -> Iterator[tuple[str, str]]:
    """X-CALBRIDGE-* values as TEXT: icalendar 7.2+ keeps unknown properties verbatim."""
    for name, value in event.property_items(recursive=False, sorted=False):
        if name.startswith(X_PREFIX):
            yield name, unescape(str(value))


def _order(instance: Instance) -> tuple[datetime, str]:
    return instance.start, instance.uid
