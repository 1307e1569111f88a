"""When a coach is free (PRODUCT rule 2): working hours minus everything that is busy."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from calbridge.core.model import Closure
from calbridge.core.timeutil import day_start, show

Hours = Mapping[int, Sequence[tuple[time, time]]]


@dataclass(frozen=True)
class Busy:
    """A span the coach cannot be booked in; ``hard`` ones (closures) no override lifts."""

    start: datetime
    end: datetime
    what: str
    hard: bool = False

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


def closure_busy(closure: Closure, zone: ZoneInfo) -> Busy:
    """A closure blocks whole local days, first to last inclusive."""
    return Busy(
        day_start(closure.start, zone),
        day_start(closure.end + timedelta(days=1), zone),
        f"closure {closure.start}..{closure.end} ({closure.reason})",
        hard=True,
    )


def working_spans(hours: Hours, zone: ZoneInfo, first: date, last: date) -> list[Busy]:
    """The coach's working spans from local day ``first`` to ``last``, touching ones joined."""
    spans: list[Busy] = []
    day = first
    while day <= last:
        for begin, finish in hours.get(day.weekday(), ()):
            start = datetime.combine(day, begin, zone)
            end = (
                datetime.combine(day + timedelta(days=1), time(), zone)
                if finish == time.max
                else datetime.combine(day, finish, zone)
            )
            spans.append(Busy(start.astimezone(UTC), end.astimezone(UTC), "working hours"))
        day += timedelta(days=1)
    return _merge(spans)


def _merge(spans: list[Busy]) -> list[Busy]:
    merged: list[Busy] = []
    for span in sorted(spans, key=lambda b: b.start):
        if merged and span.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Busy(last.start, max(last.end, span.end), last.what)
        else:
            merged.append(span)
    return merged


def within_hours(start: datetime, end: datetime, hours: Hours, zone: ZoneInfo) -> bool:
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    return any(s.start <= start and end <= s.end for s in working_spans(hours, zone, first, last))


@dataclass(frozen=True)
class Conflicts:
    outside_hours: bool
    busy: tuple[Busy, ...]

    @property
    def hard(self) -> tuple[Busy, ...]:
        return tuple(b for b in self.busy if b.hard)

    def __bool__(self) -> bool:
        return self.outside_hours or bool(self.busy)

    def describe(self, zone: ZoneInfo) -> str:
        reasons = ["outside working hours"] if self.outside_hours else []
        reasons += [f"{b.what} ({show(b.start, zone)}-{show(b.end, zone)[-5:]})" for b in self.busy]
        return "; ".join(reasons)


def conflicts(
    start: datetime, end: datetime, hours: Hours, zone: ZoneInfo, busy: Iterable[Busy]
) -> Conflicts:
    return Conflicts(
        outside_hours=not within_hours(start, end, hours, zone),
        busy=tuple(b for b in busy if b.overlaps(start, end)),
    )


def free_slots(
    window: tuple[datetime, datetime],
    hours: Hours,
    zone: ZoneInfo,
    busy: Sequence[Busy],
    duration: timedelta,
    step: timedelta,
) -> list[tuple[datetime, datetime]]:
    """Non-overlapping free slots of ``duration`` starting on a ``step`` grid of each span.

    After a slot, the next candidate is the first grid point at or after its end.
    """
    begin, finish = window
    first = begin.astimezone(zone).date() - timedelta(days=1)
    last = finish.astimezone(zone).date() + timedelta(days=1)
    ordered = sorted(busy, key=lambda b: b.start)
    after_slot = step * -(-duration // step)  # duration rounded up to whole steps
    slots: list[tuple[datetime, datetime]] = []
    for span in working_spans(hours, zone, first, last):
        cursor = span.start
        while cursor + duration <= span.end:
            end = cursor + duration
            if cursor >= begin and end <= finish and not _hit(ordered, cursor, end):
                slots.append((cursor, end))
                cursor += after_slot
            else:
                cursor += step
    return slots


def _hit(ordered: Sequence[Busy], start: datetime, end: datetime) -> bool:
    for busy in ordered:
        if busy.start >= end:
            return False
        if busy.overlaps(start, end):
            return True
    return False
