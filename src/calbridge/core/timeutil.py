"""Parsing and arithmetic of times, dates, months and durations, all timezone-aware."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from calbridge.errors import UserError

_DURATION = re.compile(r"^\s*([0-9]+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")


def parse_duration(text: str) -> timedelta:
    """``"24h"``, ``"30m"``, ``"2d"``, ``"1w"``, ``"90s"`` -> timedelta."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration like 24h, 30m, 2d or 1w")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def localize(wall: datetime, zone: tzinfo, what: str = "time") -> datetime:
    """Attach ``zone`` to a naive wall-clock time, refusing times that do not exist there.

    A wall time that happens twice (clocks going back) takes its first occurrence.
    """
    aware = wall.replace(tzinfo=zone, fold=0)
    back = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if back != wall.replace(tzinfo=None):
        raise UserError(
            f"{what} {wall:%Y-%m-%d %H:%M} does not exist in {zone} (the clocks change then);"
            " pick another time"
        )
    return aware


def parse_time(text: str, zone: tzinfo, what: str = "time") -> datetime:
    """ISO 8601 date-time, read in ``zone`` unless it carries an offset; returns UTC."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(
            f"{what} {text!r} is not an ISO 8601 time like 2026-03-02T10:00"
            " or 2026-03-02T10:00+01:00"
        ) from None
    if value.tzinfo is None:
        value = localize(value, zone, what)
    return value.astimezone(UTC)


def parse_date(text: str, what: str = "date") -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"{what} {text!r} is not a date like 2026-03-02 (YYYY-MM-DD)") from None


def parse_month(text: str, what: str = "month") -> str:
    match = _MONTH.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise UserError(f"{what} {text!r} is not a month like 2026-03 (YYYY-MM)")
    return text.strip()


def month_of(moment: datetime, zone: tzinfo) -> str:
    """The calendar month (``YYYY-MM``) a moment falls in, seen from ``zone``."""
    return moment.astimezone(zone).strftime("%Y-%m")


def add_months(month: str, n: int) -> str:
    year, mon = (int(p) for p in month.split("-"))
    index = year * 12 + (mon - 1) + n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_bounds(month: str, zone: tzinfo) -> tuple[datetime, datetime]:
    """First instant of the month and of the next one, in UTC, as seen from ``zone``."""
    year, mon = (int(p) for p in month.split("-"))
    nxt_year, nxt_mon = (int(p) for p in add_months(month, 1).split("-"))
    start = datetime(year, mon, 1, tzinfo=zone).astimezone(UTC)
    end = datetime(nxt_year, nxt_mon, 1, tzinfo=zone).astimezone(UTC)
    return start, end


def day_start(day: date, zone: tzinfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def utcnow() -> datetime:
    return datetime.now(UTC)


def show(moment: datetime, zone: tzinfo) -> str:
    """Human form in ``zone``: ``Mon 2026-03-02 10:00``."""
    return moment.astimezone(zone).strftime("%a %Y-%m-%d %H:%M")
