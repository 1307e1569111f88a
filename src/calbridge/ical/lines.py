"""Content lines written byte for byte as icalendar writes them, without its objects.

``ical.build`` maps the book to ``Block``s of ``Prop``s and ``write`` turns them into a
VCALENDAR: properties in icalendar's canonical order (its ``canonical_order`` first, the
rest by name, repeated names as added), parameters sorted by name, TEXT escaped (RFC 5545
§3.3.11), parameter values quoted and RFC 6868-escaped as icalendar's ``param_value``
does, lines folded as icalendar folds them (fewer than 75 octets, never inside a UTF-8
character or right after a backslash or caret) and ended with CRLF. A VTIMEZONE comes in
already serialized (``Block.spliced``): it is the same for every event of a zone, so it is
written once, not once per event. tests/ical/test_lines.py holds the output against
icalendar's own for random events. Pure: no I/O.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from functools import lru_cache
from typing import NamedTuple

from icalendar.parser import Parameters, param_value
from icalendar.timezone import tzid_from_tzinfo

CRLF = "\r\n"
#: icalendar's ``canonical_order`` of the components calbridge writes.
ORDER = {
    "VCALENDAR": ("VERSION", "PRODID", "CALSCALE", "METHOD"),
    "VEVENT": (
        "SUMMARY",
        "DTSTART",
        "DTEND",
        "DURATION",
        "DTSTAMP",
        "UID",
        "RECURRENCE-ID",
        "SEQUENCE",
        "RRULE",
        "RDATE",
        "EXDATE",
    ),
}
_ALWAYS_QUOTED = frozenset(Parameters.always_quoted)
_QUOTE_ALSO: dict[str, str] = dict(Parameters.quote_also)
_FOLD_AT = 75


class Prop(NamedTuple):
    """One property: ``value`` as written after the colon (escaped), ``params`` as
    (NAME, raw value) pairs, ``items`` the values of a list one by one (EXDATE,
    CATEGORIES), each of which the fingerprint counts on its own."""

    name: str
    value: str
    params: tuple[tuple[str, str], ...] = ()
    items: tuple[str, ...] = ()


class Block(NamedTuple):
    """A component: its properties, its subcomponents, and serialized ones (VTIMEZONEs,
    written first, CRLF-terminated lines)."""

    name: str
    props: list[Prop]
    subs: list[Block]
    spliced: tuple[str, ...] = ()


def write(block: Block) -> bytes:
    out: list[str] = []
    _write(block, out)
    return "".join(out).encode("utf-8")


def _write(block: Block, out: list[str]) -> None:
    out.append(f"BEGIN:{block.name}{CRLF}")
    for prop in _ordered(block.name, block.props):
        out.append(fold(line(prop)))
        out.append(CRLF)
    out.extend(block.spliced)
    for sub in block.subs:
        _write(sub, out)
    out.append(f"END:{block.name}{CRLF}")


def _ordered(component: str, props: list[Prop]) -> list[Prop]:
    order = ORDER.get(component, ())
    rank = {name: index for index, name in enumerate(order)}
    last = len(order)
    return sorted(props, key=lambda p: (rank.get(p.name, last), p.name))


def line(prop: Prop) -> str:
    """The content line, unfolded."""
    if not prop.params:
        return f"{prop.name}:{prop.value}"
    params = "".join(
        f";{_param(key, value)}"
        for key, value in sorted(prop.params)
        if not (key == "TZID" and value == "UTC")
    )
    return f"{prop.name}{params}:{prop.value}"


@lru_cache(maxsize=4096)
def _param(key: str, value: str) -> str:
    quote = key in _ALWAYS_QUOTED or any(c in value for c in _QUOTE_ALSO.get(key, ""))
    return f"{key}={param_value(value, always_quote=quote)}"


def fold(text: str) -> str:
    """icalendar's folding: a new line before the character that would make 75 octets,
    or one earlier so that a backslash or caret is not left at a line's end."""
    if len(text) < _FOLD_AT and (text.isascii() or len(text.encode("utf-8")) < _FOLD_AT):
        return text
    lines: list[str] = []
    current: list[str] = []
    count = 0
    for char in text:
        size = 1 if char < "\x80" else len(char.encode("utf-8"))
        if current and count + size >= _FOLD_AT:
            if len(current) > 1 and current[-1] in "\\^":
                carried = current.pop()
                lines.append("".join(current))
                current, count = [carried], 1
            else:
                lines.append("".join(current))
                current, count = [], 0
        current.append(char)
        count += size
    if current:
        lines.append("".join(current))
    return "\r\n ".join(lines)


def text(value: str) -> str:
    """A TEXT value escaped as icalendar escapes it (its order of replacements)."""
    return (
        value.replace(r"\N", "\n")
        .replace("\\", "\\\\")
        .replace(";", r"\;")
        .replace(",", r"\,")
        .replace("\r\n", r"\n")
        .replace("\n", r"\n")
        .replace("\r", r"\n")
    )


def date_time(moment: datetime) -> tuple[str, str | None]:
    """An aware DATE-TIME's text and its TZID (None in UTC, which is written with Z)."""
    tzid = _tzid(moment)
    digits = (
        f"{moment.year:04}{moment.month:02}{moment.day:02}"
        f"T{moment.hour:02}{moment.minute:02}{moment.second:02}"
    )
    return (digits + "Z", None) if tzid == "UTC" else (digits, tzid)


def date_text(day: date) -> str:
    return f"{day.year:04}{day.month:02}{day.day:02}"


def _tzid(moment: datetime) -> str | None:
    zone = moment.tzinfo
    found = _zone_tzid(zone) if zone is not None else None
    return found if found is not None else moment.tzname()


@lru_cache(maxsize=512)
def _zone_tzid(zone: tzinfo) -> str | None:
    found: str | None = tzid_from_tzinfo(zone)
    return found
