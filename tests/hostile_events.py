"""Hostile calendar events (issue 11): what real apps and feeds can hold that would make
a naive reader run for minutes or eat gigabytes. Built as raw bytes (the way a server
hands them over), both as a change to a session's event and as an event of its own."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

#: Each hostile change, by name: what a coach's app or a feed did.
KINDS = ("secondly", "minutely", "exdates", "attendees", "description")
#: The ones that are a repeat rule (the rest are sheer size).
RULES = ("secondly", "minutely")
#: What the warning names, besides href and UID, for each kind.
CAPS = {
    "secondly": "rule_steps",
    "minutely": "rule_steps",
    "exdates": "lines",
    "attendees": "lines",
    "description": "resource_kb",
}


def hostile_lines(kind: str, start: datetime) -> list[str]:
    """The content lines that make an event hostile (a rule replaces the event's own)."""
    if kind == "secondly":
        return ["RRULE:FREQ=SECONDLY"]
    if kind == "minutely":
        return ["RRULE:FREQ=MINUTELY"]
    if kind == "exdates":
        stamp = start.astimezone(UTC)
        days = (stamp + timedelta(days=i) for i in range(1, 10_001))
        return ["RRULE:FREQ=DAILY", *(f"EXDATE:{d:%Y%m%dT%H%M%SZ}" for d in days)]
    if kind == "attendees":
        return [
            f"ATTENDEE;CN=Guest {i};PARTSTAT=NEEDS-ACTION:mailto:guest{i}@example.org"
            for i in range(5000)
        ]
    if kind == "description":  # 3 MB, folded as RFC 5545 wants (75 octets a line)
        text = "DESCRIPTION:" + "All work and no play makes Jack a dull boy. " * 70_000
        return ["\r\n ".join(text[i : i + 74] for i in range(0, len(text), 74))]
    raise ValueError(kind)


def make_hostile(data: bytes, kind: str, start: datetime) -> bytes:
    """``data`` (one session's resource) with its first VEVENT made hostile: its repeat
    rule replaced (or added), or the lines added before its END:VEVENT."""
    lines = hostile_lines(kind, start)
    text = data.decode()
    if lines[0].startswith("RRULE:"):
        text, n = re.subn(r"\r\nRRULE:[^\r\n]*", "\r\n" + lines[0], text, count=1)
        if n == 0:
            text = text.replace("\r\nEND:VEVENT", "\r\n" + lines[0] + "\r\nEND:VEVENT", 1)
        lines = lines[1:]
    added = "".join(f"\r\n{line}" for line in lines)
    text = text.replace("\r\nEND:VEVENT", added + "\r\nEND:VEVENT", 1)
    text = re.sub(r"SEQUENCE:(\d+)", lambda m: f"SEQUENCE:{int(m.group(1)) + 1}", text, count=1)
    return text.encode()


def hostile_event(kind: str, uid: str, start: datetime, minutes: int = 30) -> bytes:
    """A whole VCALENDAR holding one hostile busy event ``uid`` that starts at ``start``."""
    return calendar_of([event_lines(uid, start, minutes, hostile_lines(kind, start))])


def plain_event(uid: str, start: datetime, minutes: int = 60, summary: str = "Busy") -> bytes:
    return calendar_of([event_lines(uid, start, minutes, [], summary)])


def event_lines(
    uid: str, start: datetime, minutes: int, extra: list[str], summary: str = "Hostile"
) -> list[str]:
    begin, end = start.astimezone(UTC), (start + timedelta(minutes=minutes)).astimezone(UTC)
    return [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20261101T000000Z",
        f"DTSTART:{begin:%Y%m%dT%H%M%SZ}",
        f"DTEND:{end:%Y%m%dT%H%M%SZ}",
        f"SUMMARY:{summary}",
        *extra,
        "END:VEVENT",
    ]


def calendar_of(events: list[list[str]]) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//hostile//test//EN"]
    lines += [line for event in events for line in event]
    return ("\r\n".join([*lines, "END:VCALENDAR"]) + "\r\n").encode()


def feed_of(kinds: tuple[str, ...], start: datetime, plain: int = 3) -> bytes:
    """One ICS feed with every hostile kind (UIDs ``hostile-<kind>``) an hour apart a day
    apart, and ``plain`` ordinary busy events (UIDs ``plain-<i>``)."""
    events = [
        event_lines(f"hostile-{k}", start + timedelta(days=i), 30, hostile_lines(k, start))
        for i, k in enumerate(kinds)
    ]
    events += [
        event_lines(f"plain-{i}", start + timedelta(days=i, hours=3), 60, [], "Plain")
        for i in range(plain)
    ]
    return calendar_of(events)


@dataclass
class Cost:
    seconds: float = 0.0
    peak_mb: float = 0.0


@contextmanager
def measured() -> Iterator[Cost]:
    """Wall time and the peak of Python allocations (tracemalloc) of the block."""
    import time
    import tracemalloc

    cost = Cost()
    tracemalloc.start()
    began = time.perf_counter()
    try:
        yield cost
    finally:
        cost.seconds = time.perf_counter() - began
        cost.peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
