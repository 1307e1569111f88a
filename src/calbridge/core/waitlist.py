"""Who on the waitlist is offered a freed time, and in what order (pure: no I/O).

A wish names a coach and, optionally, weekdays (``--on mon,wed``) and a daily window
(``--between 09:00-12:00``), both read in the coach's timezone. A freed time goes to the
first ``OFFER_TO`` wishes, oldest first, that fit it and whose client still has room in
the time's month; a client is offered one time per round, and the times given out in a
round never overlap.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from calbridge.core.timeutil import month_of
from calbridge.errors import UserError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_NAMES = dict(zip(DAYS, DAYS, strict=True)) | dict(zip(_FULL, DAYS, strict=True))
#: How many waitlisted clients one freed time is offered to at once (first to accept wins).
OFFER_TO = 3
_WINDOW = re.compile(r"^\s*([0-9]{1,2}):([0-9]{2})\s*-\s*([0-9]{1,2}):([0-9]{2})\s*$")

Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class Wish:
    id: int
    client_id: str
    coach_id: str
    added: datetime
    days: frozenset[int] = field(default_factory=frozenset)  # Monday is 0; empty: any day
    window: tuple[time, time] | None = None  # None: any time of the coach's day


def parse_days(text: str) -> frozenset[int]:
    """``"mon,wed"`` -> {0, 2}; a clear error naming ``--on`` otherwise."""
    names = [_NAMES.get(n.strip().lower(), "") for n in text.split(",")]
    if not text.strip() or not all(names):
        raise UserError(
            f"--on {text!r}: give weekdays separated by commas, like mon,wed"
            f" (one of {','.join(DAYS)})"
        )
    return frozenset(DAYS.index(n) for n in names)


def parse_window(text: str) -> tuple[time, time]:
    """``"09:00-12:30"`` -> (09:00, 12:30); the window must not wrap past midnight."""
    match = _WINDOW.match(text)
    problem = f"--between {text!r}: give a daily window like 09:00-12:00"
    if not match:
        raise UserError(problem)
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
        raise UserError(f"{problem} (hours 00-24, minutes 00-59)")
    end = time.max if h2 == 24 else time(h2, m2)
    if (h1, m1) >= (h2, m2):
        raise UserError(f"{problem} (the window must end after it starts, on the same day)")
    return time(h1, m1), end


def show_days(days: Collection[int]) -> str:
    return ",".join(DAYS[d] for d in sorted(days))


def show_window(window: tuple[time, time] | None) -> str:
    if window is None:
        return ""
    end = "24:00" if window[1] == time.max else f"{window[1]:%H:%M}"
    return f"{window[0]:%H:%M}-{end}"


def fits(wish: Wish, start: datetime, end: datetime, zone: ZoneInfo) -> bool:
    """The time lies on one of the wish's days and wholly inside its window (local)."""
    local, local_end = start.astimezone(zone), end.astimezone(zone)
    if wish.days and local.weekday() not in wish.days:
        return False
    if wish.window is None:
        return True
    low, high = wish.window
    if local_end.date() != local.date():
        return high == time.max and local_end.time() == time(0) and low <= local.time()
    return low <= local.time() and local_end.time() <= high and end > start


def _order(wishes: Sequence[Wish]) -> list[Wish]:
    return sorted(wishes, key=lambda w: (w.added, w.id))


def choose(
    wishes: Sequence[Wish],
    coach_id: str,
    span: Span,
    zone: ZoneInfo,
    full: Collection[tuple[str, str]] = (),
    busy_clients: Collection[str] = (),
    count: int = OFFER_TO,
    before: Collection[tuple[str, datetime]] = (),
) -> list[Wish]:
    """The first ``count`` wishes, oldest first, one per client, that fit ``span``.

    ``full``: (client, month) pairs whose monthly limit has no room left;
    ``busy_clients``: clients not to offer anything now (an open waitlist offer);
    ``before``: (client, start) pairs already offered once (let go or expired)."""
    month = month_of(span[0], zone)
    chosen: list[Wish] = []
    seen: set[str] = set(busy_clients)
    for wish in _order(wishes):
        if len(chosen) >= count:
            break
        if wish.coach_id != coach_id or wish.client_id in seen:
            continue
        if (wish.client_id, month) in full or (wish.client_id, span[0]) in before:
            continue
        if not fits(wish, *span, zone):
            continue
        chosen.append(wish)
        seen.add(wish.client_id)
    return chosen


def assign(
    wishes: Sequence[Wish],
    coach_id: str,
    spans: Sequence[Span],
    zone: ZoneInfo,
    full: Collection[tuple[str, str]] = (),
    busy_clients: Collection[str] = (),
    count: int = OFFER_TO,
    before: Collection[tuple[str, datetime]] = (),
) -> list[tuple[Span, list[Wish]]]:
    """Several freed times (a removed closure): earliest first, each to the first fitting
    wishes not yet served this round; a time overlapping one already given out is skipped."""
    served: set[str] = set(busy_clients)
    given: list[Span] = []
    out: list[tuple[Span, list[Wish]]] = []
    for span in sorted(spans):
        if any(s < span[1] and span[0] < e for s, e in given):
            continue
        picked = choose(wishes, coach_id, span, zone, full, served, count, before)
        if picked:
            out.append((span, picked))
            given.append(span)
            served.update(w.client_id for w in picked)
    return out
