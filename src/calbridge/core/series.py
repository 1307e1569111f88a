"""Expanding a series into occurrences in wall-clock time (stable across DST)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from dateutil import rrule

from calbridge.core.model import SeriesSpec
from calbridge.core.recurrence import WEEKDAYS, Recurrence
from calbridge.core.timeutil import day_start, localize
from calbridge.errors import UserError

#: A series longer than this is almost certainly a typo.
MAX_OCCURRENCES = 260
_DAYS = (rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA, rrule.SU)


def validate(spec: SeriesSpec, first: date) -> None:
    if (spec.count is None) == (spec.until is None):
        raise UserError("a series needs exactly one of --count N or --until DATE")
    if spec.repeat not in ("weekly", "monthly"):
        raise UserError(f"--repeat {spec.repeat!r}: use weekly or monthly")
    if spec.count is not None and not 1 <= spec.count <= MAX_OCCURRENCES:
        raise UserError(f"--count must be between 1 and {MAX_OCCURRENCES}")
    if spec.until is not None and spec.until < first:
        raise UserError(f"--until {spec.until} is before the first session on {first}")
    if spec.weekdays and first.weekday() not in spec.weekdays:
        days = ",".join(WEEKDAYS[d].lower() for d in spec.weekdays)
        raise UserError(
            f"--start falls on a {first:%A} but --on is {days}: start on one of those days"
        )


def _ordinal(day: date) -> int:
    """Which weekday-of-month ``day`` is: 1..4, or -1 for the last one."""
    nth = (day.day - 1) // 7 + 1
    return -1 if nth == 5 else nth


def rule(spec: SeriesSpec, first: datetime) -> rrule.rrule:
    """The dateutil rule for ``spec``, anchored at the naive wall-clock ``first``."""
    days = spec.weekdays or (first.weekday(),)
    if spec.repeat == "weekly":
        byday = [_DAYS[d] for d in days]
    else:
        byday = [_DAYS[d](_ordinal(first.date())) for d in days]
    until = datetime.combine(spec.until, time.max) if spec.until else None
    count = spec.count if spec.count is not None else None
    freq: Literal[2, 1] = rrule.WEEKLY if spec.repeat == "weekly" else rrule.MONTHLY
    return rrule.rrule(
        freq, dtstart=first, byweekday=byday, count=count, until=until, wkst=rrule.MO
    )


def expand(spec: SeriesSpec, start: datetime, zone: ZoneInfo) -> list[datetime]:
    """Occurrence starts in UTC; each keeps ``start``'s local wall-clock time."""
    wall = start.astimezone(zone).replace(tzinfo=None)
    validate(spec, wall.date())
    starts: list[datetime] = []
    for occurrence in rule(spec, wall):
        if len(starts) >= MAX_OCCURRENCES:
            raise UserError(f"the series has more than {MAX_OCCURRENCES} occurrences; shorten it")
        starts.append(localize(occurrence, zone, "occurrence").astimezone(UTC))
    return starts


def recurrence(spec: SeriesSpec, first: datetime, zone: ZoneInfo) -> Recurrence:
    """The RFC 5545 rule for ``spec`` starting at ``first`` (UNTIL: the end of the until
    day in ``zone``, in UTC as RFC 5545 requires with a zoned DTSTART)."""
    wall = first.astimezone(zone)
    days = spec.weekdays or (wall.weekday(),)
    nth = "" if spec.repeat == "weekly" else str(_ordinal(wall.date()))
    until = None
    if spec.until is not None:
        until = day_start(spec.until + timedelta(days=1), zone) - timedelta(seconds=1)
    freq = "WEEKLY" if spec.repeat == "weekly" else "MONTHLY"
    byday = tuple(f"{nth}{WEEKDAYS[d]}" for d in days)
    return Recurrence(freq, byday, spec.count, until, "MO")


def rrule_text(spec: SeriesSpec, first: datetime, zone: ZoneInfo) -> str:
    """The RRULE value of ``recurrence`` (what the series row stores)."""
    return recurrence(spec, first, zone).render()


def parse_weekdays(text: str) -> tuple[int, ...]:
    """``"mon,wed"`` -> (0, 2)."""
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    full = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    days = []
    for part in filter(None, (p.strip().lower() for p in text.split(","))):
        if part in names or part in full:
            days.append(names.index(part[:3]))
        else:
            raise UserError(f"--on {text!r}: {part!r} is not a weekday (use mon,tue,...,sun)")
    return tuple(sorted(set(days)))
