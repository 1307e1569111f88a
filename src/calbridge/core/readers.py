"""Who reads a time and in which zone, and how a time reads to them. Pure.

Mail, texts and the client's own page all show times this way (``mail.bodies``,
``sms.texts``, ``book.client_page``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Reader:
    """Who reads a message and in which zone; ``own_zone`` False: the coach's was used."""

    name: str
    email: str
    zone: ZoneInfo
    own_zone: bool = True
    party: str | None = None  # the client's or third party's id; None: the coach


def reader_of(
    name: str, email: str, coach_zone: ZoneInfo, own: str | None, party: str | None
) -> Reader:
    """A client's or third party's view: their own zone if they have one, else the coach's."""
    if own:
        return Reader(name, email, ZoneInfo(own), True, party)
    return Reader(name, email, coach_zone, False, party)


def when(start: datetime, end: datetime, reader: Reader) -> str:
    """``Monday 23 November 2026, 10:00-11:00 (Europe/London time)``, in the reader's zone."""
    a, b = start.astimezone(reader.zone), end.astimezone(reader.zone)
    day = f"{a:%A} {a.day} {a:%B %Y}"
    until = f"{b:%H:%M}" if a.date() == b.date() else f"{b:%A} {b.day} {b:%B %Y} {b:%H:%M}"
    where = f"{reader.zone.key} time"
    if not reader.own_zone:
        where += ", your coach's timezone"
    return f"{day}, {a:%H:%M}\u2013{until} ({where})"
