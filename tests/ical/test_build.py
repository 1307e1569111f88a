"""calbridge.ical.build on bytes: the coach's CalDAV copy, round trips and the fingerprint."""

from __future__ import annotations

import random
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from calbridge.core.recurrence import Recurrence
from calbridge.ical.build import fingerprint, render_all_day, render_event, render_with_fingerprint
from calbridge.ical.model import AllDay, Attendee, EventSpec, Instance, Occurrence, Person
from calbridge.ical.parse import parse_instances, uid_of
from calbridge.ical.publish import render_feed
from validate_helpers import assert_valid

LONDON = ZoneInfo("Europe/London")
STAMP = datetime(2027, 1, 4, 9, 30, tzinfo=UTC)
WINDOW = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2029, 1, 1, tzinfo=UTC))
COACH = Person("Maia Jones", "maia@practice.example")
ANA = Person("Ana López", "ana@example.org")
BEN = Person("Ben Carter", "ben.carter@example.com")
ZONES = sorted(available_timezones() - {"Factory", "localtime"})
BASE = EventSpec(
    uid="sess-42@calbridge",
    sequence=0,
    tzid="Europe/London",
    organizer=COACH,
    master=Occurrence(STAMP, STAMP),
)


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def session(
    start: datetime,
    minutes: int = 60,
    *,
    status: str = "CONFIRMED",
    attendees: tuple[Attendee, ...] = (Attendee(ANA),),
    summary: str = "Coaching: Ana López",
    description: str = "Session 3 of 6",
    recurrence_id: datetime | None = None,
) -> Occurrence:
    end = after(start, timedelta(minutes=minutes))
    return Occurrence(start, end, status, attendees, summary, description, recurrence_id)


def after(start: datetime, duration: timedelta) -> datetime:
    """``start`` plus ``duration`` of real time (aware arithmetic in Python is wall time)."""
    if start.tzinfo is None:
        return start + duration
    return (start.astimezone(UTC) + duration).astimezone(start.tzinfo)


def spec(master: Occurrence, **changes: Any) -> EventSpec:
    return replace(BASE, master=master, **changes)


def weekly_series() -> EventSpec:
    """Mondays 10:00 London from 15 March 2027 (BST starts 28 March), one moved, one off."""
    moved = session(london(2027, 3, 30, 14, 0), recurrence_id=london(2027, 3, 29, 10, 0))
    return spec(
        session(london(2027, 3, 15, 10, 0)),
        sequence=3,
        rrule=Recurrence.parse("FREQ=WEEKLY;COUNT=6"),
        exdates=(london(2027, 4, 5, 10, 0),),
        overrides=(moved,),
    )


def unfolded(data: bytes) -> list[str]:
    return data.decode().replace("\r\n ", "").split("\r\n")


def lines_named(data: bytes, name: str) -> list[str]:
    """The content lines called ``name`` outside VTIMEZONE blocks."""
    text = re.sub(r"BEGIN:VTIMEZONE.*?END:VTIMEZONE", "", "\n".join(unfolded(data)), flags=re.S)
    return [line for line in text.split("\n") if re.match(rf"{name}[;:]", line)]


def instances(data: bytes) -> list[Instance]:
    return parse_instances(data, WINDOW, LONDON)


# --- round trips ---------------------------------------------------------------------


def test_single_session_round_trip() -> None:
    data = render_event(
        spec(
            session(london(2027, 5, 6, 10, 30), 50),
            color="teal",
            categories=("coaching", "paid"),
            x_props={"X-CALBRIDGE-SESSION": "42", "X-CALBRIDGE-COACH": "maia"},
        ),
        stamp=STAMP,
    )
    [instance] = parse_instances(data, WINDOW, LONDON)
    assert instance.uid == "sess-42@calbridge" == uid_of(data)
    assert instance.recurrence_id is None
    assert (instance.start, instance.end) == (
        london(2027, 5, 6, 10, 30),
        london(2027, 5, 6, 11, 20),
    )
    assert (instance.status, instance.transp, instance.all_day) == ("CONFIRMED", "OPAQUE", False)
    assert instance.summary == "Coaching: Ana López"
    assert instance.categories == ("coaching", "paid")
    assert instance.partstats == {"ana@example.org": "NEEDS-ACTION"}
    assert instance.x_props == {"X-CALBRIDGE-SESSION": "42", "X-CALBRIDGE-COACH": "maia"}
    assert lines_named(data, "COLOR") == ["COLOR:teal"]
    assert lines_named(data, "DTSTAMP") == ["DTSTAMP:20270104T093000Z"]
    assert lines_named(data, "ORGANIZER") == [
        'ORGANIZER;CN="Maia Jones":mailto:maia@practice.example'
    ]


def test_group_session_with_a_third_party() -> None:
    attendees = (Attendee(ANA), Attendee(BEN, role="OPT-PARTICIPANT"))
    data = render_event(spec(session(london(2027, 5, 6, 10), attendees=attendees)), stamp=STAMP)
    ana, ben = lines_named(data, "ATTENDEE")
    assert ana == (
        'ATTENDEE;CN="Ana López";PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=TRUE;'
        "SCHEDULE-AGENT=CLIENT:mailto:ana@example.org"
    )
    assert ben == (
        'ATTENDEE;CN="Ben Carter";PARTSTAT=NEEDS-ACTION;ROLE=OPT-PARTICIPANT;'
        "SCHEDULE-AGENT=CLIENT:mailto:ben.carter@example.com"
    )
    [instance] = instances(data)
    assert instance.partstats == {
        "ana@example.org": "NEEDS-ACTION",
        "ben.carter@example.com": "NEEDS-ACTION",
    }


def test_an_answered_attendee_is_not_asked_to_rsvp() -> None:
    attendee = Attendee(ANA, partstat="ACCEPTED")
    data = render_event(spec(session(london(2027, 5, 6, 10), attendees=(attendee,))))
    [line] = lines_named(data, "ATTENDEE")
    assert "PARTSTAT=ACCEPTED" in line
    assert "RSVP" not in line


def test_weekly_series_across_the_march_dst_change() -> None:
    data = render_event(weekly_series(), stamp=STAMP)
    found = parse_instances(data, WINDOW, LONDON)
    starts = [i.start.astimezone(LONDON).replace(tzinfo=None) for i in found]
    assert starts == [
        datetime(2027, 3, 15, 10),
        datetime(2027, 3, 22, 10),
        datetime(2027, 3, 30, 14),  # moved from Monday 29 March
        datetime(2027, 4, 12, 10),  # 5 April is an EXDATE
        datetime(2027, 4, 19, 10),
    ]
    assert [i.start.utcoffset() for i in found] == [timedelta(0)] * 2 + [timedelta(hours=1)] * 3
    assert [i.recurrence_id for i in found] == [
        london(2027, 3, 15, 10),
        london(2027, 3, 22, 10),
        london(2027, 3, 29, 10),
        london(2027, 4, 12, 10),
        london(2027, 4, 19, 10),
    ]
    assert all(i.end - i.start == timedelta(hours=1) for i in found)
    assert lines_named(data, "EXDATE") == ["EXDATE;TZID=Europe/London:20270405T100000"]
    assert lines_named(data, "RECURRENCE-ID") == [
        "RECURRENCE-ID;TZID=Europe/London:20270329T100000"
    ]
    assert lines_named(data, "UID") == ["UID:sess-42@calbridge"] * 2


def test_hold_is_tentative_and_busy() -> None:
    data = render_event(spec(session(london(2027, 6, 1, 9), status="TENTATIVE")), stamp=STAMP)
    [instance] = instances(data)
    assert (instance.status, instance.transp) == ("TENTATIVE", "OPAQUE")
    assert lines_named(data, "STATUS") == ["STATUS:TENTATIVE"]
    assert lines_named(data, "TRANSP") == ["TRANSP:OPAQUE"]


def test_closure_is_an_all_day_event_with_an_exclusive_end() -> None:
    closure = AllDay(
        uid="closure-2027-08@calbridge",
        start=date(2027, 8, 2),
        end=date(2027, 8, 7),
        summary="Practice closed",
        categories=("closure",),
        x_props={"X-CALBRIDGE-CLOSURE": "summer"},
    )
    data = render_all_day(closure, stamp=STAMP)
    assert lines_named(data, "DTSTART") == ["DTSTART;VALUE=DATE:20270802"]
    assert lines_named(data, "DTEND") == ["DTEND;VALUE=DATE:20270807"]
    assert b"VTIMEZONE" not in data
    assert b"METHOD" not in data
    [instance] = instances(data)
    assert instance.all_day
    assert (instance.start, instance.end) == (london(2027, 8, 2), london(2027, 8, 7))
    assert instance.x_props == {"X-CALBRIDGE-CLOSURE": "summer"}


def test_closure_must_last_a_day() -> None:
    with pytest.raises(ValueError, match="not after start"):
        render_all_day(AllDay("c@calbridge", date(2027, 8, 2), date(2027, 8, 2), "Closed"))


def test_video_session_has_url_and_conference() -> None:
    link = "https://meet.example.com/maia/ana-4f2c?pwd=Zx81"
    data = render_event(spec(session(london(2027, 5, 6, 10)), url=link), stamp=STAMP)
    assert lines_named(data, "URL") == [f"URL:{link}"]
    assert lines_named(data, "CONFERENCE") == [f"CONFERENCE;FEATURE=VIDEO;VALUE=URI:{link}"]
    event = Calendar.from_ical(data).events[0]
    assert [c.uri for c in event.conferences] == [link]


def test_a_utc_session_uses_z_and_no_vtimezone() -> None:
    data = render_event(spec(session(london(2027, 7, 1, 10)), tzid="UTC"), stamp=STAMP)
    assert lines_named(data, "DTSTART") == ["DTSTART:20270701T090000Z"]
    assert b"TZID" not in data
    [instance] = instances(data)
    assert instance.start == london(2027, 7, 1, 10)


def test_the_second_pass_through_a_repeated_hour_keeps_its_instant() -> None:
    second = datetime(2027, 10, 31, 1, 30, fold=1, tzinfo=LONDON)  # 01:30 GMT, not BST
    data = render_event(spec(session(second, 20)), stamp=STAMP)
    assert lines_named(data, "DTSTART") == ["DTSTART:20271031T013000Z"]
    [instance] = instances(data)
    # PEP 495: a time whose offset depends on fold never equals one in another zone.
    assert instance.start.timestamp() == second.timestamp()


def test_dtstamp_defaults_to_now() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    data = render_event(spec(session(london(2027, 5, 6, 10))))
    [line] = lines_named(data, "DTSTAMP")
    written = datetime.strptime(line, "DTSTAMP:%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert before <= written <= datetime.now(UTC)


# --- the rules for the coach's CalDAV copy ---------------------------------------------

ALL_KINDS = [
    spec(session(london(2027, 5, 6, 10))),
    weekly_series(),
    spec(session(london(2027, 6, 1, 9), status="TENTATIVE")),
    spec(session(london(2027, 5, 6, 10)), url="https://meet.example.com/x", tzid="Asia/Kolkata"),
]


@pytest.mark.parametrize("event", ALL_KINDS)
def test_no_method_property(event: EventSpec) -> None:
    data = render_event(event)
    assert not [line for line in unfolded(data) if line.upper().startswith("METHOD")]
    assert unfolded(data)[:4] == [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//calbridge//calbridge//EN",
        "CALSCALE:GREGORIAN",
    ]


@pytest.mark.parametrize("event", ALL_KINDS)
def test_schedule_agent_client_on_every_attendee(event: EventSpec) -> None:
    attendees = lines_named(render_event(event), "ATTENDEE")
    assert attendees
    assert all(";SCHEDULE-AGENT=CLIENT" in line for line in attendees)


@pytest.mark.parametrize("event", ALL_KINDS)
def test_a_vtimezone_for_every_tzid(event: EventSpec) -> None:
    data = render_event(event)
    used = set(re.findall(r";TZID=([^;:]+)", data.decode().replace("\r\n ", "")))
    defined = set(re.findall(r"\r\nTZID:([^\r]+)", data.decode()))
    assert used == {event.tzid}
    assert used <= defined


@pytest.mark.parametrize("event", ALL_KINDS)
def test_the_vtimezone_passes_libical_as_a_stored_object_and_in_a_feed(event: EventSpec) -> None:
    """No ``COMMENT:This timezone only works from ...`` (icalendar adds it; RFC 5545 has no
    COMMENT in a VTIMEZONE and libical refuses it), in the copy, the mail and the feed."""
    copy = render_event(event)
    stamp = datetime(2026, 11, 21, 12, tzinfo=UTC)
    feed = render_feed([event], [], "Maia", timedelta(hours=1), "https://x.example/f.ics", stamp)
    for data in (copy, render_event(event, method="REQUEST"), feed):
        zones = re.findall(r"BEGIN:VTIMEZONE.*?END:VTIMEZONE", data.decode(), flags=re.S)
        assert zones and not any("COMMENT" in zone for zone in zones)
    assert_valid(copy, caldav=True)
    assert_valid(feed)


def test_crlf_and_folding_at_75_octets_without_splitting_characters() -> None:
    description = "Grüße aus Köln — 日本語のテキスト, ça va? 🙂 " * 12
    data = render_event(spec(session(london(2027, 5, 6, 10), description=description)))
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    physical = data.split(b"\r\n")[:-1]
    assert max(len(line) for line in physical) <= 75
    for line in physical:
        line.decode("utf-8")  # each folded piece is whole characters
    assert sum(line.startswith(b" ") for line in physical) > 5
    [event] = Calendar.from_ical(data).events
    assert event["DESCRIPTION"] == description


def test_a_summary_cannot_inject_a_property() -> None:
    data = render_event(spec(session(london(2027, 5, 6, 10), summary="Hi\r\nMETHOD:CANCEL")))
    assert lines_named(data, "SUMMARY") == ["SUMMARY:Hi\\nMETHOD:CANCEL"]
    assert not lines_named(data, "METHOD")
    [instance] = instances(data)
    assert instance.summary == "Hi\nMETHOD:CANCEL"


def test_names_and_markers_cannot_inject_either() -> None:
    person = Person('Ana "Ace"\r\nMETHOD:CANCEL', "ana@example.org")
    data = render_event(
        spec(
            session(london(2027, 5, 6, 10), attendees=(Attendee(person),)),
            x_props={"X-CALBRIDGE-NOTE": "a;b,c\r\nMETHOD:CANCEL\x00"},
        )
    )
    assert not lines_named(data, "METHOD")
    [attendee] = lines_named(data, "ATTENDEE")
    assert attendee.startswith("ATTENDEE;CN=\"Ana ^'Ace^' METHOD:CANCEL\";")
    [instance] = instances(data)
    assert instance.x_props == {"X-CALBRIDGE-NOTE": "a;b,c\nMETHOD:CANCEL"}


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (spec(session(london(2027, 5, 6, 10)), x_props={"X-A:B": "v"}), "X- property name"),
        (spec(session(london(2027, 5, 6, 10)), x_props={"SUMMARY": "v"}), "X- property name"),
        (spec(session(london(2027, 5, 6, 10)), organizer=Person("M", "m@x\r\n")), "e-mail"),
        (spec(session(london(2027, 5, 6, 10)), tzid="Mars/Base"), "unknown time zone"),
        (spec(session(london(2027, 5, 6, 10), status="MAYBE")), "STATUS"),
        (spec(session(london(2027, 5, 6, 10)), transp="BUSY"), "TRANSP"),
        (spec(session(london(2027, 5, 6, 10), minutes=-5)), "ends before"),
        (spec(session(datetime(2027, 5, 6, 10))), "naive"),
        (
            spec(session(london(2027, 5, 6, 10)), overrides=(session(london(2027, 5, 7, 10)),)),
            "overrides need an rrule",
        ),
        (
            spec(
                session(london(2027, 5, 6, 10)),
                rrule=Recurrence.parse("FREQ=DAILY"),
                overrides=(session(london(2027, 5, 7, 10)),),
            ),
            "recurrence_id",
        ),
    ],
)
def test_bad_specs_are_refused(event: EventSpec, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_event(event)


@settings(max_examples=60, deadline=None)
@given(
    zone_name=st.sampled_from(ZONES),
    wall=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 12, 31)),
    fold=st.integers(0, 1),
    minutes=st.integers(0, 24 * 60),
)
def test_round_trip_keeps_start_and_end_in_any_zone(
    zone_name: str, wall: datetime, fold: int, minutes: int
) -> None:
    zone = ZoneInfo(zone_name)
    start = wall.replace(second=0, microsecond=0, fold=fold, tzinfo=zone)
    event = spec(session(start, minutes), tzid=zone_name)
    window = (start - timedelta(days=1), start + timedelta(days=2))
    [instance] = parse_instances(render_event(event), window, zone)
    # Compared in UTC: Python compares and subtracts times in one zone by wall clock.
    assert instance.start.astimezone(UTC) == start.astimezone(UTC)
    assert instance.end.astimezone(UTC) - start.astimezone(UTC) == timedelta(minutes=minutes)


# --- fingerprint -----------------------------------------------------------------------


def reserialized(data: bytes, rng: random.Random, width: int, newline: str) -> bytes:
    """What a server might store: properties shuffled, params reordered, refolded."""
    out: list[str] = []
    block: list[str] = []
    for line in unfolded(data)[:-1]:
        if line.startswith(("BEGIN:", "END:")):
            rng.shuffle(block)
            out += [*block, line]
            block = []
        else:
            block.append(shuffled_params(line, rng))
    folded = [piece for line in out for piece in fold(line, width, rng)]
    return (newline.join(folded) + newline).encode()


def shuffled_params(line: str, rng: random.Random) -> str:
    match = re.match(r'((?:[^:"]|"[^"]*")*):(.*)', line)
    assert match
    head, value = match.groups()
    name, *params = re.findall(r'(?:[^;"]|"[^"]*")+', head)
    rng.shuffle(params)
    return ";".join([name, *params]) + ":" + value


def fold(line: str, width: int, rng: random.Random) -> list[str]:
    pieces = [line[i : i + width] for i in range(0, len(line), width)]
    return pieces[:1] + [rng.choice(" \t") + piece for piece in pieces[1:]]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(), width=st.integers(20, 74), newline=st.sampled_from(["\r\n", "\n"]))
def test_fingerprint_ignores_order_folding_and_line_ends(
    seed: int, width: int, newline: str
) -> None:
    data = render_event(weekly_series(), stamp=STAMP)
    again = render_event(weekly_series(), stamp=STAMP + timedelta(days=3))
    assert again != data
    assert fingerprint(reserialized(again, random.Random(seed), width, newline)) == fingerprint(
        data
    )


def test_fingerprint_survives_radicale_and_xandikos_serializers() -> None:
    vobject = pytest.importorskip("vobject")
    data = render_event(weekly_series(), stamp=STAMP)
    by_radicale = vobject.readOne(data.decode()).serialize().encode()
    by_xandikos = Calendar.from_ical(data).to_ical(sorted=False)
    assert by_radicale != data
    assert fingerprint(by_radicale) == fingerprint(by_xandikos) == fingerprint(data)


def test_fingerprint_ignores_what_servers_and_clients_add() -> None:
    data = render_event(weekly_series(), stamp=STAMP)
    lines = unfolded(data)
    at = lines.index("BEGIN:VEVENT") + 1
    lines[at:at] = [
        "X-MOZ-GENERATION:4",
        "LAST-MODIFIED:20270105T101010Z",
        "CREATED:20270104T093000Z",
    ]
    lines.insert(2, "X-WR-CALNAME:Maia")
    assert fingerprint("\r\n".join(lines).encode()) == fingerprint(data)
    without_vtimezone = re.sub(rb"BEGIN:VTIMEZONE.*?END:VTIMEZONE\r?\n", b"", data, flags=re.S)
    assert fingerprint(without_vtimezone) == fingerprint(data)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            "DTSTART;TZID=Europe/London:20270315T100000",
            "DTSTART;TZID=Europe/London:20270315T110000",
        ),
        ("PARTSTAT=NEEDS-ACTION", "PARTSTAT=ACCEPTED"),
        ('CN="Ana López"', 'CN="Ana Lopez"'),
        ("X-CALBRIDGE-SESSION:42", "X-CALBRIDGE-SESSION:43"),
        ("STATUS:CONFIRMED", "STATUS:CANCELLED"),
        ("SEQUENCE:0", "SEQUENCE:1"),
        ("RRULE:", "EXDATE;TZID=Europe/London:20270412T100000\r\nRRULE:"),
    ],
)
def test_fingerprint_sees_changes_of_meaning(old: str, new: str) -> None:
    data = render_event(
        spec(
            session(london(2027, 3, 15, 10)),
            rrule=Recurrence.parse("FREQ=WEEKLY"),
            x_props={"X-CALBRIDGE-SESSION": "42"},
        ),
        stamp=STAMP,
    )
    text = "\r\n".join(unfolded(data))
    assert text.count(old) == 1
    assert fingerprint(text.replace(old, new).encode()) != fingerprint(data)


def test_fingerprint_of_bytes_that_are_not_icalendar_is_stable() -> None:
    junk = b"<html><body>502 Bad Gateway</body></html>\r\n"
    assert fingerprint(junk) == fingerprint(junk.replace(b"\r\n", b"\n"))
    assert fingerprint(junk) != fingerprint(b"<html></html>")
    assert re.fullmatch(r"[0-9a-f]{64}", fingerprint(junk))


TRICKY = [
    *ALL_KINDS,
    spec(
        session(
            london(2027, 5, 6, 10), attendees=(Attendee(ANA), Attendee(BEN, "OPT-PARTICIPANT"))
        ),
        color="tomato",
        categories=("Session", "Video session"),
        x_props={"X-CALBRIDGE-SESSION": "7", "X-CALBRIDGE-KIND": "video"},
    ),
    spec(session(london(2027, 5, 6, 10), description="Line one\nLine two; with, commas")),
]


@pytest.mark.parametrize("event", TRICKY)
def test_the_fingerprint_of_a_rendering_equals_that_of_its_bytes(event: EventSpec) -> None:
    """The sync takes its own events' fingerprints from the calendar as built; they must be
    exactly what ``fingerprint`` reads from the bytes (or every pass would rewrite them)."""
    data, fp = render_with_fingerprint(event, STAMP)
    assert data == render_event(event, STAMP)
    assert fp == fingerprint(data)


@settings(max_examples=40, deadline=None)
@given(
    zone_name=st.sampled_from(ZONES),
    wall=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2050, 12, 31)),
    minutes=st.integers(1, 24 * 60),
    text=st.text(max_size=40),
)
def test_fingerprints_agree_for_any_zone_time_and_text(
    zone_name: str, wall: datetime, minutes: int, text: str
) -> None:
    start = wall.replace(second=0, microsecond=0, tzinfo=ZoneInfo(zone_name))
    event = spec(session(start, minutes, summary=text or "x", description=text), tzid=zone_name)
    data, fp = render_with_fingerprint(event, STAMP)
    assert fp == fingerprint(data)
