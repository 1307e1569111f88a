"""Book values to calendar resources, and a fingerprint of what a resource means.

``render_event`` and ``render_all_day`` write the coach's CalDAV copy of one UID: no
METHOD (RFC 4791 §4.1), SCHEDULE-AGENT=CLIENT on every ATTENDEE (RFC 6638 §7.1), a
VTIMEZONE for every TZID. The lines are written by ``ical.lines`` exactly as icalendar
writes them (text escaped, folded at 75 octets, CRLF), the VTIMEZONEs by icalendar once
per zone and span of years; names and parameters that would not be escaped are checked
here, so no value can start a property of its own. ``fingerprint`` hashes a resource's
meaning so that a server re-serializing it is not mistaken for an edit. Pure: no I/O.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Timezone, vRecur

from calbridge.ical.lines import Block, Prop, date_text, date_time, text, write
from calbridge.ical.meaning import fingerprint as fingerprint
from calbridge.ical.meaning import fingerprint_of as fingerprint_of
from calbridge.ical.meaning import fingerprint_of_block
from calbridge.ical.model import AllDay, Attendee, EventSpec, Occurrence, Person, Rule

PRODID = "-//calbridge//calbridge//EN"
STATUSES = frozenset({"CONFIRMED", "TENTATIVE", "CANCELLED"})
TRANSPS = frozenset({"OPAQUE", "TRANSPARENT"})
ROLES = frozenset({"REQ-PARTICIPANT", "OPT-PARTICIPANT", "NON-PARTICIPANT", "CHAIR"})
PARTSTATS = frozenset({"NEEDS-ACTION", "ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED"})
METHODS = frozenset({"REQUEST", "CANCEL", "PUBLISH", "DECLINECOUNTER"})

# A VTIMEZONE from icalendar lists transitions for a range of years only: cover this
# many years after the last date the resource names, for open-ended series.
TZ_YEARS_AHEAD = 10

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
    return write(_event_calendar(spec, stamp, method, recurrence_id))


def render_with_fingerprint(spec: EventSpec, stamp: datetime | None = None) -> tuple[bytes, str]:
    """``render_event`` and the ``fingerprint`` of its result, without parsing it back:
    the fingerprint is taken from the calendar as built (the same canonical lines)."""
    calendar = _event_calendar(spec, stamp, None)
    return write(calendar), fingerprint_of_block(calendar)


def _event_calendar(
    spec: EventSpec,
    stamp: datetime | None,
    method: str | None,
    recurrence_id: datetime | None = None,
) -> Block:
    _check_spec(spec)
    zone = _zone(spec.tzid)
    now = _stamp(stamp)
    mail = method is not None
    tzids: set[str] = set()
    master = _timed_event(spec, spec.master, zone, now, tzids, mail)
    if recurrence_id is not None:
        master.props.append(_when("RECURRENCE-ID", _wall_time(recurrence_id, zone), tzids))
    if spec.rrule is not None:
        master.props.append(Prop("RRULE", _rrule(_parts(spec.rrule))))
    if spec.exdates:
        master.props.append(_exdate([_wall_time(exdate, zone) for exdate in spec.exdates], tzids))
    overrides = [_timed_event(spec, occ, zone, now, tzids, mail) for occ in spec.overrides]
    first, last = _years_named(spec, zone)
    calendar = _calendar([master, *overrides], tzids, first, last)
    if method is not None:
        calendar.props.append(Prop("METHOD", _one_of(method, METHODS, "METHOD")))
    return calendar


def render_all_day(event: AllDay, stamp: datetime | None = None) -> bytes:
    """An all-day VEVENT (a closure): DTSTART/DTEND;VALUE=DATE, the end exclusive."""
    if event.end <= event.start:
        raise ValueError(f"all-day event {event.uid}: end {event.end} is not after start")
    props = [
        Prop("UID", text(event.uid)),
        _when("DTSTAMP", _stamp(stamp), set()),
        Prop("DTSTART", date_text(event.start), (("VALUE", "DATE"),)),
        Prop("DTEND", date_text(event.end), (("VALUE", "DATE"),)),
        _text("SUMMARY", event.summary),
    ]
    if event.description:
        props.append(_text("DESCRIPTION", event.description))
    props.append(Prop("TRANSP", _one_of(event.transp, TRANSPS, "TRANSP")))
    props += _labels(event.color, event.categories, event.x_props)
    vevent = Block("VEVENT", props, [])
    return write(_calendar([vevent], set(), event.start.year, event.end.year))


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
    spec: EventSpec,
    occurrence: Occurrence,
    zone: ZoneInfo,
    now: datetime,
    tzids: set[str],
    mail: bool = False,
) -> Block:
    props = [
        Prop("UID", text(spec.uid)),
        _when("DTSTAMP", now, tzids),
        Prop("SEQUENCE", str(int(spec.sequence))),
    ]
    if occurrence.recurrence_id is not None:
        props.append(_when("RECURRENCE-ID", _wall_time(occurrence.recurrence_id, zone), tzids))
    props.append(_when("DTSTART", _wall_time(occurrence.start, zone), tzids))
    props.append(_when("DTEND", _wall_time(occurrence.end, zone), tzids))
    props.append(_text("SUMMARY", occurrence.summary))
    if occurrence.description:
        props.append(_text("DESCRIPTION", occurrence.description))
    props.append(Prop("STATUS", _one_of(occurrence.status, STATUSES, "STATUS")))
    props.append(Prop("TRANSP", _one_of(spec.transp, TRANSPS, "TRANSP")))
    props.append(_address("ORGANIZER", spec.organizer))
    props += [_attendee(attendee, mail) for attendee in occurrence.attendees]
    props += _labels(spec.color, spec.categories, {} if mail else spec.x_props)
    if spec.url is not None:
        props.append(Prop("URL", spec.url))
        props.append(Prop("CONFERENCE", spec.url, (("VALUE", "URI"), ("FEATURE", "VIDEO"))))
    return Block("VEVENT", props, [])


def _labels(color: str | None, categories: tuple[str, ...], x_props: dict[str, str]) -> list[Prop]:
    props = []
    if color is not None:
        props.append(_text("COLOR", color))
    if categories:
        items = tuple(text(_clean(category)) for category in categories)
        props.append(Prop("CATEGORIES", ",".join(items), (), items))
    for name, value in x_props.items():
        if not _X_NAME.fullmatch(name):
            raise ValueError(f"not an X- property name: {name!r}")
        props.append(_text(name.upper(), value))
    return props


def _attendee(attendee: Attendee, mail: bool = False) -> Prop:
    role = _one_of(attendee.role, ROLES, "ROLE")
    partstat = _one_of(attendee.partstat, PARTSTATS, "PARTSTAT")
    params = [("ROLE", role), ("PARTSTAT", partstat)]
    if role == "REQ-PARTICIPANT" and partstat == "NEEDS-ACTION":
        params.append(("RSVP", "TRUE"))
    if not mail:
        params.append(("SCHEDULE-AGENT", "CLIENT"))
    return _address("ATTENDEE", attendee.person, params)


def _address(name: str, person: Person, params: list[tuple[str, str]] | None = None) -> Prop:
    if not _EMAIL.fullmatch(person.email):
        raise ValueError(f"not an e-mail address: {person.email!r}")
    given = list(params or ())
    if person.name:
        given.append(("CN", common_name(person.name)))
    return Prop(name, f"mailto:{person.email}", tuple(given))


def common_name(name: str) -> str:
    """A CN parameter's value. Parameter values are quoted (RFC 6868 for '"') but cannot
    fold a line break into one: a name keeps its words, never its control characters;
    nor a backslash, which icalendar's reader takes for an escape (a CN such as ``a\\,b`` or
    ending in a backslash reads back otherwise, and the fingerprint would see an edit)."""
    return _PARAM_CONTROL.sub(" ", name.replace("\\", "")).strip()


def _text(name: str, value: str) -> Prop:
    return Prop(name, text(_clean(value)))


def _when(name: str, moment: datetime, tzids: set[str]) -> Prop:
    value, tzid = date_time(moment)
    if tzid is None:
        return Prop(name, value)
    tzids.add(tzid)
    return Prop(name, value, (("TZID", tzid),))


def _exdate(moments: list[datetime], tzids: set[str]) -> Prop:
    """One EXDATE line; its TZID is that of the last value in a zone, as icalendar's."""
    written = [date_time(moment) for moment in moments]
    items = tuple(value for value, _ in written)
    zones = [tzid for _, tzid in written if tzid is not None]
    tzids.update(zones)
    params = (("TZID", zones[-1]),) if zones else ()
    return Prop("EXDATE", ",".join(items), params, items)


def _parts(rule: Rule) -> tuple[tuple[str, tuple[str | int | datetime, ...]], ...]:
    return tuple((name, tuple(values)) for name, values in rule.ical_parts().items())


@lru_cache(maxsize=256)
def _rrule(parts: tuple[tuple[str, tuple[str | int | datetime, ...]], ...]) -> str:
    recur = vRecur({name: list(values) for name, values in parts})
    written: bytes = recur.to_ical()  # type: ignore[no-untyped-call]
    return written.decode("utf-8")


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


def _calendar(events: list[Block], tzids: set[str], first_year: int, last_year: int) -> Block:
    props = [Prop("PRODID", text(PRODID)), Prop("VERSION", "2.0"), Prop("CALSCALE", "GREGORIAN")]
    spliced = tuple(_vtimezone_text(tzid, first_year, last_year) for tzid in sorted(tzids))
    return Block("VCALENDAR", props, events, spliced)


def _vtimezone_text(tzid: str, first_year: int, last_year: int) -> str:
    """The VTIMEZONE of ``tzid`` as written lines (ValueError if there is none)."""
    written = _vtimezone_lines(tzid, first_year, last_year)
    if written is None:
        raise ValueError(f"no VTIMEZONE for {[tzid]}")
    return written


@lru_cache(maxsize=512)
def _vtimezone_lines(tzid: str, first_year: int, last_year: int) -> str | None:
    """Serialized once per zone and span of years: the same for every event of a pass."""
    timezone = _vtimezone(tzid, first_year, last_year)
    if timezone is None:
        return None
    written: bytes = timezone.to_ical()
    return written.decode("utf-8")


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
