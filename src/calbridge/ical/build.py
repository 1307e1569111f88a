"""Book values to calendar resources, and a fingerprint of what a resource means.

``render_event`` and ``render_all_day`` write the coach's CalDAV copy of one UID: no
METHOD (RFC 4791 §4.1), SCHEDULE-AGENT=CLIENT on every ATTENDEE (RFC 6638 §7.1), a
VTIMEZONE for every TZID. icalendar escapes text, folds at 75 octets and ends lines
with CRLF; names and parameters that it would not escape are checked here, so no value
can start a property of its own. ``fingerprint`` hashes a resource's meaning so that a
server re-serializing it is not mistaken for an edit. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import (
    Calendar,
    Component,
    Event,
    Timezone,
    vCalAddress,
    vCategory,
    vDDDLists,
    vRecur,
    vText,
)

from calbridge.ical.bounds import Bounds, PastCap, check_resource
from calbridge.ical.model import AllDay, Attendee, EventSpec, MalformedEvent, Occurrence, Person
from calbridge.ical.parse import read_components

PRODID = "-//calbridge//calbridge//EN"
STATUSES = frozenset({"CONFIRMED", "TENTATIVE", "CANCELLED"})
TRANSPS = frozenset({"OPAQUE", "TRANSPARENT"})
ROLES = frozenset({"REQ-PARTICIPANT", "OPT-PARTICIPANT", "NON-PARTICIPANT", "CHAIR"})
PARTSTATS = frozenset({"NEEDS-ACTION", "ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED"})
METHODS = frozenset({"REQUEST", "CANCEL", "PUBLISH", "DECLINECOUNTER"})

# A VTIMEZONE from icalendar lists transitions for a range of years only: cover this
# many years after the last date the resource names, for open-ended series.
TZ_YEARS_AHEAD = 10

# Ignored by the fingerprint: set or rewritten by servers and clients on every save.
# CALSCALE can only be GREGORIAN (its default); Radicale drops it when it rewrites events.
VOLATILE_PROPERTIES = frozenset({"DTSTAMP", "PRODID", "LAST-MODIFIED", "CREATED", "CALSCALE"})
VOLATILE_PARAMETERS = frozenset({"SCHEDULE-STATUS", "VALUE"})
KEPT_X_PREFIX = "X-CALBRIDGE-"

_X_NAME = re.compile(r"X-[A-Za-z0-9-]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PARAM_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+")


def render_event(
    spec: EventSpec,
    stamp: datetime | None = None,
    *,
    method: str | None = None,
    recurrence_id: datetime | None = None,
) -> bytes:
    """The resource ``{spec.uid}.ics``: the master VEVENT, then one VEVENT per override.

    With ``method`` it is the same object as an iTIP message for mail (RFC 6047): a
    METHOD property, and neither SCHEDULE-AGENT nor the X-CALBRIDGE-* markers, which
    are for the coach's server and calbridge only. ``recurrence_id`` (mail only) makes
    the master VEVENT name that one occurrence of a series (a CANCEL of one occurrence).
    """
    if recurrence_id is not None and (method is None or spec.rrule or spec.overrides):
        raise ValueError(f"{spec.uid}: a recurrence_id is for one occurrence in mail")
    return _serialize(_event_calendar(spec, stamp, method, recurrence_id))


def render_with_fingerprint(spec: EventSpec, stamp: datetime | None = None) -> tuple[bytes, str]:
    """``render_event`` and the ``fingerprint`` of its result, without parsing it back:
    the fingerprint is taken from the calendar as built (the same canonical lines)."""
    calendar = _event_calendar(spec, stamp, None)
    return _serialize(calendar), _fingerprint_of([calendar])


def _event_calendar(
    spec: EventSpec,
    stamp: datetime | None,
    method: str | None,
    recurrence_id: datetime | None = None,
) -> Calendar:
    _check_spec(spec)
    zone = _zone(spec.tzid)
    now = _stamp(stamp)
    mail = method is not None
    master = _timed_event(spec, spec.master, zone, now, mail)
    if recurrence_id is not None:
        master.add("RECURRENCE-ID", _wall_time(recurrence_id, zone))
    if spec.rrule is not None:
        master.add("RRULE", vRecur(spec.rrule.ical_parts()))
    if spec.exdates:
        master.add("EXDATE", [_wall_time(exdate, zone) for exdate in spec.exdates])
    overrides = [_timed_event(spec, occ, zone, now, mail) for occ in spec.overrides]
    first, last = _years_named(spec, zone)
    calendar = _calendar([master, *overrides], first, last)
    if method is not None:
        calendar.add("METHOD", _one_of(method, METHODS, "METHOD"))
    return calendar


def render_all_day(event: AllDay, stamp: datetime | None = None) -> bytes:
    """An all-day VEVENT (a closure): DTSTART/DTEND;VALUE=DATE, the end exclusive."""
    if event.end <= event.start:
        raise ValueError(f"all-day event {event.uid}: end {event.end} is not after start")
    vevent = Event()
    vevent.add("UID", event.uid)
    vevent.add("DTSTAMP", _stamp(stamp))
    vevent.add("DTSTART", event.start)
    vevent.add("DTEND", event.end)
    _add_text(vevent, "SUMMARY", event.summary)
    if event.description:
        _add_text(vevent, "DESCRIPTION", event.description)
    vevent.add("TRANSP", _one_of(event.transp, TRANSPS, "TRANSP"))
    _add_labels(vevent, event.color, event.categories, event.x_props)
    return _serialize(_calendar([vevent], event.start.year, event.end.year))


def fingerprint(data: bytes, bounds: Bounds | None = None) -> str:
    """A SHA-256 of what ``data`` means, blind to how a server re-serialized it.

    Ignored: property and parameter order, line folding, CRLF or LF, the order of
    components, VTIMEZONE blocks (servers rewrite them; TZIDs still count), the
    properties in ``VOLATILE_PROPERTIES``, SCHEDULE-STATUS and VALUE parameters, and
    every X- property or parameter except X-CALBRIDGE-*. Bytes that are not iCalendar
    are hashed as text, lines unfolded; bytes past the size caps of ``bounds`` are
    hashed as they are, never parsed.
    """
    if bounds is not None:
        try:
            check_resource(data, bounds)
        except PastCap:
            return _digest(["past-cap", hashlib.sha256(data).hexdigest()])
    try:
        components = read_components(data)
    except MalformedEvent:
        text = re.sub(r"\r?\n[ \t]", "", data.decode("utf-8", "replace"))
        return _digest(["raw", *text.splitlines()])
    return _fingerprint_of(components)


def _fingerprint_of(components: list[Component]) -> str:
    return _digest(sorted(_canonical(component) for component in _meaningful(components)))


def _check_spec(spec: EventSpec) -> None:
    if spec.master.recurrence_id is not None:
        raise ValueError(f"{spec.uid}: the master occurrence has a recurrence_id")
    if spec.overrides and spec.rrule is None:
        raise ValueError(f"{spec.uid}: overrides need an rrule")
    recurrence_ids = [occurrence.recurrence_id for occurrence in spec.overrides]
    if None in recurrence_ids:
        raise ValueError(f"{spec.uid}: every override needs a recurrence_id")
    if len(set(recurrence_ids)) != len(recurrence_ids):
        raise ValueError(f"{spec.uid}: two overrides share a recurrence_id")
    for occurrence in (spec.master, *spec.overrides):
        if _aware(occurrence.end).astimezone(UTC) < _aware(occurrence.start).astimezone(UTC):
            raise ValueError(f"{spec.uid}: an occurrence ends before it starts")


def _timed_event(
    spec: EventSpec, occurrence: Occurrence, zone: ZoneInfo, now: datetime, mail: bool = False
) -> Event:
    vevent = Event()
    vevent.add("UID", spec.uid)
    vevent.add("DTSTAMP", now)
    vevent.add("SEQUENCE", spec.sequence)
    if occurrence.recurrence_id is not None:
        vevent.add("RECURRENCE-ID", _wall_time(occurrence.recurrence_id, zone))
    vevent.add("DTSTART", _wall_time(occurrence.start, zone))
    vevent.add("DTEND", _wall_time(occurrence.end, zone))
    _add_text(vevent, "SUMMARY", occurrence.summary)
    if occurrence.description:
        _add_text(vevent, "DESCRIPTION", occurrence.description)
    vevent.add("STATUS", _one_of(occurrence.status, STATUSES, "STATUS"))
    vevent.add("TRANSP", _one_of(spec.transp, TRANSPS, "TRANSP"))
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
        vevent.add("COLOR", vText(_clean(color)))
    if categories:
        vevent.add("CATEGORIES", [_clean(category) for category in categories])
    for name, value in x_props.items():
        if not _X_NAME.fullmatch(name):
            raise ValueError(f"not an X- property name: {name!r}")
        vevent.add(name.upper(), vText(_clean(value)))


def _attendee(attendee: Attendee, mail: bool = False) -> vCalAddress:
    address = _address(attendee.person)
    role = _one_of(attendee.role, ROLES, "ROLE")
    partstat = _one_of(attendee.partstat, PARTSTATS, "PARTSTAT")
    address.params["ROLE"] = role
    address.params["PARTSTAT"] = partstat
    if role == "REQ-PARTICIPANT" and partstat == "NEEDS-ACTION":
        address.params["RSVP"] = "TRUE"
    if not mail:
        address.params["SCHEDULE-AGENT"] = "CLIENT"
    return address


def _address(person: Person) -> vCalAddress:
    if not _EMAIL.fullmatch(person.email):
        raise ValueError(f"not an e-mail address: {person.email!r}")
    address = vCalAddress(f"mailto:{person.email}")
    if person.name:
        # icalendar quotes parameter values (RFC 6868 for '"') but cannot fold a line
        # break into one: a name keeps its words, never its control characters.
        address.params["CN"] = _PARAM_CONTROL.sub(" ", person.name).strip()
    return address


def _add_text(vevent: Event, name: str, value: str) -> None:
    vevent.add(name, vText(_clean(value)))


def _clean(value: str) -> str:
    """Drop the control characters RFC 5545 §3.3.11 forbids in TEXT (CR/LF are escaped)."""
    return _CONTROL.sub("", value)


def _one_of(value: str, allowed: frozenset[str], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {sorted(allowed)}, not {value!r}")
    return value


def _zone(tzid: str) -> ZoneInfo:
    try:
        return ZoneInfo(tzid)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {tzid!r}") from error


def _stamp(stamp: datetime | None) -> datetime:
    if stamp is None:
        return datetime.now(UTC).replace(microsecond=0)
    return _aware(stamp).astimezone(UTC)


def _wall_time(moment: datetime, zone: ZoneInfo) -> datetime:
    """``moment`` as a DATE-TIME in ``zone``, to the second.

    The second pass through a repeated hour (fold=1) cannot be written with a TZID:
    RFC 5545 §3.3.5 reads such a local time as its first occurrence. It is written in
    UTC instead, which keeps the instant.
    """
    local = _aware(moment).astimezone(zone).replace(microsecond=0)
    if local.fold and local.utcoffset() != local.replace(fold=0).utcoffset():
        return local.astimezone(UTC)
    return local


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a naive datetime cannot be written: {moment.isoformat()}")
    return moment


def _years_named(spec: EventSpec, zone: ZoneInfo) -> tuple[int, int]:
    moments = [*spec.exdates]
    for occurrence in (spec.master, *spec.overrides):
        moments += [occurrence.start, occurrence.end]
        moments += [occurrence.recurrence_id] if occurrence.recurrence_id else []
    years = [moment.astimezone(zone).year for moment in moments]
    return min(years), max(years)


def _calendar(components: Iterable[Component], first_year: int, last_year: int) -> Calendar:
    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    for component in components:
        calendar.add_component(component)
    add_timezones(calendar, first_year, last_year)
    return calendar


def add_timezones(calendar: Calendar, first_year: int, last_year: int) -> None:
    """A VTIMEZONE, first in the calendar, for every TZID it names (ValueError if one is
    unknown), covering ``first_year`` to ``last_year`` and ``TZ_YEARS_AHEAD`` more."""
    for index, tzid in enumerate(sorted(calendar.get_missing_tzids())):
        timezone = _vtimezone(tzid, first_year, last_year)
        if timezone is not None:
            calendar.subcomponents.insert(index, timezone)
    if calendar.get_missing_tzids():
        raise ValueError(f"no VTIMEZONE for {sorted(calendar.get_missing_tzids())}")


@lru_cache(maxsize=512)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone | None:
    """A VTIMEZONE covering the years an event names (built once per zone and years).

    Without the ``COMMENT:This timezone only works from ...`` line icalendar adds: RFC
    5545 allows no COMMENT in a VTIMEZONE, and libical (Cyrus, Fastmail) rejects it."""
    try:
        timezone = Timezone.from_tzid(
            tzid,
            first_date=date(first_year, 1, 1),
            last_date=date(last_year + TZ_YEARS_AHEAD, 1, 1),
        )
    except ValueError:
        return None
    timezone.pop("COMMENT", None)
    return timezone


def _serialize(calendar: Calendar) -> bytes:
    data: bytes = calendar.to_ical()
    return data


def _meaningful(components: list[Component]) -> list[Component]:
    return [component for component in components if component.name != "VTIMEZONE"]


def _canonical(component: Component) -> str:
    lines = sorted(_canonical_lines(component))
    parts = sorted(_canonical(sub) for sub in _meaningful(component.subcomponents))
    return "\n".join([f"BEGIN:{component.name}", *lines, *parts, f"END:{component.name}"])


def _canonical_lines(component: Component) -> Iterator[str]:
    for name, value in component.property_items(recursive=False, sorted=False):
        if name in {"BEGIN", "END"} or _volatile(name):
            continue
        params = _canonical_params(getattr(value, "params", {}))
        for text in _canonical_values(name, value):
            yield f"{name}{params}:{text}"


def _volatile(name: str) -> bool:
    if name.startswith("X-"):
        return not name.startswith(KEPT_X_PREFIX)
    return name in VOLATILE_PROPERTIES


def _canonical_params(params: dict[str, object]) -> str:
    kept = sorted(
        (key.upper(), str(value))
        for key, value in params.items()
        if key.upper() not in VOLATILE_PARAMETERS and not key.upper().startswith("X-")
    )
    return "".join(f";{key}={value!r}" for key, value in kept)


def _canonical_values(name: str, value: object) -> Iterator[str]:
    """One text per value: EXDATE:a,b and two EXDATE lines mean the same."""
    if isinstance(value, vDDDLists):
        items: list[object] = list(value.dts)
    elif isinstance(value, vCategory):
        items = [vText(category) for category in value.cats]
    else:
        items = [value]
    for item in items:
        text = _ical_text(item)
        yield text.lower() if name in {"ATTENDEE", "ORGANIZER"} else text


def _ical_text(value: object) -> str:
    to_ical = getattr(value, "to_ical", None)
    raw = to_ical() if callable(to_ical) else value
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def _digest(parts: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()
