"""Unit tests of calbridge.core.availability: working hours, conflicts and free slots."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calbridge.config.schema import parse_hours
from calbridge.core.availability import (
    Busy,
    Hours,
    closure_busy,
    conflicts,
    free_slots,
    within_hours,
    working_spans,
)
from calbridge.core.model import Closure

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone).astimezone(UTC)


def hours(**days: str) -> Hours:
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    return {names.index(day): parse_hours(spec) for day, spec in days.items()}


WEEKDAYS_9_TO_5 = hours(
    mon="09:00-17:00", tue="09:00-17:00", wed="09:00-17:00", thu="09:00-17:00", fri="09:00-17:00"
)
EVERY_DAY_9_TO_11 = {d: parse_hours("09:00-11:00") for d in range(7)}


def spans(found: list[Busy]) -> list[tuple[datetime, datetime]]:
    return [(b.start, b.end) for b in found]


# --- working_spans ------------------------------------------------------------------------


def test_working_spans_in_winter_and_summer() -> None:
    week = working_spans(WEEKDAYS_9_TO_5, LONDON, date(2026, 3, 23), date(2026, 4, 5))
    assert len(week) == 10  # Mon-Fri twice, nothing at weekends
    assert (week[0].start, week[0].end) == (utc(2026, 3, 23, 9), utc(2026, 3, 23, 17))
    assert (week[5].start, week[5].end) == (utc(2026, 3, 30, 8), utc(2026, 3, 30, 16))  # BST
    assert all(b.what == "working hours" and not b.hard for b in week)
    assert all(b.start.utcoffset() == timedelta(0) for b in week)


def test_working_spans_split_day_and_closed_days() -> None:
    found = working_spans(
        hours(mon="09:00-12:00, 13:00-17:00", tue=""), NEW_YORK, date(2026, 3, 2), date(2026, 3, 3)
    )
    assert spans(found) == [
        (utc(2026, 3, 2, 14), utc(2026, 3, 2, 17)),
        (utc(2026, 3, 2, 18), utc(2026, 3, 2, 22)),
    ]


def test_working_spans_empty_when_last_before_first() -> None:
    assert working_spans(WEEKDAYS_9_TO_5, LONDON, date(2026, 3, 3), date(2026, 3, 2)) == []


@pytest.mark.parametrize(
    ("zone", "day", "length"),
    [
        (LONDON, date(2026, 3, 29), timedelta(hours=23)),
        (LONDON, date(2026, 10, 25), timedelta(hours=25)),
        (NEW_YORK, date(2026, 3, 8), timedelta(hours=23)),
        (NEW_YORK, date(2026, 11, 1), timedelta(hours=25)),
        (LONDON, date(2028, 2, 29), timedelta(hours=24)),
    ],
)
def test_working_spans_whole_day_follows_dst(zone: ZoneInfo, day: date, length: timedelta) -> None:
    whole = {day.weekday(): parse_hours("00:00-24:00")}
    (span,) = working_spans(whole, zone, day, day)
    assert span.start == datetime.combine(day, time(), zone).astimezone(UTC)
    assert span.end - span.start == length
    assert span.end.astimezone(zone).replace(tzinfo=None) == datetime.combine(
        day + timedelta(days=1), time()
    )


def test_working_spans_on_dst_sunday_keep_local_times() -> None:
    sunday = hours(sun="09:00-17:00")
    (spring,) = working_spans(sunday, LONDON, date(2026, 3, 29), date(2026, 3, 29))
    (autumn,) = working_spans(sunday, LONDON, date(2026, 10, 25), date(2026, 10, 25))
    assert (spring.start, spring.end) == (utc(2026, 3, 29, 8), utc(2026, 3, 29, 16))
    assert (autumn.start, autumn.end) == (utc(2026, 10, 25, 9), utc(2026, 10, 25, 17))


# --- within_hours -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "inside"),
    [
        (local(LONDON, 2026, 3, 2, 10), local(LONDON, 2026, 3, 2, 11), True),
        (local(LONDON, 2026, 3, 2, 9), local(LONDON, 2026, 3, 2, 17), True),  # exactly the span
        (local(LONDON, 2026, 3, 2, 16, 30), local(LONDON, 2026, 3, 2, 17, 30), False),  # past end
        (local(LONDON, 2026, 3, 2, 8, 30), local(LONDON, 2026, 3, 2, 9, 30), False),
        (local(LONDON, 2026, 3, 2, 17), local(LONDON, 2026, 3, 2, 18), False),
        (local(LONDON, 2026, 3, 7, 10), local(LONDON, 2026, 3, 7, 11), False),  # Saturday
        (local(LONDON, 2026, 3, 2, 16), local(LONDON, 2026, 3, 3, 10), False),  # overnight
        # BST: 09:00Z on Monday 30 March is 10:00 local.
        (utc(2026, 3, 30, 8), utc(2026, 3, 30, 9), True),
        (utc(2026, 3, 30, 7, 30), utc(2026, 3, 30, 8, 30), False),
        (utc(2026, 3, 30, 15, 30), utc(2026, 3, 30, 16, 30), False),
        (utc(2026, 10, 26, 16), utc(2026, 10, 26, 17), True),  # GMT again
    ],
)
def test_within_hours(start: datetime, end: datetime, inside: bool) -> None:
    assert within_hours(start, end, WEEKDAYS_9_TO_5, LONDON) is inside


def test_within_hours_lunch_break() -> None:
    split = hours(mon="09:00-12:00,13:00-17:00")
    assert within_hours(local(LONDON, 2026, 3, 2, 11), local(LONDON, 2026, 3, 2, 12), split, LONDON)
    assert within_hours(local(LONDON, 2026, 3, 2, 13), local(LONDON, 2026, 3, 2, 14), split, LONDON)
    assert not within_hours(
        local(LONDON, 2026, 3, 2, 11, 30), local(LONDON, 2026, 3, 2, 12, 30), split, LONDON
    )


def test_within_hours_no_hours_at_all() -> None:
    assert not within_hours(utc(2026, 3, 2, 10), utc(2026, 3, 2, 11), {}, LONDON)


@pytest.mark.parametrize(
    ("spec", "start", "end"),
    [
        # Two ranges that touch make one stretch of working time.
        (
            hours(mon="09:00-12:00,12:00-17:00"),
            local(LONDON, 2026, 3, 2, 11, 30),
            local(LONDON, 2026, 3, 2, 12, 30),
        ),
        # Working round the clock on Monday and Tuesday: a session across midnight is inside.
        (
            hours(mon="00:00-24:00", tue="00:00-24:00"),
            local(LONDON, 2026, 3, 2, 23, 30),
            local(LONDON, 2026, 3, 3, 0, 30),
        ),
    ],
)
def test_within_hours_across_touching_ranges(spec: Hours, start: datetime, end: datetime) -> None:
    assert within_hours(start, end, spec, LONDON)


# --- closures ---------------------------------------------------------------------------


def test_closure_covers_whole_local_days_inclusive() -> None:
    busy = closure_busy(Closure(date(2026, 12, 24), date(2026, 12, 26), "holidays"), LONDON)
    assert busy.hard
    assert (busy.start, busy.end) == (utc(2026, 12, 24), utc(2026, 12, 27))
    assert "holidays" in busy.what
    assert busy.overlaps(utc(2026, 12, 26, 23, 0), utc(2026, 12, 26, 23, 59))
    assert not busy.overlaps(utc(2026, 12, 27), utc(2026, 12, 27, 1))
    assert not busy.overlaps(utc(2026, 12, 23, 23), utc(2026, 12, 24))


@pytest.mark.parametrize(
    ("zone", "first", "last", "start", "end"),
    [
        (LONDON, date(2026, 3, 29), date(2026, 3, 29), utc(2026, 3, 29), utc(2026, 3, 29, 23)),
        (LONDON, date(2026, 3, 27), date(2026, 4, 1), utc(2026, 3, 27), utc(2026, 4, 1, 23)),
        (LONDON, date(2026, 10, 25), date(2026, 10, 25), utc(2026, 10, 24, 23), utc(2026, 10, 26)),
        (NEW_YORK, date(2026, 11, 1), date(2026, 11, 1), utc(2026, 11, 1, 4), utc(2026, 11, 2, 5)),
        (NEW_YORK, date(2026, 3, 8), date(2026, 3, 9), utc(2026, 3, 8, 5), utc(2026, 3, 10, 4)),
        (LONDON, date(2028, 2, 28), date(2028, 2, 29), utc(2028, 2, 28), utc(2028, 3, 1)),
    ],
)
def test_closure_bounds_across_dst(
    zone: ZoneInfo, first: date, last: date, start: datetime, end: datetime
) -> None:
    busy = closure_busy(Closure(first, last, "closed"), zone)
    assert (busy.start, busy.end) == (start, end)


# --- conflicts --------------------------------------------------------------------------


def test_no_conflicts_is_falsy() -> None:
    found = conflicts(
        local(LONDON, 2026, 3, 2, 10), local(LONDON, 2026, 3, 2, 11), WEEKDAYS_9_TO_5, LONDON, []
    )
    assert not found
    assert not found.outside_hours
    assert found.busy == ()
    assert found.hard == ()
    assert found.describe(LONDON) == ""


def test_conflicts_with_overlapping_busy_only() -> None:
    meeting = Busy(local(LONDON, 2026, 3, 2, 10, 30), local(LONDON, 2026, 3, 2, 11, 30), "team")
    before = Busy(local(LONDON, 2026, 3, 2, 9), local(LONDON, 2026, 3, 2, 10), "session #1")
    after = Busy(local(LONDON, 2026, 3, 2, 11), local(LONDON, 2026, 3, 2, 12), "session #2")
    found = conflicts(
        local(LONDON, 2026, 3, 2, 10),
        local(LONDON, 2026, 3, 2, 11),
        WEEKDAYS_9_TO_5,
        LONDON,
        [before, meeting, after],
    )
    assert found
    assert found.busy == (meeting,)  # touching spans do not conflict
    assert not found.outside_hours
    assert found.hard == ()
    assert "team" in found.describe(LONDON)
    assert "10:30" in found.describe(LONDON)


def test_conflicts_outside_hours_only() -> None:
    start, end = local(LONDON, 2026, 3, 2, 16, 30), local(LONDON, 2026, 3, 2, 17, 30)
    found = conflicts(start, end, WEEKDAYS_9_TO_5, LONDON, [])
    assert found
    assert found.outside_hours
    assert found.busy == ()
    assert "outside working hours" in found.describe(LONDON)


def test_closure_conflict_is_hard() -> None:
    closure = closure_busy(Closure(date(2026, 3, 30), date(2026, 4, 3), "training"), LONDON)
    session = Busy(utc(2026, 3, 31, 9), utc(2026, 3, 31, 10), "session #7")
    start, end = utc(2026, 3, 31, 9, 30), utc(2026, 3, 31, 10, 30)
    found = conflicts(start, end, WEEKDAYS_9_TO_5, LONDON, [session, closure])
    assert found.busy == (session, closure)
    assert found.hard == (closure,)
    assert not found.outside_hours
    # The last day of the closure is still closed, in local time (BST).
    last_evening = conflicts(
        utc(2026, 4, 3, 22), utc(2026, 4, 3, 22, 59), WEEKDAYS_9_TO_5, LONDON, [closure]
    )
    assert last_evening.hard == (closure,)
    day_after = conflicts(
        utc(2026, 4, 3, 23), utc(2026, 4, 4, 0), WEEKDAYS_9_TO_5, LONDON, [closure]
    )
    assert day_after.busy == ()


# --- free_slots ---------------------------------------------------------------------------


def local_starts(slots: list[tuple[datetime, datetime]], zone: ZoneInfo) -> list[datetime]:
    return [s.astimezone(zone).replace(tzinfo=None) for s, _ in slots]


def test_free_slots_on_the_grid_of_each_span() -> None:
    window = (local(LONDON, 2026, 3, 2, 0), local(LONDON, 2026, 3, 3, 0))
    slots = free_slots(window, hours(mon="09:00-12:00"), LONDON, [], HOUR, HOUR)
    assert slots == [
        (utc(2026, 3, 2, 9), utc(2026, 3, 2, 10)),
        (utc(2026, 3, 2, 10), utc(2026, 3, 2, 11)),
        (utc(2026, 3, 2, 11), utc(2026, 3, 2, 12)),
    ]


def test_free_slots_skip_busy_by_step() -> None:
    window = (local(LONDON, 2026, 3, 2, 0), local(LONDON, 2026, 3, 3, 0))
    busy = [Busy(local(LONDON, 2026, 3, 2, 10, 15), local(LONDON, 2026, 3, 2, 10, 45), "x")]
    slots = free_slots(window, hours(mon="09:00-13:00"), LONDON, busy, HOUR, 15 * MIN)
    assert local_starts(slots, LONDON) == [
        datetime(2026, 3, 2, 9, 0),
        datetime(2026, 3, 2, 10, 45),
        datetime(2026, 3, 2, 11, 45),
    ]


def test_free_slots_unsorted_busy_and_lunch_break() -> None:
    window = (local(NEW_YORK, 2026, 3, 2, 0), local(NEW_YORK, 2026, 3, 3, 0))
    busy = [
        Busy(local(NEW_YORK, 2026, 3, 2, 15), local(NEW_YORK, 2026, 3, 2, 16), "late"),
        Busy(local(NEW_YORK, 2026, 3, 2, 9), local(NEW_YORK, 2026, 3, 2, 10), "early"),
    ]
    slots = free_slots(window, hours(mon="09:00-12:00,13:00-17:00"), NEW_YORK, busy, HOUR, 30 * MIN)
    assert local_starts(slots, NEW_YORK) == [datetime(2026, 3, 2, h) for h in (10, 11, 13, 14, 16)]


def test_free_slots_respect_window() -> None:
    window = (local(LONDON, 2026, 3, 2, 10, 30), local(LONDON, 2026, 3, 3, 10))
    slots = free_slots(window, WEEKDAYS_9_TO_5, LONDON, [], HOUR, 30 * MIN)
    starts = local_starts(slots, LONDON)
    assert starts[0] == datetime(2026, 3, 2, 10, 30)
    assert starts[-1] == datetime(2026, 3, 3, 9, 0)
    assert all(window[0] <= s and e <= window[1] for s, e in slots)
    assert len(slots) == 7  # 10:30 .. 15:30 on Monday (6), 09:00 on Tuesday (1)


def test_free_slots_empty_window_or_all_busy() -> None:
    window = (local(LONDON, 2026, 3, 2, 0), local(LONDON, 2026, 3, 3, 0))
    assert free_slots(window, hours(tue="09:00-17:00"), LONDON, [], HOUR, HOUR) == []
    closure = closure_busy(Closure(date(2026, 3, 2), date(2026, 3, 2), "x"), LONDON)
    assert free_slots(window, WEEKDAYS_9_TO_5, LONDON, [closure], HOUR, HOUR) == []
    short = (local(LONDON, 2026, 3, 2, 10), local(LONDON, 2026, 3, 2, 10, 59))
    assert free_slots(short, WEEKDAYS_9_TO_5, LONDON, [], HOUR, 15 * MIN) == []


@pytest.mark.parametrize(
    ("zone", "first", "utc_hours"),
    [
        # 09:00 and 10:00 local each day; the UTC hour moves on the change Sunday.
        (LONDON, date(2026, 3, 26), [9, 9, 9, 8, 8]),
        (LONDON, date(2026, 10, 22), [8, 8, 8, 9, 9]),
        (NEW_YORK, date(2026, 3, 5), [14, 14, 14, 13, 13]),
        (NEW_YORK, date(2026, 10, 29), [13, 13, 13, 14, 14]),
    ],
)
def test_free_slots_in_a_dst_change_week(zone: ZoneInfo, first: date, utc_hours: list[int]) -> None:
    window = (
        datetime.combine(first, time(), zone).astimezone(UTC),
        datetime.combine(first + timedelta(days=5), time(), zone).astimezone(UTC),
    )
    slots = free_slots(window, EVERY_DAY_9_TO_11, zone, [], HOUR, 30 * MIN)
    assert len(slots) == 10
    assert local_starts(slots, zone) == [
        datetime.combine(first + timedelta(days=d), time(h)) for d in range(5) for h in (9, 10)
    ]
    assert [s.hour for s, _ in slots[::2]] == utc_hours
    assert all(e - s == HOUR for s, e in slots)


def test_free_slots_starts_stay_on_the_step_grid() -> None:
    # Docstring: slots start on a ``step`` grid of each span. With 50-minute sessions on a
    # 15-minute grid from 09:00, starts must be 09:00, 10:00 (09:50 is not on the grid), ...
    window = (local(LONDON, 2026, 3, 2, 0), local(LONDON, 2026, 3, 3, 0))
    slots = free_slots(window, hours(mon="09:00-12:00"), LONDON, [], 50 * MIN, 15 * MIN)
    span_start = local(LONDON, 2026, 3, 2, 9)
    assert slots
    off_grid = [s for s, _ in slots if (s - span_start) % (15 * MIN)]
    assert off_grid == []


def test_free_slots_never_overlap_each_other_with_overlapping_ranges() -> None:
    # Ranges that overlap in the config still describe one stretch of working time; the
    # same hour must not be offered twice.
    window = (local(LONDON, 2026, 3, 2, 0), local(LONDON, 2026, 3, 3, 0))
    slots = free_slots(window, hours(mon="09:00-13:00,12:00-17:00"), LONDON, [], HOUR, HOUR)
    ordered = sorted(slots)
    clashes = [(a, b) for a, b in pairwise(ordered) if b[0] < a[1]]
    assert clashes == []


BASE = datetime(2026, 3, 23, tzinfo=LONDON)  # the week London changes to BST


@st.composite
def busy_spans(draw: st.DrawFn) -> list[Busy]:
    found = []
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        offset = draw(st.integers(min_value=0, max_value=8 * 24 * 4)) * 15 * MIN
        length = draw(st.integers(min_value=1, max_value=4 * 8)) * 15 * MIN
        start = (BASE + offset).astimezone(UTC)
        found.append(Busy(start, start + length, "busy", hard=draw(st.booleans())))
    return found


@settings(deadline=None, max_examples=150)
@given(
    busy=busy_spans(),
    window_from=st.integers(min_value=0, max_value=3 * 24 * 4),
    window_len=st.integers(min_value=1, max_value=6 * 24 * 4),
    step_minutes=st.sampled_from([15, 30, 60]),
    multiple=st.integers(min_value=1, max_value=4),
)
def test_free_slots_properties(
    busy: list[Busy], window_from: int, window_len: int, step_minutes: int, multiple: int
) -> None:
    step = step_minutes * MIN
    duration = step * multiple
    begin = (BASE + window_from * 15 * MIN).astimezone(UTC)
    window = (begin, begin + window_len * 15 * MIN)
    work = hours(mon="09:00-12:30,13:30-17:00", tue="08:00-18:00", sun="10:00-16:00")
    slots = free_slots(window, work, LONDON, busy, duration, step)
    spans_ = working_spans(work, LONDON, date(2026, 3, 20), date(2026, 4, 5))
    for start, end in slots:
        assert end - start == duration
        assert window[0] <= start and end <= window[1]
        assert within_hours(start, end, work, LONDON)
        assert not conflicts(start, end, work, LONDON, busy)
        span = next(s for s in spans_ if s.start <= start and end <= s.end)
        assert (start - span.start) % step == timedelta(0)
    ordered = sorted(slots)
    assert all(a[1] <= b[0] for a, b in pairwise(ordered))
    # Nothing free is left out: every free grid position overlaps an offered slot.
    for span in spans_:
        cursor = span.start
        while cursor + duration <= span.end:
            end = cursor + duration
            free = window[0] <= cursor and end <= window[1]
            free = free and not any(b.overlaps(cursor, end) for b in busy)
            if free:
                assert any(s < end and cursor < e for s, e in slots)
            cursor += step
