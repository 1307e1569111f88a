"""A recurrence rule (RFC 5545 RRULE) as a value: built from a series, stored as its
text, carried by the event spec, rendered by the iCalendar builder, cut by ending it.

Only the parts calbridge writes are known (FREQ, BYDAY, COUNT, UNTIL, WKST); anything
else is refused by name rather than dropped. UNTIL is kept in UTC: calbridge's series
have a zoned DTSTART, and RFC 5545 (3.3.10) then wants UNTIL "specified as a date with
UTC time".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime

FREQUENCIES = ("SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_BYDAY = re.compile(r"([+-]?(?:[1-9]|[1-4][0-9]|5[0-3]))?(MO|TU|WE|TH|FR|SA|SU)")
_UNTIL = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class Recurrence:
    freq: str
    byday: tuple[str, ...] = ()  # "MO", "2TU", "-1FR"
    count: int | None = None
    until: datetime | None = None  # UTC
    wkst: str | None = None

    def __post_init__(self) -> None:
        if self.freq not in FREQUENCIES:
            raise ValueError(f"RRULE FREQ={self.freq}: not a frequency ({', '.join(FREQUENCIES)})")
        bad = [d for d in self.byday if not _BYDAY.fullmatch(d)]
        if bad:
            raise ValueError(f"RRULE BYDAY={','.join(bad)}: not a weekday like MO, 2TU or -1FR")
        if self.count is not None and self.count < 1:
            raise ValueError(f"RRULE COUNT={self.count}: must be 1 or more")
        if self.count is not None and self.until is not None:
            raise ValueError("RRULE has COUNT and UNTIL: RFC 5545 allows one of them")
        if self.until is not None:
            if self.until.tzinfo is None:
                raise ValueError("RRULE UNTIL must be a UTC time (the series' start has a zone)")
            object.__setattr__(self, "until", self.until.astimezone(UTC))
        if self.wkst is not None and self.wkst not in WEEKDAYS:
            raise ValueError(f"RRULE WKST={self.wkst}: not a weekday (MO..SU)")

    @classmethod
    def parse(cls, text: str) -> Recurrence:
        """The rule an RRULE value (``FREQ=WEEKLY;BYDAY=MO;COUNT=6``) says."""
        parts: dict[str, str] = {}
        for part in filter(None, text.strip().split(";")):
            name, sep, value = part.partition("=")
            name = name.strip().upper()
            if not sep or not value.strip():
                raise ValueError(f"RRULE {text!r}: {part!r} is not NAME=VALUE")
            if name in parts:
                raise ValueError(f"RRULE {text!r}: {name} is given twice")
            parts[name] = value.strip().upper()
        unknown = sorted(set(parts) - {"FREQ", "BYDAY", "COUNT", "UNTIL", "WKST"})
        if unknown:
            raise ValueError(f"RRULE {text!r}: {', '.join(unknown)} is not supported here")
        if "FREQ" not in parts:
            raise ValueError(f"RRULE {text!r} has no FREQ")
        return cls(
            parts["FREQ"],
            tuple(d for d in parts.get("BYDAY", "").split(",") if d),
            _number(parts["COUNT"]) if "COUNT" in parts else None,
            _moment(parts["UNTIL"]) if "UNTIL" in parts else None,
            parts.get("WKST"),
        )

    def render(self) -> str:
        """The RRULE value: FREQ, BYDAY, COUNT or UNTIL, WKST (in that order)."""
        return ";".join(f"{name}={value}" for name, value in self._texts())

    def ical_parts(self) -> dict[str, list[str | int | datetime]]:
        """Part name to values, as icalendar's ``vRecur`` takes them."""
        out: dict[str, list[str | int | datetime]] = {"FREQ": [self.freq]}
        if self.byday:
            out["BYDAY"] = list(self.byday)
        if self.count is not None:
            out["COUNT"] = [self.count]
        if self.until is not None:
            out["UNTIL"] = [self.until]
        if self.wkst is not None:
            out["WKST"] = [self.wkst]
        return out

    def ended_before(self, cut: datetime) -> Recurrence:
        """The same rule ending at ``cut`` (its last possible start): UNTIL, no COUNT."""
        return replace(self, count=None, until=cut)

    def _texts(self) -> list[tuple[str, str]]:
        out = [("FREQ", self.freq)]
        if self.byday:
            out.append(("BYDAY", ",".join(self.byday)))
        if self.count is not None:
            out.append(("COUNT", str(self.count)))
        if self.until is not None:
            out.append(("UNTIL", self.until.strftime(_UNTIL)))
        if self.wkst is not None:
            out.append(("WKST", self.wkst))
        return out


def _number(text: str) -> int:
    if not text.isdigit():
        raise ValueError(f"RRULE COUNT={text}: not a number")
    return int(text)


def _moment(text: str) -> datetime:
    try:
        return datetime.strptime(text, _UNTIL).replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"RRULE UNTIL={text}: not a UTC time like 20270131T235959Z") from None
