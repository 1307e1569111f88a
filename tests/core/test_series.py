"""Unit tests of calbridge.core.series: expanding series in wall-clock time and RRULE text."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st

from calbridge.core.model import SeriesSpec
from calbridge.core.series import MAX_OCCURRENCES, expand, parse_weekdays, rrule_text, validate
from calbridge.errors import UserError

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)


def walls(starts: list[datetime], zone: ZoneInfo) -> list[datetime]:
    return [s.astimezone(zone).replace(tzinfo=None) for s in starts]


def nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    """Independent reference: the nth (1..4, or -1 for last) ``weekday`` of a month."""
    days = [
        d
        for d in calendar.Calendar().itermonthdates(year, month)
        if d.month == month and d.weekday() == weekday
    ]
    return days[nth - 1] if nth > 0 else days[-1]


# --- weekly -----------------------------------------------------------------------------


def test_weekly_count_includes_first() -> None:
    starts = expand(SeriesSpec("weekly", (MON,), count=3), local(LONDON, 2026, 1, 5, 10), LONDON)
    assert starts == [utc(2026, 1, 5, 10), utc(2026, 1, 12, 10), utc(2026, 1, 19, 10)]
    assert all(s.utcoffset() == timedelta(0) for s in starts)


def test_weekly_count_one_is_just_the_first() -> None:
    start = local(LONDON, 2026, 2, 2, 9, 30)
    assert expand(SeriesSpec("weekly", (MON,), count=1), start, LONDON) == [utc(2026, 2, 2, 9, 30)]


def test_weekly_without_weekdays_uses_start_weekday() -> None:
    starts = expand(SeriesSpec("weekly", (), count=3), local(LONDON, 2026, 1, 7, 14), LONDON)
    assert [s.date() for s in starts] == [date(2026, 1, 7), date(2026, 1, 14), date(2026, 1, 21)]


def test_weekly_on_several_weekdays_with_count() -> None:
    spec = SeriesSpec("weekly", (MON, WED, FRI), count=7)
    starts = expand(spec, local(LONDON, 2026, 1, 28, 10), LONDON)  # a Wednesday
    assert [s.date() for s in starts] == [
        date(2026, 1, 28),
        date(2026, 1, 30),
        date(2026, 2, 2),
        date(2026, 2, 4),
        date(2026, 2, 6),
        date(2026, 2, 9),
        date(2026, 2, 11),
    ]
    assert {s.astimezone(LONDON).time() for s in starts} == {time(10, 0)}


def test_weekly_several_weekdays_across_month_and_year_end() -> None:
    spec = SeriesSpec("weekly", (TUE, THU), count=4)
    starts = expand(spec, local(NEW_YORK, 2026, 12, 29, 8), NEW_YORK)
    assert [s.astimezone(NEW_YORK).date() for s in starts] == [
        date(2026, 12, 29),
        date(2026, 12, 31),
        date(2027, 1, 5),
        date(2027, 1, 7),
    ]
    assert starts[0] == utc(2026, 12, 29, 13)


def test_weekly_until_is_inclusive() -> None:
    start = local(LONDON, 2026, 1, 6, 18)
    spec = SeriesSpec("weekly", (TUE,), until=date(2026, 1, 27))
    assert [s.date() for s in expand(spec, start, LONDON)] == [
        date(2026, 1, 6),
        date(2026, 1, 13),
        date(2026, 1, 20),
        date(2026, 1, 27),
    ]
    spec = SeriesSpec("weekly", (TUE,), until=date(2026, 1, 26))
    assert len(expand(spec, start, LONDON)) == 3


def test_weekly_until_inclusive_late_evening_local() -> None:
    # 23:30 in New York on the until day is already the next day in UTC.
    start = local(NEW_YORK, 2026, 1, 6, 23, 30)
    spec = SeriesSpec("weekly", (TUE,), until=date(2026, 1, 20))
    starts = expand(spec, start, NEW_YORK)
    assert starts == [utc(2026, 1, 7, 4, 30), utc(2026, 1, 14, 4, 30), utc(2026, 1, 21, 4, 30)]


def test_until_equal_to_start_gives_one_occurrence() -> None:
    start = local(LONDON, 2028, 2, 29, 11)
    spec = SeriesSpec("weekly", (start.weekday(),), until=date(2028, 2, 29))
    assert expand(spec, start, LONDON) == [utc(2028, 2, 29, 11)]


def test_weekly_across_leap_day() -> None:
    start = local(LONDON, 2028, 2, 22, 10)  # a Tuesday
    starts = expand(SeriesSpec("weekly", (TUE,), count=3), start, LONDON)
    assert [s.date() for s in starts] == [date(2028, 2, 22), date(2028, 2, 29), date(2028, 3, 7)]


def test_start_given_in_utc_is_read_in_zone() -> None:
    # 23:30Z on Sunday 1 Feb is 00:30 on Monday 2 Feb in Berlin: a Monday series is fine.
    berlin = ZoneInfo("Europe/Berlin")
    starts = expand(SeriesSpec("weekly", (MON,), count=2), utc(2026, 2, 1, 23, 30), berlin)
    assert starts == [utc(2026, 2, 1, 23, 30), utc(2026, 2, 8, 23, 30)]


# --- DST --------------------------------------------------------------------------------


def test_weekly_london_keeps_wall_time_across_spring_change() -> None:
    spec = SeriesSpec("weekly", (MON,), count=4)
    starts = expand(spec, local(LONDON, 2026, 3, 16, 10), LONDON)
    assert starts == [
        utc(2026, 3, 16, 10),
        utc(2026, 3, 23, 10),
        utc(2026, 3, 30, 9),  # BST from Sunday 29 March
        utc(2026, 4, 6, 9),
    ]
    assert {w.time() for w in walls(starts, LONDON)} == {time(10, 0)}


def test_weekly_london_keeps_wall_time_across_autumn_change() -> None:
    spec = SeriesSpec("weekly", (MON,), count=3)
    starts = expand(spec, local(LONDON, 2026, 10, 19, 10), LONDON)
    assert starts == [utc(2026, 10, 19, 9), utc(2026, 10, 26, 10), utc(2026, 11, 2, 10)]


def test_weekly_london_on_the_change_sundays() -> None:
    spec = SeriesSpec("weekly", (SUN,), count=2)
    assert expand(spec, local(LONDON, 2026, 3, 22, 10), LONDON) == [
        utc(2026, 3, 22, 10),
        utc(2026, 3, 29, 9),
    ]
    assert expand(spec, local(LONDON, 2026, 10, 18, 10), LONDON) == [
        utc(2026, 10, 18, 9),
        utc(2026, 10, 25, 10),
    ]


def test_weekly_new_york_keeps_wall_time_across_both_changes() -> None:
    spec = SeriesSpec("weekly", (TUE,), count=3)
    assert expand(spec, local(NEW_YORK, 2026, 2, 24, 10), NEW_YORK) == [
        utc(2026, 2, 24, 15),
        utc(2026, 3, 3, 15),
        utc(2026, 3, 10, 14),
    ]
    assert expand(spec, local(NEW_YORK, 2026, 10, 20, 10), NEW_YORK) == [
        utc(2026, 10, 20, 14),
        utc(2026, 10, 27, 14),
        utc(2026, 11, 3, 15),
    ]


def test_weekly_new_york_on_the_change_sundays() -> None:
    spec = SeriesSpec("weekly", (SUN,), count=2)
    assert expand(spec, local(NEW_YORK, 2026, 3, 1, 10), NEW_YORK) == [
        utc(2026, 3, 1, 15),
        utc(2026, 3, 8, 14),
    ]
    assert expand(spec, local(NEW_YORK, 2026, 10, 25, 10), NEW_YORK) == [
        utc(2026, 10, 25, 14),
        utc(2026, 11, 1, 15),
    ]


def test_occurrence_in_spring_gap_is_refused() -> None:
    # 01:30 does not exist in London on 29 March 2026.
    spec = SeriesSpec("weekly", (SUN,), count=3)
    with pytest.raises(UserError, match="2026-03-29 01:30 does not exist"):
        expand(spec, local(LONDON, 2026, 3, 22, 1, 30), LONDON)


def test_occurrence_in_autumn_overlap_takes_first() -> None:
    spec = SeriesSpec("weekly", (SUN,), count=2)
    starts = expand(spec, local(NEW_YORK, 2026, 10, 25, 1, 30), NEW_YORK)
    assert starts == [utc(2026, 10, 25, 5, 30), utc(2026, 11, 1, 5, 30)]


# --- monthly ----------------------------------------------------------------------------


def test_monthly_same_weekday_of_month() -> None:
    start = local(LONDON, 2026, 1, 13, 10)  # the 2nd Tuesday of January
    starts = expand(SeriesSpec("monthly", (), count=6), start, LONDON)
    expected = [nth_weekday(2026, m, TUE, 2) for m in range(1, 7)]
    assert [w.date() for w in walls(starts, LONDON)] == expected
    assert expected[:4] == [
        date(2026, 1, 13),
        date(2026, 2, 10),
        date(2026, 3, 10),
        date(2026, 4, 14),
    ]
    assert {w.time() for w in walls(starts, LONDON)} == {time(10, 0)}
    assert starts[3] == utc(2026, 4, 14, 9)  # BST


def test_monthly_fifth_weekday_becomes_last() -> None:
    start = local(LONDON, 2026, 1, 29, 15)  # the 5th (and last) Thursday of January
    starts = expand(SeriesSpec("monthly", (THU,), count=5), start, LONDON)
    assert [s.date() for s in starts] == [
        date(2026, 1, 29),
        date(2026, 2, 26),
        date(2026, 3, 26),
        date(2026, 4, 30),
        date(2026, 5, 28),
    ]
    assert [s.date() for s in starts] == [nth_weekday(2026, m, THU, -1) for m in range(1, 6)]


def test_monthly_from_leap_day() -> None:
    start = local(NEW_YORK, 2028, 2, 29, 9)  # Tuesday 29 Feb 2028: the 5th Tuesday
    starts = expand(SeriesSpec("monthly", (TUE,), count=4), start, NEW_YORK)
    assert [w.date() for w in walls(starts, NEW_YORK)] == [
        date(2028, 2, 29),
        *(nth_weekday(2028, m, TUE, -1) for m in (3, 4, 5)),
    ]


def test_monthly_first_weekday_across_year_end() -> None:
    start = local(LONDON, 2026, 11, 2, 9)  # 1st Monday of November
    starts = expand(SeriesSpec("monthly", (MON,), until=date(2027, 2, 28)), start, LONDON)
    assert [s.date() for s in starts] == [
        date(2026, 11, 2),
        date(2026, 12, 7),
        date(2027, 1, 4),
        date(2027, 2, 1),
    ]


def test_monthly_until_is_inclusive() -> None:
    start = local(LONDON, 2026, 1, 13, 10)
    spec = SeriesSpec("monthly", (TUE,), until=date(2026, 3, 10))
    assert len(expand(spec, start, LONDON)) == 3
    spec = SeriesSpec("monthly", (TUE,), until=date(2026, 3, 9))
    assert len(expand(spec, start, LONDON)) == 2


# --- validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        SeriesSpec("weekly", (MON,)),
        SeriesSpec("weekly", (MON,), count=3, until=date(2026, 3, 30)),
    ],
)
def test_count_xor_until(spec: SeriesSpec) -> None:
    with pytest.raises(UserError, match="exactly one of --count N or --until DATE"):
        expand(spec, local(LONDON, 2026, 3, 2, 10), LONDON)


def test_until_before_start_refused() -> None:
    spec = SeriesSpec("weekly", (MON,), until=date(2026, 3, 1))
    with pytest.raises(UserError, match="before the first session"):
        expand(spec, local(LONDON, 2026, 3, 2, 10), LONDON)


def test_until_compared_with_local_start_date() -> None:
    # 23:30Z on 1 March is 00:30 on 2 March in Berlin; until 1 March is before that.
    berlin = ZoneInfo("Europe/Berlin")
    spec = SeriesSpec("weekly", (MON,), until=date(2026, 3, 1))
    with pytest.raises(UserError, match="before the first session"):
        expand(spec, utc(2026, 3, 1, 23, 30), berlin)


def test_start_not_on_an_on_day_refused() -> None:
    spec = SeriesSpec("weekly", (MON, WED), count=4)
    with pytest.raises(UserError, match="falls on a Tuesday but --on is mo,we"):
        expand(spec, local(LONDON, 2026, 3, 3, 10), LONDON)


def test_monthly_start_not_on_an_on_day_refused() -> None:
    with pytest.raises(UserError, match="falls on a Friday"):
        validate(SeriesSpec("monthly", (TUE,), count=2), date(2026, 3, 6))


@pytest.mark.parametrize("count", [0, -1, MAX_OCCURRENCES + 1, 10_000])
def test_count_out_of_range_refused(count: int) -> None:
    with pytest.raises(UserError, match=f"--count must be between 1 and {MAX_OCCURRENCES}"):
        expand(SeriesSpec("weekly", (MON,), count=count), local(LONDON, 2026, 3, 2, 10), LONDON)


def test_count_at_maximum_allowed() -> None:
    starts = expand(
        SeriesSpec("weekly", (MON,), count=MAX_OCCURRENCES), local(LONDON, 2026, 3, 2, 10), LONDON
    )
    assert len(starts) == MAX_OCCURRENCES
    assert len(set(starts)) == MAX_OCCURRENCES


def test_until_with_too_many_occurrences_refused() -> None:
    spec = SeriesSpec("weekly", tuple(range(7)), until=date(2027, 12, 31))
    with pytest.raises(UserError, match=f"more than {MAX_OCCURRENCES} occurrences"):
        expand(spec, local(LONDON, 2026, 3, 2, 10), LONDON)


def test_unknown_repeat_refused() -> None:
    with pytest.raises(UserError, match="use weekly or monthly"):
        expand(SeriesSpec("daily", (), count=3), local(LONDON, 2026, 3, 2, 10), LONDON)


# --- property -----------------------------------------------------------------------------


@settings(deadline=None, max_examples=150)
@given(
    zone=st.sampled_from([LONDON, NEW_YORK]),
    first=st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31)),
    extra_days=st.sets(st.integers(min_value=0, max_value=6), max_size=3),
    minutes=st.integers(min_value=6 * 60, max_value=22 * 60),
    count=st.integers(min_value=1, max_value=40),
)
def test_weekly_series_keep_wall_time_and_weekdays(
    zone: ZoneInfo, first: date, extra_days: set[int], minutes: int, count: int
) -> None:
    days = tuple(sorted(extra_days | {first.weekday()}))
    wall = datetime.combine(first, time(minutes // 60, minutes % 60))
    starts = expand(SeriesSpec("weekly", days, count=count), wall.replace(tzinfo=zone), zone)
    assert len(starts) == count
    assert starts == sorted(set(starts))
    seen = walls(starts, zone)
    assert seen[0] == wall
    assert {w.time() for w in seen} == {wall.time()}
    assert {w.weekday() for w in seen} <= set(days)
    # No matching day is skipped between the first and the last occurrence.
    span = (seen[-1].date() - first).days
    expected = [
        first + timedelta(days=i)
        for i in range(span + 1)
        if (first + timedelta(days=i)).weekday() in days
    ]
    assert [w.date() for w in seen] == expected


# --- rrule_text ---------------------------------------------------------------------------


def parts(text: str) -> dict[str, str]:
    return dict(p.split("=", 1) for p in text.split(";"))


def test_rrule_weekly_count() -> None:
    text = rrule_text(SeriesSpec("weekly", (MON, WED), count=5), utc(2026, 3, 2, 10), LONDON)
    assert parts(text) == {"FREQ": "WEEKLY", "BYDAY": "MO,WE", "COUNT": "5", "WKST": "MO"}
    assert "UNTIL" not in text


def test_rrule_weekly_default_weekday_is_local() -> None:
    # 23:30Z on Sunday 1 Feb is Monday in Berlin.
    text = rrule_text(
        SeriesSpec("weekly", (), count=2), utc(2026, 2, 1, 23, 30), ZoneInfo("Europe/Berlin")
    )
    assert parts(text)["BYDAY"] == "MO"


def test_rrule_monthly_second_weekday() -> None:
    text = rrule_text(SeriesSpec("monthly", (TUE,), count=4), utc(2026, 1, 13, 10), LONDON)
    assert parts(text) == {"FREQ": "MONTHLY", "BYDAY": "2TU", "COUNT": "4", "WKST": "MO"}


def test_rrule_monthly_fifth_weekday_is_last() -> None:
    text = rrule_text(SeriesSpec("monthly", (), count=4), utc(2026, 1, 29, 10), LONDON)
    assert parts(text)["BYDAY"] == "-1TH"


@pytest.mark.parametrize(
    ("zone", "until", "expected"),
    [
        # End of the until day in local time, in UTC with Z.
        (LONDON, date(2026, 1, 31), "20260131T235959Z"),
        (LONDON, date(2026, 3, 31), "20260331T225959Z"),  # BST
        (LONDON, date(2026, 10, 25), "20261025T235959Z"),  # the day clocks go back
        (LONDON, date(2026, 3, 28), "20260328T235959Z"),  # the day before they go forward
        (NEW_YORK, date(2026, 11, 30), "20261201T045959Z"),
        (NEW_YORK, date(2026, 7, 14), "20260715T035959Z"),
        (NEW_YORK, date(2026, 3, 8), "20260309T035959Z"),
    ],
)
def test_rrule_until_in_utc(zone: ZoneInfo, until: date, expected: str) -> None:
    first = datetime.combine(until - timedelta(days=14), time(10, 0), zone)
    spec = SeriesSpec("weekly", (first.weekday(),), until=until)
    fields = parts(rrule_text(spec, first, zone))
    assert fields["UNTIL"] == expected
    assert "COUNT" not in fields
    assert fields["FREQ"] == "WEEKLY"


@pytest.mark.parametrize(
    ("zone", "start", "spec"),
    [
        (LONDON, datetime(2026, 3, 16, 10), SeriesSpec("weekly", (MON, THU), count=9)),
        (
            LONDON,
            datetime(2026, 10, 12, 23, 30),
            SeriesSpec("weekly", (MON,), until=date(2026, 11, 9)),
        ),
        (
            NEW_YORK,
            datetime(2026, 2, 25, 20),
            SeriesSpec("weekly", (WED, SAT), until=date(2026, 3, 14)),
        ),
        (NEW_YORK, datetime(2026, 1, 13, 10), SeriesSpec("monthly", (TUE,), count=12)),
        (
            LONDON,
            datetime(2026, 1, 29, 18),
            SeriesSpec("monthly", (THU,), until=date(2026, 12, 31)),
        ),
    ],
)
def test_rrule_text_expands_like_expand(zone: ZoneInfo, start: datetime, spec: SeriesSpec) -> None:
    # The RRULE we publish must describe the same occurrences we book.
    first = start.replace(tzinfo=zone)
    rule = rrulestr(rrule_text(spec, first, zone), dtstart=first)
    assert [o.astimezone(UTC) for o in rule] == expand(spec, first, zone)


@pytest.mark.parametrize(
    ("zone", "until"),
    [
        # Clocks jump from 00:00 to 01:00 on the day after ``until`` in these zones.
        (ZoneInfo("America/Santiago"), date(2026, 9, 5)),
        (ZoneInfo("Asia/Beirut"), date(2026, 3, 28)),
    ],
)
def test_rrule_until_before_a_midnight_clock_change(zone: ZoneInfo, until: date) -> None:
    first = datetime.combine(until - timedelta(days=21), time(10, 0), zone)
    spec = SeriesSpec("weekly", (first.weekday(),), until=until)
    assert len(expand(spec, first, zone)) == 4  # booking the series works...
    text = rrule_text(spec, first, zone)  # ...so publishing it must too
    end_of_until = datetime.combine(until, time(23, 59, 59), zone).astimezone(UTC)
    assert parts(text)["UNTIL"] == end_of_until.strftime("%Y%m%dT%H%M%SZ")


# --- parse_weekdays -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon,wed", (0, 2)),
        ("wed,mon", (0, 2)),
        ("Mon, WED ,mon", (0, 2)),
        ("monday,friday", (0, 4)),
        ("sun", (6,)),
        ("mon,tue,wed,thu,fri,sat,sun", (0, 1, 2, 3, 4, 5, 6)),
        ("", ()),
        ("mon,,wed,", (0, 2)),
    ],
)
def test_parse_weekdays(text: str, expected: tuple[int, ...]) -> None:
    assert parse_weekdays(text) == expected


@pytest.mark.parametrize("text", ["mo", "mon,xyz", "1", "lundi", "x,tue"])
def test_parse_weekdays_refuses_unknown(text: str) -> None:
    with pytest.raises(UserError, match="is not a weekday"):
        parse_weekdays(text)


@pytest.mark.parametrize("text", ["mon wed", "mon;wed", "tue/thu", "sunburn"])
def test_parse_weekdays_does_not_silently_drop_days(text: str) -> None:
    # Only the first three letters are looked at, so "mon wed" would quietly mean Monday
    # alone; anything that is not a (prefix of a) weekday name must be refused instead.
    with pytest.raises(UserError, match="is not a weekday"):
        parse_weekdays(text)
