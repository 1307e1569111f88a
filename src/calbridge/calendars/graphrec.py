"""RRULE <-> Graph's patternedRecurrence (pure).

Graph's pattern types (recurrencePattern): daily, weekly (daysOfWeek), absoluteMonthly
(dayOfMonth), relativeMonthly (daysOfWeek + index), absoluteYearly, relativeYearly; its
range (recurrenceRange): endDate, numbered, noEnd, with startDate and recurrenceTimeZone in
the DTSTART's IANA zone, so a weekly 10:00 stays 10:00 across clock changes. An RRULE Graph
cannot say is refused by name.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import vRecur

DAYS = {
    "MO": "monday",
    "TU": "tuesday",
    "WE": "wednesday",
    "TH": "thursday",
    "FR": "friday",
    "SA": "saturday",
    "SU": "sunday",
}
ICAL_DAYS = {v: k for k, v in DAYS.items()}
INDEX = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}
ICAL_INDEX = {v: k for k, v in INDEX.items()}


class RecurrenceError(ValueError):
    """An RRULE that Graph's recurrence patterns cannot express."""


def occurrence_key(value: date | datetime) -> str:
    """A stable key for one occurrence's original start (UTC)."""
    if not isinstance(value, datetime):
        return value.strftime("%Y%m%d")
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y%m%dT%H%M%SZ")


def _local_date(value: date | datetime, zone: Any) -> date:
    if isinstance(value, datetime):
        return (value.astimezone(zone) if value.tzinfo else value).date()
    return value


def pattern_of(rule: vRecur, start: date | datetime, zone: str = "UTC") -> dict[str, Any]:
    """Graph's recurrence for ``rule``, expanded in ``zone`` (the DTSTART's IANA zone)."""
    freq = str(rule.get("FREQ", [""])[0]).upper()
    interval = int(rule.get("INTERVAL", [1])[0])
    days = [str(d) for d in rule.get("BYDAY", [])]
    pattern: dict[str, Any] = {"interval": interval, "firstDayOfWeek": "monday"}
    tz = UTC if zone == "UTC" else ZoneInfo(zone)
    first = _local_date(start, tz)
    unknown = set(rule) - {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "COUNT", "UNTIL", "WKST"}
    if unknown:
        raise RecurrenceError(f"RRULE parts Graph has no pattern for: {', '.join(sorted(unknown))}")
    if freq == "DAILY":
        pattern["type"] = "daily"
    elif freq == "WEEKLY":
        pattern["type"] = "weekly"
        plain = [d[-2:] for d in days] or [list(DAYS)[first.weekday()]]
        pattern["daysOfWeek"] = [DAYS[d] for d in plain]
    elif freq == "MONTHLY" and days:
        index, day = int(days[0][:-2] or 1), days[0][-2:]
        if index not in INDEX:
            raise RecurrenceError(f"BYDAY={days[0]}: Graph knows first..fourth and last")
        pattern.update(type="relativeMonthly", daysOfWeek=[DAYS[day]], index=INDEX[index])
    elif freq == "MONTHLY":
        pattern.update(
            type="absoluteMonthly", dayOfMonth=int(rule.get("BYMONTHDAY", [first.day])[0])
        )
    elif freq == "YEARLY":
        pattern.update(type="absoluteYearly", dayOfMonth=first.day, month=first.month)
    else:
        raise RecurrenceError(f"FREQ={freq}: Graph has no such recurrence pattern")
    rng: dict[str, Any] = {"startDate": first.isoformat(), "recurrenceTimeZone": zone}
    if "COUNT" in rule:
        rng.update(type="numbered", numberOfOccurrences=int(rule["COUNT"][0]))
    elif "UNTIL" in rule:
        rng.update(type="endDate", endDate=_local_date(rule["UNTIL"][0], tz).isoformat())
    else:
        rng["type"] = "noEnd"
    return {"pattern": pattern, "range": rng}


def rrule_of(recurrence: dict[str, Any]) -> vRecur:
    pattern, rng = recurrence["pattern"], recurrence["range"]
    kind = pattern["type"]
    rule: dict[str, Any] = {"INTERVAL": int(pattern.get("interval", 1))}
    days = [ICAL_DAYS[d] for d in pattern.get("daysOfWeek", [])]
    if kind == "daily":
        rule["FREQ"] = "DAILY"
    elif kind == "weekly":
        rule.update(FREQ="WEEKLY", BYDAY=days)
    elif kind == "absoluteMonthly":
        rule.update(FREQ="MONTHLY", BYMONTHDAY=int(pattern["dayOfMonth"]))
    elif kind == "relativeMonthly":
        rule.update(FREQ="MONTHLY", BYDAY=[f"{ICAL_INDEX[pattern.get('index', 'first')]}{days[0]}"])
    else:
        rule["FREQ"] = "YEARLY"
    if rng.get("type") == "numbered":
        rule["COUNT"] = int(rng["numberOfOccurrences"])
    elif rng.get("type") == "endDate":
        end = date.fromisoformat(rng["endDate"])
        name = rng.get("recurrenceTimeZone") or "UTC"
        try:
            zone: Any = UTC if name == "UTC" else ZoneInfo(name)
        except (ValueError, ZoneInfoNotFoundError):
            zone = UTC
        last = datetime(end.year, end.month, end.day, 23, 59, 59, tzinfo=zone)
        rule["UNTIL"] = last.astimezone(UTC)
    return vRecur(rule)
