"""The recurrence rule as a value: parsing and rendering round-trip, UNTIL in UTC for a
zoned DTSTART (RFC 5545 3.3.10), ending a rule at an occurrence, and bad parts refused
by name."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar, vRecur

from calbridge.core.model import SeriesSpec
from calbridge.core.recurrence import Recurrence
from calbridge.core.series import expand, recurrence, rrule_text
from calbridge.ical.build import render_event
from calbridge.ical.model import EventSpec, Occurrence, Person

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    "text",
    [
        "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=5;WKST=MO",
        "FREQ=MONTHLY;BYDAY=2TU;COUNT=4;WKST=MO",
        "FREQ=MONTHLY;BYDAY=-1TH;UNTIL=20261231T235959Z;WKST=MO",
        "FREQ=WEEKLY;BYDAY=MO;UNTIL=20270301T095959Z;WKST=MO",
        "FREQ=DAILY",
    ],
)
def test_render_gives_back_the_text_it_was_parsed_from(text: str) -> None:
    rule = Recurrence.parse(text)
    assert rule.render() == text
    assert Recurrence.parse(rule.render()) == rule


def test_parts_in_any_order_and_case_read_the_same() -> None:
    # A series cut before this change stored UNTIL after WKST.
    old = Recurrence.parse("FREQ=WEEKLY;BYDAY=MO;WKST=MO;UNTIL=20270301T095959Z")
    assert old == Recurrence.parse("freq=weekly;until=20270301T095959Z;byday=mo;wkst=mo")
    assert old.render() == "FREQ=WEEKLY;BYDAY=MO;UNTIL=20270301T095959Z;WKST=MO"


@given(
    freq=st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]),
    days=st.lists(st.sampled_from(["MO", "TU", "2WE", "-1FR", "SU"]), max_size=3, unique=True),
    count=st.none() | st.integers(1, 260),
    until=st.none() | st.datetimes(datetime(2000, 1, 1), datetime(2099, 1, 1)),
)
def test_render_parse_round_trip_and_icalendar_reads_the_same_rule(
    freq: str, days: list[str], count: int | None, until: datetime | None
) -> None:
    end = until.replace(microsecond=0, tzinfo=UTC) if until and count is None else None
    rule = Recurrence(freq, tuple(days), count if end is None else None, end, "MO")
    assert Recurrence.parse(rule.render()) == rule
    assert vRecur(rule.ical_parts()) == vRecur.from_ical(rule.render())


@pytest.mark.parametrize(
    ("zone", "until", "expected"),
    [
        (LONDON, date(2026, 7, 14), "20260714T225959Z"),  # BST: local midnight is 23:00Z
        (LONDON, date(2026, 1, 31), "20260131T235959Z"),
        (NEW_YORK, date(2026, 11, 30), "20261201T045959Z"),
    ],
)
def test_until_of_a_zoned_series_is_utc(zone: ZoneInfo, until: date, expected: str) -> None:
    first = datetime(2026, 1, 5, 10, tzinfo=zone)
    spec = SeriesSpec("weekly", (0,), until=until)
    rule = recurrence(spec, first, zone)
    assert rule.until is not None and rule.until.utcoffset() == timedelta(0)
    assert rule.render() == f"FREQ=WEEKLY;BYDAY=MO;UNTIL={expected};WKST=MO"
    assert rrule_text(spec, first, zone) == rule.render()


def test_a_zoned_until_given_to_the_value_is_kept_in_utc() -> None:
    rule = Recurrence("WEEKLY", ("MO",), until=datetime(2027, 3, 1, 10, tzinfo=LONDON))
    assert rule.until == datetime(2027, 3, 1, 10, tzinfo=UTC)
    assert rule.render().endswith("UNTIL=20270301T100000Z")


def test_a_cut_count_series_ends_with_an_until_in_utc_and_no_count() -> None:
    first = datetime(2026, 3, 2, 10, tzinfo=LONDON)
    spec = SeriesSpec("weekly", (0,), count=6)
    starts = expand(spec, first, LONDON)
    rule = recurrence(spec, first, LONDON)
    cut = rule.ended_before(starts[3] - timedelta(seconds=1))  # ended before the fourth
    assert cut.count is None and rule.count == 6
    assert cut.until == datetime(2026, 3, 23, 9, 59, 59, tzinfo=UTC)  # 10:00 GMT, minus 1 s
    assert cut.render() == "FREQ=WEEKLY;BYDAY=MO;UNTIL=20260323T095959Z;WKST=MO"
    remaining = rrulestr(cut.render(), dtstart=first)
    assert [o.astimezone(UTC) for o in remaining] == starts[:3]


def test_cutting_an_until_series_moves_its_until() -> None:
    rule = Recurrence.parse("FREQ=MONTHLY;BYDAY=2TU;UNTIL=20261231T235959Z;WKST=MO")
    cut = rule.ended_before(datetime(2026, 6, 9, 8, 59, 59, tzinfo=UTC))
    assert cut.render() == "FREQ=MONTHLY;BYDAY=2TU;UNTIL=20260609T085959Z;WKST=MO"


def test_the_builder_renders_the_value_as_the_rrule() -> None:
    start = datetime(2027, 3, 15, 10, tzinfo=LONDON)
    rule = Recurrence.parse("FREQ=WEEKLY;BYDAY=MO;COUNT=6;WKST=MO").ended_before(
        datetime(2027, 4, 5, 8, 59, 59, tzinfo=UTC)
    )
    spec = EventSpec(
        uid="series@example",
        sequence=0,
        tzid="Europe/London",
        organizer=Person("Maia", "maia@practice.example"),
        master=Occurrence(start, start + timedelta(hours=1), "CONFIRMED", (), "Coaching"),
        rrule=rule,
    )
    master = Calendar.from_ical(render_event(spec)).walk("VEVENT")[0]
    assert master["RRULE"].to_ical() == b"FREQ=WEEKLY;UNTIL=20270405T085959Z;BYDAY=MO;WKST=MO"
    assert master["RRULE"]["UNTIL"] == [datetime(2027, 4, 5, 8, 59, 59, tzinfo=UTC)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FREQ=SOMETIMES", "FREQ=SOMETIMES"),
        ("BYDAY=MO", "no FREQ"),
        ("FREQ=WEEKLY;BYDAY=MONDAY", "BYDAY=MONDAY"),
        ("FREQ=WEEKLY;COUNT=0", "COUNT=0"),
        ("FREQ=WEEKLY;COUNT=x", "COUNT=X"),
        ("FREQ=WEEKLY;COUNT=3;UNTIL=20270101T000000Z", "one of them"),
        ("FREQ=WEEKLY;UNTIL=20270101", "UNTIL=20270101"),
        ("FREQ=WEEKLY;INTERVAL=2", "INTERVAL"),
        ("FREQ=WEEKLY;FREQ=DAILY", "twice"),
        ("FREQ=WEEKLY;WKST=XX", "WKST=XX"),
        ("FREQ", "NAME=VALUE"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_part(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Recurrence.parse(text)


def test_a_floating_until_is_refused() -> None:
    with pytest.raises(ValueError, match="UTC"):
        Recurrence("WEEKLY", until=datetime(2027, 1, 1))
