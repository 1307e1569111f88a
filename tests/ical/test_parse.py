"""calbridge.ical.parse on real-world bytes: Outlook, Google, Apple, Nextcloud, Thunderbird."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calbridge.ical.model import Instance, MalformedEvent
from calbridge.ical.parse import iana_name, parse_feed, parse_instances, uid_of

DATA = Path(__file__).parent / "data"
LONDON = ZoneInfo("Europe/London")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
YEAR_2027 = (datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def resource(*event_lines: str, calendar_lines: tuple[str, ...] = ()) -> bytes:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Example Corp.//Scheduler 3.2//EN",
        *calendar_lines,
        "BEGIN:VEVENT",
        "UID:inline-1@scheduler.example",
        "DTSTAMP:20270301T090000Z",
        *event_lines,
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    return "\r\n".join(lines).encode()


def one(data: bytes, zone: ZoneInfo = LONDON) -> Instance:
    [instance] = parse_instances(data, YEAR_2027, zone)
    return instance


def by_summary(instances: list[Instance]) -> dict[str, list[Instance]]:
    found: dict[str, list[Instance]] = {}
    for instance in instances:
        found.setdefault(instance.summary, []).append(instance)
    return found


# --- Outlook: Windows zone names, custom VTIMEZONEs -----------------------------------


def test_outlook_feed_with_windows_and_custom_zones() -> None:
    instances, problems = parse_feed(read("outlook_feed.ics"), YEAR_2027, LONDON)
    assert problems == []
    found = by_summary(instances)
    assert [i.start for i in found["Partner planning"]] == [utc(2027, 4, 7, 12)]
    assert [i.start for i in found["Call with the New York office"]] == [utc(2027, 4, 8, 15)]
    assert [i.start for i in found["Call with the Pune team"]] == [utc(2027, 4, 10, 4, 30)]
    [holiday] = found["Public holiday"]
    assert holiday.all_day
    assert holiday.transp == "TRANSPARENT"
    assert (holiday.start, holiday.end) == (
        datetime(2027, 4, 9, tzinfo=LONDON),
        datetime(2027, 4, 10, tzinfo=LONDON),
    )


def test_outlook_series_keeps_its_exdate_and_override() -> None:
    instances, _ = parse_feed(read("outlook_feed.ics"), YEAR_2027, LONDON)
    found = by_summary(instances)
    series = found["Team stand-up"]
    assert [i.start.astimezone(BERLIN).replace(tzinfo=None) for i in series] == [
        datetime(2027, 4, 5, 9),
        datetime(2027, 4, 26, 9),  # 19 April is an EXDATE
        datetime(2027, 5, 3, 9),  # UNTIL=20270503T070000Z is 09:00 in Berlin
    ]
    assert all(i.recurrence_id == i.start for i in series)
    [moved] = found["Team stand-up (later today)"]
    assert moved.start == datetime(2027, 4, 12, 10, tzinfo=BERLIN)
    assert moved.recurrence_id == datetime(2027, 4, 12, 9, tzinfo=BERLIN)
    assert moved.uid == series[0].uid


def test_windows_zone_name_without_vtimezone() -> None:
    data = resource(
        "DTSTART;TZID=Eastern Standard Time:20270708T110000",
        "DTEND;TZID=Eastern Standard Time:20270708T113000",
    )
    instance = one(data)
    assert instance.start == datetime(2027, 7, 8, 11, tzinfo=NEW_YORK)
    assert instance.end - instance.start == timedelta(minutes=30)


def test_a_custom_zone_name_means_this_files_vtimezone() -> None:
    """Outlook calls many zones "Customized Time Zone": no definition leaks between files."""

    def custom(offset: str) -> bytes:
        return resource(
            "DTSTART;TZID=Customized Time Zone:20270708T100000",
            calendar_lines=(
                "BEGIN:VTIMEZONE",
                "TZID:Customized Time Zone",
                "BEGIN:STANDARD",
                "DTSTART:16010101T000000",
                f"TZOFFSETFROM:{offset}",
                f"TZOFFSETTO:{offset}",
                "END:STANDARD",
                "END:VTIMEZONE",
            ),
        )

    parse_feed(read("outlook_feed.ics"), YEAR_2027, LONDON)  # icalendar caches its +05:30
    assert one(custom("-0300")).start == utc(2027, 7, 8, 13)
    assert one(custom("+0530")).start == utc(2027, 7, 8, 4, 30)
    assert one(custom("-0300")).start == utc(2027, 7, 8, 13)


def test_vendor_prefixed_tzid_with_and_without_its_vtimezone() -> None:
    data = read("transparent.ics")
    without = re.sub(rb"BEGIN:VTIMEZONE.*?END:VTIMEZONE\r?\n", b"", data, flags=re.S)
    assert b"VTIMEZONE" not in without
    for variant in (data, without):
        instance = one(variant)
        assert instance.start == datetime(2027, 5, 12, 8, tzinfo=BERLIN)
        assert instance.transp == "TRANSPARENT"


@pytest.mark.parametrize(
    ("tzid", "name"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("W. Europe Standard Time", "Europe/Berlin"),
        ("GMT Standard Time", "Europe/London"),
        ("/mozilla.org/20050126_1/Europe/Berlin", "Europe/Berlin"),
        (
            "/freeassociation.sourceforge.net/Tzfile/America/Argentina/Buenos_Aires",
            "America/Argentina/Buenos_Aires",
        ),
        ("/citadel.org/20190914_1/Asia/Kolkata", "Asia/Kolkata"),
        ("Customized Time Zone/UTC", None),
        ("(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna", None),
        ("Mars/Base", None),
    ],
)
def test_iana_name(tzid: str, name: str | None) -> None:
    assert iana_name(tzid) == name


# --- Google: X-WR-TIMEZONE and floating times -----------------------------------------


def test_google_export_reads_floating_times_in_its_x_wr_timezone() -> None:
    instances, problems = parse_feed(read("google_export.ics"), YEAR_2027, LONDON)
    assert problems == []
    found = by_summary(instances)
    [supervision] = found["Supervision"]
    assert supervision.start == datetime(2027, 3, 10, 15, tzinfo=NEW_YORK)
    assert supervision.recurrence_id is None
    [day] = found["Conference day"]
    assert day.all_day
    assert day.start == datetime(2027, 3, 12, tzinfo=LONDON)


def test_google_series_in_utc_follows_new_york_wall_time_across_dst() -> None:
    instances, _ = parse_feed(read("google_export.ics"), YEAR_2027, LONDON)
    review = by_summary(instances)["Weekly review"]
    assert [i.start.astimezone(NEW_YORK).hour for i in review] == [10, 10, 10]
    assert [i.start for i in review] == [
        utc(2027, 3, 8, 15),
        utc(2027, 3, 15, 14),
        utc(2027, 3, 22, 14),
    ]
    assert review[0].partstats == {
        "maia@practice.example": "ACCEPTED",
        "carla.diaz@example.net": "TENTATIVE",
    }


def test_floating_time_without_x_wr_timezone_is_read_in_the_callers_zone() -> None:
    data = resource("DTSTART:20270708T100000", "DTEND:20270708T110000")
    assert one(data, LONDON).start == datetime(2027, 7, 8, 10, tzinfo=LONDON)
    assert one(data, NEW_YORK).start == datetime(2027, 7, 8, 10, tzinfo=NEW_YORK)


def test_an_unknown_x_wr_timezone_is_ignored() -> None:
    data = resource("DTSTART:20270708T100000", calendar_lines=("X-WR-TIMEZONE:Mars/Base",))
    assert one(data).start == datetime(2027, 7, 8, 10, tzinfo=LONDON)


# --- Apple, Nextcloud, Thunderbird, Sabre -----------------------------------------------


def test_apple_event_with_alarm_attachments_and_several_categories() -> None:
    instance = one(read("apple_event.ics"))
    assert instance.uid == "5B6E2C1A-9F3D-4E7B-8A21-0C4D5E6F7A8B"
    assert instance.summary == "Coaching – Ben Carter"
    assert (instance.start, instance.end) == (
        datetime(2027, 5, 6, 10, 30, tzinfo=LONDON),
        datetime(2027, 5, 6, 11, 30, tzinfo=LONDON),
    )
    assert instance.categories == ("Coaching", "Follow-up", "Paid")
    assert instance.partstats == {  # MAILTO: in capitals, the room's urn:uuid skipped
        "ben.carter@example.com": "ACCEPTED",
        "maia@practice.example": "ACCEPTED",
    }
    assert instance.x_props == {}


def test_recurring_event_with_rdate_period_and_exdate() -> None:
    found = parse_instances(read("rdate.ics"), YEAR_2027, LONDON)
    paris = ZoneInfo("Europe/Paris")
    assert [(i.start, i.end - i.start) for i in found] == [
        (datetime(2027, 3, 22, 9, tzinfo=paris), timedelta(hours=1)),
        (datetime(2027, 3, 29, 9, tzinfo=paris), timedelta(hours=1)),  # CEST from 28 March
        (utc(2027, 5, 3, 7), timedelta(hours=2)),  # the PERIOD's own length
    ]
    assert [i.recurrence_id for i in found] == [i.start for i in found]


def test_cancelled_event_keeps_its_status_and_markers() -> None:
    instance = one(read("cancelled.ics"))
    assert instance.status == "CANCELLED"
    assert instance.partstats == {"dana.evans@example.org": "DECLINED"}
    assert instance.x_props == {
        "X-CALBRIDGE-SESSION": "sess-2027-0412-dana",
        "X-CALBRIDGE-COACH": "maia",
    }


def test_lenient_about_lf_lower_case_tab_folding_and_no_version() -> None:
    data = read("lenient.ics")
    assert b"\r" not in data
    assert b"VERSION" not in data
    instance = one(data)
    assert instance.summary == "Follow-up call folded by an old exporter with a tab"
    assert instance.start == datetime(2027, 6, 15, 9, 30, tzinfo=LONDON)
    assert instance.end - instance.start == timedelta(minutes=45)  # DURATION:PT45M
    assert instance.categories == ("coaching",)
    assert instance.partstats == {"erin@example.org": "ACCEPTED"}
    assert instance.x_props == {"X-CALBRIDGE-SESSION": "s-99"}
    assert uid_of(data) == "lenient-1@legacy.example"


# --- defaults of RFC 5545 §3.6.1 -----------------------------------------------------


def test_a_date_time_without_end_lasts_no_time() -> None:
    instance = one(resource("DTSTART;TZID=Europe/London:20270708T100000"))
    assert instance.end == instance.start == datetime(2027, 7, 8, 10, tzinfo=LONDON)
    assert (instance.status, instance.transp) == ("CONFIRMED", "OPAQUE")


def test_a_date_without_end_lasts_one_day() -> None:
    instance = one(resource("DTSTART;VALUE=DATE:20270708"))
    assert instance.all_day
    assert (instance.start, instance.end) == (
        datetime(2027, 7, 8, tzinfo=LONDON),
        datetime(2027, 7, 9, tzinfo=LONDON),
    )


def test_only_occurrences_inside_the_window() -> None:
    data = resource("DTSTART:20270708T100000Z", "RRULE:FREQ=DAILY;COUNT=10")
    window = (utc(2027, 7, 10), utc(2027, 7, 12))
    assert [i.start for i in parse_instances(data, window, LONDON)] == [
        utc(2027, 7, 10, 10),
        utc(2027, 7, 11, 10),
    ]
    assert parse_instances(data, (utc(2028, 1, 1), utc(2028, 2, 1)), LONDON) == []


def test_an_open_ended_series_still_expands_after_2038() -> None:
    data = resource("DTSTART;TZID=Europe/London:20270104T100000", "RRULE:FREQ=WEEKLY")
    found = parse_instances(data, (utc(2040, 7, 1), utc(2040, 7, 15)), LONDON)
    assert [i.start for i in found] == [
        datetime(2040, 7, 2, 10, tzinfo=LONDON),
        datetime(2040, 7, 9, 10, tzinfo=LONDON),
    ]


# --- malformed resources ------------------------------------------------------------

MALFORMED = [
    ("malformed_no_dtstart.ics", "no DTSTART"),
    ("malformed_bad_rrule.ics", "RRULE could not be read: .*SOMETIMES"),
    ("malformed_unknown_tzid.ics", "unknown TZID 'Mars/Base'"),
    ("malformed_broken_folding.ics", "broken folding.*leading space of its continuation"),
    ("malformed_two_uids.ics", "holds 2 UIDs"),
    ("malformed_duplicate_uid.ics", "two masters"),
    ("malformed_end_before_start.ics", "DTEND .* is before DTSTART"),
]


@pytest.mark.parametrize(("name", "reason"), MALFORMED)
def test_malformed_resources_raise_with_a_reason(name: str, reason: str) -> None:
    with pytest.raises(MalformedEvent, match=reason):
        parse_instances(read(name), YEAR_2027, LONDON)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<html><body>502 Bad Gateway</body></html>", "not iCalendar"),
        (b"", "found nothing"),
        (b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ana\r\nEND:VCARD\r\n", "expected one VCALENDAR"),
        (
            b"BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:t\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
            "no VEVENT",
        ),
        (resource("DTSTART:20270708T100000Z", "DTSTART:20270709T100000Z"), "more than once"),
        (resource("DTSTART:20270708T100000Z", "DTEND;VALUE=DATE:20270709"), "not both"),
        (resource("DTSTART:20270708T100000Z", "DURATION:-PT1H"), "negative DURATION"),
        (resource("DTSTART;TZID=Mars/Base:20270708T100000"), "Mars/Base"),
    ],
)
def test_more_malformed_resources(data: bytes, reason: str) -> None:
    with pytest.raises(MalformedEvent, match=reason):
        parse_instances(data, YEAR_2027, LONDON)


def test_uid_of() -> None:
    assert uid_of(read("cancelled.ics")) == "sess-2027-0412-dana@calbridge"
    assert uid_of(read("rdate.ics")) == "c6f1a0d2-3b4e-4f5a-8b6c-7d8e9f0a1b2c"
    with pytest.raises(MalformedEvent, match="holds 2 UIDs"):
        uid_of(read("malformed_two_uids.ics"))
    with pytest.raises(MalformedEvent, match="no UID"):
        uid_of(
            b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20270101\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        )


# --- feeds -------------------------------------------------------------------------


def test_feed_keeps_the_good_events_and_names_the_bad_ones() -> None:
    with pytest.raises(MalformedEvent):
        parse_instances(read("feed_mixed.ics"), YEAR_2027, LONDON)  # one bad line sinks it
    instances, problems = parse_feed(read("feed_mixed.ics"), YEAR_2027, LONDON)
    assert [(i.summary, i.start) for i in instances] == [
        ("Booked: yoga", datetime(2027, 3, 10, 9, tzinfo=LONDON)),
        ("Booked: pilates", datetime(2027, 3, 11, 9, tzinfo=LONDON)),
        ("Booked: pilates", datetime(2027, 3, 12, 9, tzinfo=LONDON)),
        ("Closed: deep clean", datetime(2027, 3, 14, tzinfo=LONDON)),
    ]
    assert len(problems) == 4
    for uid, reason in [
        ("room2-bad-start", "no DTSTART"),
        ("room2-bad-rrule", "SOMETIMES"),
        ("room2-bad-tzid", "Mars/Base"),
        ("room2-bad-alarm", "leading space"),
    ]:
        assert [p for p in problems if uid in p and reason in p], (uid, problems)


@pytest.mark.parametrize(("name", "reason"), MALFORMED)
def test_feed_reports_each_malformed_file_as_a_problem(name: str, reason: str) -> None:
    instances, problems = parse_feed(read(name), YEAR_2027, LONDON)
    if name == "malformed_two_uids.ics":  # two UIDs are fine in a feed
        assert (len(instances), problems) == (2, [])
    else:
        assert instances == []
        [problem] = problems
        assert re.search(reason, problem)


def test_feed_edge_cases() -> None:
    empty = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nEND:VCALENDAR\r\n"
    assert parse_feed(empty, YEAR_2027, LONDON) == ([], [])
    unclosed = resource("DTSTART:20270708T100000Z").replace(b"END:VEVENT\r\n", b"")
    assert parse_feed(unclosed, YEAR_2027, LONDON) == (
        [],
        ["event 'inline-1@scheduler.example': VEVENT not closed by END:VEVENT"],
    )
    truncated = resource("DTSTART:20270708T100000Z").split(b"END:VEVENT")[0]
    assert parse_feed(truncated, YEAR_2027, LONDON)[1] == [
        "event 'inline-1@scheduler.example': VEVENT not closed by END:VEVENT"
    ]
    with pytest.raises(MalformedEvent, match="not iCalendar"):
        parse_feed(b"<html>oops</html>", YEAR_2027, LONDON)


def test_feed_of_concatenated_calendars() -> None:
    first = resource("DTSTART:20270708T100000Z")
    second = first.replace(b"inline-1@", b"inline-2@")
    instances, problems = parse_feed(first + second, YEAR_2027, LONDON)
    assert problems == []
    assert [i.uid for i in instances] == [
        "inline-1@scheduler.example",
        "inline-2@scheduler.example",
    ]


FIXTURES = sorted(DATA.glob("*.ics"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.sampled_from(FIXTURES),
    cut=st.integers(0, 10_000),
    edit=st.sampled_from(["drop", "repeat", "truncate", "garble"]),
    byte=st.integers(0, 255),
)
def test_damaged_files_only_ever_raise_malformed_event(
    path: Path, cut: int, edit: str, byte: int
) -> None:
    lines = path.read_bytes().split(b"\n")
    at = cut % len(lines)
    if edit == "drop":
        del lines[at]
    elif edit == "repeat":
        lines.insert(at, lines[at])
    elif edit == "truncate":
        lines[at] = lines[at][: cut % (len(lines[at]) + 1)]
    else:
        lines[at] = lines[at][:2] + bytes([byte]) + lines[at][3:]
    data = b"\n".join(lines)
    for read_it in (
        lambda: parse_instances(data, YEAR_2027, LONDON),
        lambda: parse_feed(data, YEAR_2027, LONDON),
        lambda: uid_of(data),
    ):
        try:
            read_it()
        except MalformedEvent as error:
            assert str(error)
