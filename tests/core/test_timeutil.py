"""Unit tests of calbridge.core.timeutil: parsing and month arithmetic across zones and DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calbridge.core.timeutil import (
    add_months,
    day_start,
    localize,
    month_bounds,
    month_of,
    parse_date,
    parse_duration,
    parse_month,
    parse_time,
    show,
)
from calbridge.errors import UserError

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- parse_duration ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", timedelta(hours=24)),
        ("30m", timedelta(minutes=30)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        ("90s", timedelta(seconds=90)),
        ("0m", timedelta(0)),
        (" 15 m ", timedelta(minutes=15)),
        ("100h", timedelta(hours=100)),
    ],
)
def test_parse_duration_accepts_units(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["", "h", "24", "1.5h", "-1h", "24H", "1y", "24 hours", "1h30m", "h24"]
)
def test_parse_duration_refuses_malformed(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


# --- localize ---------------------------------------------------------------------------


def test_localize_plain_winter_and_summer_times() -> None:
    winter = localize(datetime(2026, 1, 15, 10, 0), LONDON)
    summer = localize(datetime(2026, 7, 15, 10, 0), LONDON)
    assert winter.tzinfo is LONDON
    assert winter.astimezone(UTC) == utc(2026, 1, 15, 10, 0)
    assert summer.astimezone(UTC) == utc(2026, 7, 15, 9, 0)


@pytest.mark.parametrize(
    ("wall", "zone"),
    [
        (datetime(2026, 3, 29, 1, 0), LONDON),
        (datetime(2026, 3, 29, 1, 30), LONDON),
        (datetime(2026, 3, 29, 1, 59), LONDON),
        (datetime(2026, 3, 8, 2, 0), NEW_YORK),
        (datetime(2026, 3, 8, 2, 30), NEW_YORK),
    ],
)
def test_localize_refuses_times_in_the_spring_gap(wall: datetime, zone: ZoneInfo) -> None:
    with pytest.raises(UserError, match="does not exist") as caught:
        localize(wall, zone, "start")
    assert str(caught.value).startswith("start ")
    assert f"{wall:%Y-%m-%d %H:%M}" in str(caught.value)


@pytest.mark.parametrize(
    ("wall", "zone", "expected_utc"),
    [
        (datetime(2026, 3, 29, 0, 59), LONDON, utc(2026, 3, 29, 0, 59)),
        (datetime(2026, 3, 29, 2, 0), LONDON, utc(2026, 3, 29, 1, 0)),
        (datetime(2026, 3, 8, 1, 59), NEW_YORK, utc(2026, 3, 8, 6, 59)),
        (datetime(2026, 3, 8, 3, 0), NEW_YORK, utc(2026, 3, 8, 7, 0)),
    ],
)
def test_localize_accepts_times_just_around_the_gap(
    wall: datetime, zone: ZoneInfo, expected_utc: datetime
) -> None:
    assert localize(wall, zone).astimezone(UTC) == expected_utc


@pytest.mark.parametrize(
    ("wall", "zone", "first_utc"),
    [
        # London falls back 02:00 BST -> 01:00 GMT: 01:30 happens at 00:30Z and 01:30Z.
        (datetime(2026, 10, 25, 1, 30), LONDON, utc(2026, 10, 25, 0, 30)),
        (datetime(2026, 10, 25, 1, 0), LONDON, utc(2026, 10, 25, 0, 0)),
        # New York falls back 02:00 EDT -> 01:00 EST: 01:30 happens at 05:30Z and 06:30Z.
        (datetime(2026, 11, 1, 1, 30), NEW_YORK, utc(2026, 11, 1, 5, 30)),
    ],
)
def test_localize_takes_first_occurrence_of_ambiguous_time(
    wall: datetime, zone: ZoneInfo, first_utc: datetime
) -> None:
    assert localize(wall, zone).astimezone(UTC) == first_utc
    # Even when the caller hands in fold=1 (the second occurrence), the first is taken.
    assert localize(wall.replace(fold=1), zone).astimezone(UTC) == first_utc


def test_localize_replaces_existing_tzinfo_wall_clock() -> None:
    # An aware value is treated as its wall clock in the new zone.
    aware = datetime(2026, 6, 1, 10, 0, tzinfo=TOKYO)
    assert localize(aware, LONDON).astimezone(UTC) == utc(2026, 6, 1, 9, 0)


# --- parse_time -------------------------------------------------------------------------


def test_parse_time_naive_is_read_in_zone_and_returned_in_utc() -> None:
    result = parse_time("2026-03-02T10:00", LONDON)
    assert result == utc(2026, 3, 2, 10, 0)
    assert result.utcoffset() == timedelta(0)
    assert parse_time("2026-07-02T10:00", LONDON) == utc(2026, 7, 2, 9, 0)
    assert parse_time("2026-07-02T10:00", NEW_YORK) == utc(2026, 7, 2, 14, 0)
    assert parse_time("2026-01-02T10:00", NEW_YORK) == utc(2026, 1, 2, 15, 0)


def test_parse_time_respects_explicit_offset_over_zone() -> None:
    assert parse_time("2026-03-02T10:00+01:00", NEW_YORK) == utc(2026, 3, 2, 9, 0)
    assert parse_time("2026-03-02T10:00-05:00", LONDON) == utc(2026, 3, 2, 15, 0)
    assert parse_time("2026-03-02T10:00Z", TOKYO) == utc(2026, 3, 2, 10, 0)
    assert parse_time(" 2026-03-02T10:00+00:00 ", TOKYO) == utc(2026, 3, 2, 10, 0)


def test_parse_time_explicit_offset_may_name_a_gap_wall_time() -> None:
    # With an offset the instant is unambiguous, so DST gaps in ``zone`` do not matter.
    assert parse_time("2026-03-29T01:30+00:00", LONDON) == utc(2026, 3, 29, 1, 30)


def test_parse_time_leap_day_and_year_end() -> None:
    assert parse_time("2028-02-29T09:15", BERLIN) == utc(2028, 2, 29, 8, 15)
    assert parse_time("2027-01-01T00:30", BERLIN) == utc(2026, 12, 31, 23, 30)


def test_parse_time_refuses_gap_time_naming_what() -> None:
    with pytest.raises(UserError, match=r"--start 2026-03-29 01:30 does not exist"):
        parse_time("2026-03-29T01:30", LONDON, "--start")


def test_parse_time_ambiguous_takes_first_occurrence() -> None:
    assert parse_time("2026-10-25T01:30", LONDON) == utc(2026, 10, 25, 0, 30)
    assert parse_time("2026-11-01T01:30", NEW_YORK) == utc(2026, 11, 1, 5, 30)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "tomorrow",
        "2026-13-01T10:00",
        "2026-02-30T10:00",
        "2027-02-29T10:00",
        "10:00",
        "2026/03/02",
    ],
)
def test_parse_time_refuses_malformed(text: str) -> None:
    with pytest.raises(UserError, match="is not an ISO 8601 time") as caught:
        parse_time(text, LONDON, "--at")
    assert str(caught.value).startswith("--at ")
    assert caught.value.exit_code == 2


# --- parse_date / parse_month -------------------------------------------------------------


def test_parse_date() -> None:
    assert parse_date("2026-03-02") == date(2026, 3, 2)
    assert parse_date(" 2028-02-29 ") == date(2028, 2, 29)


@pytest.mark.parametrize("text", ["", "2027-02-29", "2026-13-01", "02/03/2026", "2026-3-2x"])
def test_parse_date_refuses_malformed(text: str) -> None:
    with pytest.raises(UserError, match="is not a date like 2026-03-02") as caught:
        parse_date(text, "--until")
    assert str(caught.value).startswith("--until ")


@pytest.mark.parametrize("text", ["2026-01", "2026-12", "2028-02", " 2026-03 "])
def test_parse_month_accepts(text: str) -> None:
    assert parse_month(text) == text.strip()


@pytest.mark.parametrize(
    "text", ["2026-13", "2026-00", "2026-1", "26-01", "2026-001", "2026/01", "2026-01-01", ""]
)
def test_parse_month_refuses(text: str) -> None:
    with pytest.raises(UserError, match="is not a month like 2026-03") as caught:
        parse_month(text, "--month")
    assert str(caught.value).startswith("--month ")


def test_parse_month_result_is_canonical_ascii() -> None:
    # ``\d`` also matches non-ASCII digits; a month must never come back as anything but
    # the YYYY-MM key the book stores months under (or be refused).
    try:
        result = parse_month("٢٠٢٦-٠٣")  # Arabic-Indic digits for 2026-03
    except UserError:
        return
    assert result == "2026-03"


# --- month_of / add_months / month_bounds -------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "zone", "month"),
    [
        (utc(2026, 1, 31, 23, 30), UTC, "2026-01"),
        (utc(2026, 1, 31, 23, 30), BERLIN, "2026-02"),
        (utc(2026, 1, 31, 23, 30), LONDON, "2026-01"),
        (utc(2026, 1, 31, 23, 30), NEW_YORK, "2026-01"),
        (utc(2026, 3, 1, 3, 0), NEW_YORK, "2026-02"),
        (utc(2026, 3, 1, 3, 0), LONDON, "2026-03"),
        (utc(2026, 3, 31, 23, 30), LONDON, "2026-04"),  # BST: 00:30 on 1 April
        (utc(2026, 12, 31, 15, 0), TOKYO, "2027-01"),
        (utc(2028, 2, 29, 23, 0), LONDON, "2028-02"),
        (utc(2028, 2, 29, 23, 0), BERLIN, "2028-03"),
    ],
)
def test_month_of_depends_on_zone(moment: datetime, zone: ZoneInfo, month: str) -> None:
    assert month_of(moment, zone) == month


@pytest.mark.parametrize(
    ("month", "n", "expected"),
    [
        ("2026-12", 1, "2027-01"),
        ("2026-01", -1, "2025-12"),
        ("2026-01", 0, "2026-01"),
        ("2026-01", 11, "2026-12"),
        ("2026-01", 12, "2027-01"),
        ("2026-01", -12, "2025-01"),
        ("2026-01", -13, "2024-12"),
        ("2026-03", 35, "2029-02"),
        ("2026-12", 25, "2029-01"),
    ],
)
def test_add_months(month: str, n: int, expected: str) -> None:
    assert add_months(month, n) == expected


months = st.builds(
    lambda y, m: f"{y:04d}-{m:02d}",
    st.integers(min_value=1900, max_value=2200),
    st.integers(min_value=1, max_value=12),
)
steps = st.integers(min_value=-600, max_value=600)


@given(months, steps, steps)
def test_add_months_composes(month: str, a: int, b: int) -> None:
    assert add_months(month, a + b) == add_months(add_months(month, a), b)


@given(months, steps)
def test_add_months_is_invertible_and_canonical(month: str, n: int) -> None:
    moved = add_months(month, n)
    assert add_months(moved, -n) == month
    assert parse_month(moved) == moved


@pytest.mark.parametrize(
    ("month", "zone", "start", "end"),
    [
        ("2026-01", UTC, utc(2026, 1, 1), utc(2026, 2, 1)),
        ("2026-03", LONDON, utc(2026, 3, 1), utc(2026, 3, 31, 23)),  # into BST
        ("2026-10", LONDON, utc(2026, 9, 30, 23), utc(2026, 11, 1)),  # out of BST
        ("2026-03", NEW_YORK, utc(2026, 3, 1, 5), utc(2026, 4, 1, 4)),
        ("2026-11", NEW_YORK, utc(2026, 11, 1, 4), utc(2026, 12, 1, 5)),
        ("2026-12", BERLIN, utc(2026, 11, 30, 23), utc(2026, 12, 31, 23)),
        ("2028-02", LONDON, utc(2028, 2, 1), utc(2028, 3, 1)),
    ],
)
def test_month_bounds(month: str, zone: ZoneInfo, start: datetime, end: datetime) -> None:
    assert month_bounds(month, zone) == (start, end)


def test_month_bounds_length_reflects_dst_and_leap_day() -> None:
    start, end = month_bounds("2026-03", LONDON)
    assert end - start == timedelta(days=31, hours=-1)
    start, end = month_bounds("2026-10", LONDON)
    assert end - start == timedelta(days=31, hours=1)
    start, end = month_bounds("2028-02", NEW_YORK)
    assert end - start == timedelta(days=29)


zones = st.sampled_from([UTC, LONDON, NEW_YORK, BERLIN, TOKYO, ZoneInfo("Australia/Sydney")])


@settings(deadline=None)
@given(months, zones)
def test_month_bounds_agree_with_month_of(month: str, zone: ZoneInfo) -> None:
    start, end = month_bounds(month, zone)
    assert start.utcoffset() == timedelta(0)
    assert month_of(start, zone) == month
    assert month_of(end - timedelta(microseconds=1), zone) == month
    assert month_of(end, zone) == add_months(month, 1)
    assert month_of(start - timedelta(microseconds=1), zone) == add_months(month, -1)


def test_day_start_across_dst() -> None:
    assert day_start(date(2026, 3, 29), LONDON) == utc(2026, 3, 29, 0)
    assert day_start(date(2026, 3, 30), LONDON) == utc(2026, 3, 29, 23)
    assert day_start(date(2026, 11, 1), NEW_YORK) == utc(2026, 11, 1, 4)
    assert day_start(date(2026, 11, 2), NEW_YORK) == utc(2026, 11, 2, 5)


def test_show_in_zone() -> None:
    assert show(utc(2026, 3, 2, 10, 0), LONDON) == "Mon 2026-03-02 10:00"
    assert show(utc(2026, 7, 2, 10, 0), LONDON) == "Thu 2026-07-02 11:00"
    assert show(utc(2026, 1, 31, 23, 30), BERLIN) == "Sun 2026-02-01 00:30"
