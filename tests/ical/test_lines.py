"""calbridge.ical.lines against icalendar: the same bytes, the same fingerprint.

``ical.build`` writes content lines itself and splices each VTIMEZONE as serialized once;
what it writes must be byte for byte what icalendar writes from its own objects
(tests/icalendar_reference.py), for any text, names, zones and series, and the
fingerprint it takes from the blocks must be the one read back from the bytes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import icalendar_reference as reference
from calbridge.core.recurrence import Recurrence
from calbridge.ical.build import fingerprint, render_all_day, render_event, render_with_fingerprint
from calbridge.ical.lines import fold
from calbridge.ical.model import AllDay, Attendee, EventSpec, Occurrence, Person
from validate_helpers import assert_valid

STAMP = datetime(2027, 1, 4, 9, 30, tzinfo=UTC)
# DST both ways, a half-hour DST (Lord Howe), none (Kolkata), zones whose rules changed:
# Samoa skipped 30 December 2011 and dropped DST in 2021, Sao Paulo dropped DST in 2019,
# Moscow kept summer time in 2011 and went back in 2014; and UTC (Z, no VTIMEZONE).
ZONES = [
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Apia",
    "America/Sao_Paulo",
    "Europe/Moscow",
    "UTC",
]
# Characters that escaping, quoting and folding treat specially, and multi-byte ones.
SPECIAL = [*",;:\"'\\^\n\r\t ", "é", "ß", "日", "😀", "\u2019", "\x07", "\x7f"]
TEXT = st.lists(st.sampled_from([*SPECIAL, "a", "Z", "0", "-"]), max_size=60).map("".join)
NAME = st.lists(st.sampled_from([*SPECIAL, "a", "B"]), max_size=40).map("".join)
EMAIL = st.sampled_from(["ana@example.org", "b.o-b+x@sub.example.com", "Z@x.y"])
ROLE = st.sampled_from(["REQ-PARTICIPANT", "OPT-PARTICIPANT", "NON-PARTICIPANT", "CHAIR"])
PARTSTAT = st.sampled_from(["NEEDS-ACTION", "ACCEPTED", "DECLINED", "TENTATIVE"])
RRULES = [
    "FREQ=WEEKLY;COUNT=6",
    "FREQ=WEEKLY;BYDAY=MO,TH;UNTIL=20300101T000000Z",
    "FREQ=MONTHLY;COUNT=3",
]


@st.composite
def moments(draw: st.DrawFn, zone: ZoneInfo) -> datetime:
    """Wall times near the zones' changes as often as anywhere (both folds)."""
    near = draw(
        st.sampled_from(
            [
                datetime(2011, 3, 27),
                datetime(2011, 12, 29),
                datetime(2014, 10, 26),
                datetime(2019, 2, 16),
                datetime(2021, 4, 4),
                datetime(2027, 3, 28),
                datetime(2027, 10, 31),
                datetime(2027, 11, 7),
            ]
        )
    )
    wall = near + timedelta(minutes=draw(st.integers(-3 * 24 * 60, 3 * 24 * 60)))
    return wall.replace(fold=draw(st.integers(0, 1)), tzinfo=zone)


def _later(moment: datetime, by: timedelta) -> datetime:
    """``by`` of real time later (aware arithmetic in Python is wall time)."""
    return (moment.astimezone(UTC) + by).astimezone(moment.tzinfo)


@st.composite
def specs(draw: st.DrawFn) -> EventSpec:
    tzid = draw(st.sampled_from(ZONES))
    zone = ZoneInfo(tzid)
    start = draw(moments(zone))
    length = timedelta(minutes=draw(st.integers(0, 600)))
    people = st.builds(Person, NAME, EMAIL)
    attendees = st.lists(st.builds(Attendee, people, ROLE, PARTSTAT), max_size=3)
    master = Occurrence(
        start,
        _later(start, length),
        draw(st.sampled_from(["CONFIRMED", "TENTATIVE", "CANCELLED"])),
        tuple(draw(attendees)),
        draw(TEXT),
        draw(TEXT),
    )
    series = draw(st.booleans())
    overrides: tuple[Occurrence, ...] = ()
    exdates: tuple[datetime, ...] = ()
    if series:
        week = timedelta(days=7)
        exdates = tuple(start + k * week for k in draw(st.sets(st.integers(1, 5), max_size=2)))
        moved = draw(st.sets(st.integers(1, 5), max_size=2))
        overrides = tuple(
            Occurrence(
                _later(start + k * week, timedelta(hours=1)),
                _later(start + k * week, timedelta(hours=1) + length),
                "TENTATIVE",
                master.attendees,
                draw(TEXT),
                "",
                start + k * week,
            )
            for k in sorted(moved)
        )
    url = draw(
        st.none() | st.sampled_from(["https://meet.example/x?a=b,c;d", "https://v.example/é"])
    )
    return EventSpec(
        uid=draw(st.sampled_from(["sess-1@calbridge", "a,b;c\\d@x", "x" * 80])),
        sequence=draw(st.integers(0, 12)),
        tzid=tzid,
        organizer=draw(people),
        master=master,
        transp=draw(st.sampled_from(["OPAQUE", "TRANSPARENT"])),
        color=draw(st.none() | st.sampled_from(["teal", "dark,blue"])),
        categories=tuple(draw(st.lists(TEXT, max_size=3))),
        url=url,
        rrule=Recurrence.parse(draw(st.sampled_from(RRULES))) if series else None,
        exdates=exdates,
        overrides=overrides,
        x_props=draw(
            st.dictionaries(st.sampled_from(["X-CALBRIDGE-SESSION", "X-CALBRIDGE-KIND"]), TEXT)
        ),
    )


@settings(max_examples=300, deadline=None)
@given(event=specs())
def test_the_coach_copy_is_what_icalendar_writes(event: EventSpec) -> None:
    data, fp = render_with_fingerprint(event, STAMP)
    assert data == reference.render_event(event, STAMP)
    assert fp == fingerprint(data)


@settings(max_examples=100, deadline=None)
@given(event=specs(), method=st.sampled_from(["REQUEST", "CANCEL", "PUBLISH"]))
def test_mail_is_what_icalendar_writes(event: EventSpec, method: str) -> None:
    assert render_event(event, STAMP, method=method) == reference.render_event(
        event, STAMP, method=method
    )


@settings(max_examples=60, deadline=None)
@given(
    summary=TEXT, description=TEXT, days=st.integers(1, 400), categories=st.lists(TEXT, max_size=2)
)
def test_an_all_day_event_is_what_icalendar_writes(
    summary: str, description: str, days: int, categories: list[str]
) -> None:
    start = date(2027, 3, 1)
    event = AllDay(
        "calbridge-closure-3",
        start,
        start + timedelta(days=days),
        summary,
        description,
        categories=tuple(categories),
        color="grey",
    )
    assert render_all_day(event, STAMP) == reference.render_all_day(event, STAMP)


@pytest.mark.parametrize("tzid", ZONES)
def test_each_zone_spliced_is_icalendar_s_vtimezone_and_valid(tzid: str) -> None:
    """One VTIMEZONE serialized once serves every event of the zone and years: two
    events of one zone carry the same block, and each whole object is what icalendar
    writes and what libical accepts."""
    zone = ZoneInfo(tzid)
    first, second = (
        EventSpec(
            uid=f"s{k}@calbridge",
            sequence=0,
            tzid=tzid,
            organizer=Person("C", "c@x.org"),
            master=Occurrence(
                datetime(2027, 3, 28 + k, 9, tzinfo=zone),
                datetime(2027, 3, 28 + k, 10, tzinfo=zone),
                summary="Session",
            ),
        )
        for k in (0, 1)
    )
    for event in (first, second):
        data = render_event(event, STAMP)
        assert data == reference.render_event(event, STAMP)
        assert_valid(data)
    blocks = [_vtimezone(render_event(e, STAMP)) for e in (first, second)]
    assert blocks[0] == blocks[1]
    assert (blocks[0] == "") == (tzid == "UTC")


def _vtimezone(data: bytes) -> str:
    text = data.decode()
    if "BEGIN:VTIMEZONE" not in text:
        return ""
    return text[text.index("BEGIN:VTIMEZONE") : text.index("END:VTIMEZONE")]


@given(line=st.text(st.sampled_from([*SPECIAL[:9], "a", "é", "日", "😀"]), max_size=300))
def test_folding_keeps_lines_under_75_octets_and_unfolds_back(line: str) -> None:
    line = line.replace("\r", "").replace("\n", "")
    folded = fold(line)
    assert folded.replace("\r\n ", "") == line
    assert all(len(piece.encode()) <= 75 for piece in folded.split("\r\n"))
    assert all(
        not piece.endswith(("\\", "^")) or len(piece) <= 2 for piece in folded.split("\r\n ")[:-1]
    )
