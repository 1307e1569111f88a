"""Caps on the work one calendar resource may cost, checked before and while reading it.

A resource bigger than ``resource_kb`` or longer than ``resource_lines`` content lines,
or with one VEVENT longer than ``lines`` (5,000 ATTENDEEs, 10,000 EXDATEs), is refused by
counting bytes, before any parsing; a repeat rule that would make the expansion step
through more than ``rule_steps`` candidate times (FREQ=SECONDLY without an end, say) is
refused before it is expanded; an expansion stops at ``occurrences`` + 1 occurrences.
Each refusal is a ``PastCap`` (a ``MalformedEvent``) naming the UID and the cap. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from typing import Any, TypeVar

from calbridge.ical.model import MalformedEvent

T = TypeVar("T")
_UID = re.compile(rb"^UID[;:]([^\r\n]*)", re.MULTILINE)
# One period of each FREQ, in seconds (a month and a year on average).
_PERIOD = {
    "SECONDLY": 1,
    "MINUTELY": 60,
    "HOURLY": 3600,
    "DAILY": 86400,
    "WEEKLY": 604800,
    "MONTHLY": 2629746,
    "YEARLY": 31556952,
}
# BY parts that can make one period give more than one candidate time.
# (BYMONTH expands a YEARLY rule and filters finer ones: counting it can only overestimate.)
_EXPANDING = (
    "BYSECOND",
    "BYMINUTE",
    "BYHOUR",
    "BYDAY",
    "BYMONTHDAY",
    "BYYEARDAY",
    "BYWEEKNO",
    "BYMONTH",
)


@dataclass(frozen=True)
class Bounds:
    """The caps (``[sync.bounds]``); the defaults are the documented ones."""

    occurrences: int = 5000
    window_days: int = 400
    rule_steps: int = 100_000
    resource_kb: int = 1024
    lines: int = 2000
    resource_lines: int = 20000
    feed_kb: int = 20480


DEFAULT = Bounds()


class PastCap(MalformedEvent):
    """A resource, feed or expansion past one of the caps of ``Bounds``."""


def uid_in(data: bytes) -> str:
    """The first UID line of raw data, found without parsing (for messages)."""
    match = _UID.search(data)
    return match.group(1).decode("utf-8", "replace").strip() if match else "?"


def content_lines(data: bytes, start: int = 0, end: int | None = None) -> int:
    """Content lines of ``data[start:end]`` once unfolded: line ends not followed by a
    folding space or tab (counted in place, without copying)."""
    end = len(data) if end is None else end
    ends = data.count(b"\n", start, end) + (data[end - 1 : end] != b"\n")
    return ends - data.count(b"\n ", start, end) - data.count(b"\n\t", start, end)


def longest_event(data: bytes) -> int:
    """The content lines of the longest VEVENT in ``data`` (its VALARMs included)."""
    longest, at = 0, 0
    while (begin := data.find(b"BEGIN:VEVENT", at)) >= 0:
        end = data.find(b"END:VEVENT", begin)
        end = len(data) if end < 0 else end
        longest = max(longest, content_lines(data, begin, end) + 1)
        at = end + 1
    return longest


def check_resource(data: bytes, bounds: Bounds) -> None:
    """Raise ``PastCap`` if one resource is too big or too long to be parsed at all."""
    size = len(data)
    if size > bounds.resource_kb * 1024:
        raise PastCap(
            f"event {uid_in(data)} is {size // 1024} KB, past the cap of"
            f" {bounds.resource_kb} KB ([sync.bounds] resource_kb)"
        )
    lines = content_lines(data)
    if lines > bounds.resource_lines:
        raise PastCap(
            f"event {uid_in(data)} has {lines} lines, past the cap of"
            f" {bounds.resource_lines} ([sync.bounds] resource_lines)"
        )
    lines = longest_event(data)
    if lines > bounds.lines:
        raise PastCap(
            f"event {uid_in(data)} has a VEVENT of {lines} lines, past the cap of"
            f" {bounds.lines} ([sync.bounds] lines)"
        )


def check_feed(data: bytes, bounds: Bounds) -> None:
    if len(data) > bounds.feed_kb * 1024:
        raise PastCap(
            f"the feed is {len(data) // 1024} KB, past the cap of {bounds.feed_kb} KB"
            " ([sync.bounds] feed_kb)"
        )


def check_rules(uid: str, rules: Iterable[tuple[Any, date]], end: datetime, bounds: Bounds) -> None:
    """Raise ``PastCap`` if expanding ``(RRULE value, DTSTART)`` pairs up to ``end`` would
    step through more candidate times than ``rule_steps`` (the expansion starts at DTSTART,
    however far before the window it is)."""
    for rule, start in rules:
        steps = rule_steps(rule, start, end)
        if steps > bounds.rule_steps:
            raise PastCap(
                f"event {uid}: its repeat rule ({rule.to_ical().decode()}) needs about"
                f" {steps:,} steps to expand, past the cap of {bounds.rule_steps:,}"
                " ([sync.bounds] rule_steps)"
            )


def rule_steps(rule: Any, start: date, end: datetime) -> int:
    """About how many candidate times dateutil generates for ``rule`` from ``start`` to
    ``end``: periods of FREQ (times INTERVAL) up to UNTIL or ``end``, times the candidates
    each BY part adds per period. COUNT lowers it only for a rule with no BY part."""
    freq = str(_first(rule, "FREQ", "DAILY")).upper()
    interval = max(1, int(_first(rule, "INTERVAL", 1)))
    stop = end
    until = _first(rule, "UNTIL", None)
    if isinstance(until, date):
        stop = min(stop, _as_datetime(until, end.tzinfo))
    seconds = (stop - _as_datetime(start, end.tzinfo)).total_seconds()
    periods = max(0, int(seconds // (_PERIOD.get(freq, 1) * interval))) + 1
    per_period = 1
    for part in _EXPANDING:
        per_period *= max(1, len(rule.get(part, ())))
    count = _first(rule, "COUNT", None)
    if count is not None and not any(p.startswith("BY") for p in rule):
        periods = min(periods, int(count))
    return periods * per_period


def counted(items: Iterable[T], cap: int, uid: str) -> Iterator[T]:
    """``items``, raising ``PastCap`` at the one past ``cap`` (so work stops there)."""
    for n, item in enumerate(items, 1):
        if n > cap:
            raise PastCap(
                f"event {uid} has more than {cap} occurrences in the window read"
                " ([sync.bounds] occurrences)"
            )
        yield item


def _first(rule: Any, name: str, default: Any) -> Any:
    values = rule.get(name)
    if values is None:
        return default
    return values[0] if isinstance(values, list | tuple) and values else values


def _as_datetime(moment: date, zone: tzinfo | None) -> datetime:
    if not isinstance(moment, datetime):
        return datetime.combine(moment, time(), zone)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)
