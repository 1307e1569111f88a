"""Hostile events cost bounded work to read (issue 11): every cap of [sync.bounds] stops
the reading early, names the UID and the cap, and lets ordinary events through."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from calbridge.ical.bounds import DEFAULT, Bounds, PastCap, content_lines, rule_steps
from calbridge.ical.busyread import busy_instances
from calbridge.ical.model import MalformedEvent
from calbridge.ical.parse import parse_feed, parse_instances, uid_of
from hostile_events import CAPS, KINDS, calendar_of, event_lines, feed_of, hostile_event, measured

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 12, 3, 10, tzinfo=UTC)
WINDOW = (START - timedelta(days=1), START + timedelta(days=400))


@pytest.mark.parametrize("kind", KINDS)
def test_a_hostile_event_is_refused_early_naming_its_uid_and_cap(kind: str) -> None:
    data = hostile_event(kind, f"bad-{kind}", START)
    with measured() as cost, pytest.raises(PastCap) as caught:
        parse_instances(data, WINDOW, LONDON, DEFAULT)
    assert f"bad-{kind}" in str(caught.value) and CAPS[kind] in str(caught.value)
    # Today's reading runs for minutes and gigabytes; this one stops at once.
    assert cost.seconds < 2.0, cost
    assert cost.peak_mb < 40, cost


@pytest.mark.parametrize("kind", ["exdates", "attendees", "description"])
def test_size_caps_are_checked_before_parsing(kind: str) -> None:
    data = hostile_event(kind, "big", START)
    with measured() as cost, pytest.raises(PastCap, match="big"):
        uid_of(data, DEFAULT)
    assert cost.seconds < 0.5 and cost.peak_mb < 1 + len(data) / 2**20, cost


def test_the_occurrence_cap_stops_an_expansion_at_the_cap() -> None:
    hourly = calendar_of([event_lines("hourly", START, 30, ["RRULE:FREQ=HOURLY"])])
    with measured() as cost, pytest.raises(PastCap, match=r"hourly.*more than 5000"):
        parse_instances(hourly, WINDOW, LONDON, DEFAULT)
    assert cost.seconds < 15.0, cost  # 0.3 s untraced on an idle machine
    small = Bounds(occurrences=20)
    with pytest.raises(PastCap, match="more than 20 occurrences"):
        parse_instances(hourly, WINDOW, LONDON, small)
    daily = calendar_of([event_lines("daily", START, 30, ["RRULE:FREQ=DAILY;COUNT=20"])])
    assert len(parse_instances(daily, WINDOW, LONDON, small)) == 20


def test_configured_caps_are_the_ones_applied() -> None:
    data = calendar_of([event_lines("weekly", START, 30, ["RRULE:FREQ=WEEKLY"])])
    assert len(parse_instances(data, WINDOW, LONDON, DEFAULT)) == 58
    with pytest.raises(PastCap, match="lines"):
        parse_instances(data, WINDOW, LONDON, Bounds(lines=5))
    with pytest.raises(PastCap, match="resource_kb"):
        parse_instances(data + b" " * 20_000, WINDOW, LONDON, Bounds(resource_kb=16))
    with pytest.raises(PastCap, match="rule_steps"):
        parse_instances(data, WINDOW, LONDON, Bounds(rule_steps=10))
    with pytest.raises(PastCap, match="resource_lines"):
        parse_instances(data, WINDOW, LONDON, Bounds(resource_lines=5))


def test_the_longest_series_calbridge_writes_is_under_the_default_caps() -> None:
    """260 occurrences (the most a series may have), each an override with attendees."""
    people = [f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:c{i}@example.org" for i in range(6)]
    padding = [f"X-CALBRIDGE-NOTE-{i}:{'x' * 60}" for i in range(12)]
    events = [event_lines("long", START, 60, ["RRULE:FREQ=WEEKLY;COUNT=260", *people])]
    for week in range(1, 260):
        when = START + timedelta(weeks=week)
        rid = f"RECURRENCE-ID:{when:%Y%m%dT%H%M%SZ}"
        events.append(event_lines("long", when, 60, [rid, *people, *padding]))
    data = calendar_of(events)
    assert len(data) < DEFAULT.resource_kb * 1024 and content_lines(data) > 6000
    found = parse_instances(data, (START, START + timedelta(weeks=261)), LONDON, DEFAULT)
    assert len(found) == 260


def test_ordinary_long_running_series_stay_under_every_cap() -> None:
    since = datetime(2000, 1, 3, 9, tzinfo=UTC)
    for rule, expected in (("FREQ=DAILY", 401), ("FREQ=WEEKLY;BYDAY=MO,WE,FR", 172)):
        data = calendar_of([event_lines("old", since, 30, [f"RRULE:{rule}"])])
        assert len(parse_instances(data, WINDOW, LONDON, DEFAULT)) == expected
    rule = {"FREQ": ["SECONDLY"], "COUNT": [10]}
    assert rule_steps(rule, START, START + timedelta(days=1)) == 10
    assert content_lines(b"A:1\r\nB:2\r\n 3\r\nC:4") == 3


def test_a_feed_of_hostile_events_reads_its_ordinary_ones() -> None:
    feed = feed_of(KINDS, START, plain=3)
    with measured() as cost:
        found, problems = parse_feed(feed, WINDOW, LONDON, DEFAULT)
    assert {i.uid for i in found} == {"plain-0", "plain-1", "plain-2"}
    assert sorted(p.split("'")[1] for p in problems) == sorted(f"hostile-{k}" for k in KINDS)
    assert cost.seconds < 10.0, cost


def test_for_busy_time_doubt_means_busy() -> None:
    one, other = START, START + timedelta(days=1)
    masters = [event_lines("twice", one, 60, []), event_lines("twice", other, 60, [])]
    two_masters = calendar_of(masters)
    with pytest.raises(MalformedEvent, match="two masters"):
        parse_instances(two_masters, WINDOW, LONDON, DEFAULT)
    found, doubt = busy_instances(two_masters, WINDOW, LONDON, DEFAULT)
    assert [i.start for i in found] == [one, other]
    assert doubt is not None and "twice" in doubt
    rid = f"RECURRENCE-ID:{other:%Y%m%dT%H%M%SZ}"
    moved = [
        event_lines("series", one, 60, ["RRULE:FREQ=DAILY;COUNT=3"]),
        event_lines("series", other + timedelta(hours=2), 60, [rid]),
        event_lines("series", other + timedelta(hours=5), 60, [rid]),
    ]
    found, doubt = busy_instances(calendar_of(moved), WINDOW, LONDON, DEFAULT)
    hours = [(i.start - one) / timedelta(hours=1) for i in found]
    assert hours == [0, 26, 29, 48] and doubt is not None and "RECURRENCE-ID" in doubt
    plain, none = busy_instances(calendar_of(moved[:2]), WINDOW, LONDON, DEFAULT)
    assert len(plain) == 3 and none is None
