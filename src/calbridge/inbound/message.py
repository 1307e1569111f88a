"""One inbound mail read as an iTIP message (RFC 6047): REPLY, COUNTER, REFRESH, or not.

Lenient where mail clients differ (Gmail puts the object in ``multipart/alternative`` and
again as an ``application/ics`` attachment, Outlook sends base64 ``text/calendar`` with
Windows TZIDs, Apple Mail attaches ``iCal-*.ics`` and may name the attendee by an EMAIL
parameter); strict where applying would mean guessing: anything else raises
``NotItip`` with the reason the message is filed away. Pure: no I/O.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from icalendar import Component

from calbridge.ical.model import MalformedEvent
from calbridge.ical.parse import settled_calendar

METHODS = frozenset({"REPLY", "COUNTER", "REFRESH"})
_CALENDAR_TYPES = frozenset({"text/calendar", "application/ics"})
_BOUNCE_SENDERS = frozenset({"mailer-daemon", "postmaster"})


class NotItip(Exception):
    """The message cannot be applied; ``code`` is a short word for logs and metrics."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Itip:
    method: str
    uid: str
    sequence: int
    dtstamp: datetime  # UTC; the epoch when the message had none
    recurrence_id: datetime | None  # UTC
    attendee: str  # the answering attendee's address, lower case
    partstat: str
    start: datetime | None  # COUNTER: the proposed time (UTC)
    end: datetime | None
    comment: str
    sender: str  # the From address, lower case
    message_id: str
    key: str  # what makes this message the same message when it is seen again


def message_key(raw: bytes) -> str:
    """Message-ID when there is one, else a hash of the bytes (a re-delivered copy of the
    same message keeps both)."""
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw)  # headers only: cheap
    found = str(headers.get("Message-ID", "") or "").strip()
    return found[:255] if found else "sha256:" + hashlib.sha256(raw).hexdigest()


def read(raw: bytes, key: str | None = None) -> Itip:
    """The iTIP content of ``raw``, or ``NotItip`` saying why not."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        sender = parseaddr(str(message.get("From", "")))[1].lower()
    except (ValueError, TypeError, IndexError) as error:  # a header the parser cannot take
        raise NotItip("malformed", f"unreadable mail headers: {error}") from error
    assert isinstance(message, EmailMessage)
    _check_not_bounce(message, sender)
    data = _calendar_part(message)
    try:
        calendar, events = settled_calendar(data, ZoneInfo("UTC"))
    except MalformedEvent as error:
        raise NotItip("malformed", f"the calendar part cannot be read: {error}") from error
    method = str(calendar.get("METHOD", "")).upper()
    if method not in METHODS:
        raise NotItip("method", f"METHOD:{method or 'none'} is not a REPLY, COUNTER or REFRESH")
    if len(events) != 1:
        raise NotItip("malformed", f"{len(events)} VEVENTs: a {method} answers one at a time")
    event = events[0]
    attendee = _attendee(event, method)
    return Itip(
        method=method,
        uid=str(event["UID"]),
        sequence=_int(event.get("SEQUENCE", 0)),
        dtstamp=_utc(event.get("DTSTAMP")) or datetime(1970, 1, 1, tzinfo=UTC),
        recurrence_id=_utc(event.get("RECURRENCE-ID")),
        attendee=attendee[0],
        partstat=attendee[1],
        start=_utc(event.get("DTSTART")) if method == "COUNTER" else None,
        end=_end(event) if method == "COUNTER" else None,
        comment=str(event.get("COMMENT", "") or ""),
        sender=sender,
        message_id=str(message.get("Message-ID", "") or "").strip(),
        key=key or message_key(raw),
    )


def _check_not_bounce(message: EmailMessage, sender: str) -> None:
    local = sender.partition("@")[0]
    report = message.get_content_type() == "multipart/report"
    if report or local in _BOUNCE_SENDERS or not sender:
        kind = message.get_param("report-type", "") if report else ""
        raise NotItip("bounce", f"a bounce or delivery report ({kind or sender or 'no From'})")


def _calendar_part(message: EmailMessage) -> bytes:
    """The first ``text/calendar`` part (Gmail's inline one before its attachment copy)."""
    found = [p for p in message.walk() if p.get_content_type() in _CALENDAR_TYPES]
    inline = [p for p in found if p.get_content_type() == "text/calendar"]
    for part in inline or found:
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes) and payload.strip():
            return payload
    raise NotItip("no-calendar", "no text/calendar part: not an invitation answer")


def _attendee(event: Component, method: str) -> tuple[str, str]:
    """The one ATTENDEE a REPLY or COUNTER carries (REFRESH: the one asking)."""
    raw = event.get("ATTENDEE")
    attendees = raw if isinstance(raw, list) else [raw] if raw is not None else []
    if len(attendees) != 1:
        raise NotItip("malformed", f"{len(attendees)} ATTENDEEs: a {method} carries exactly one")
    prop = attendees[0]
    address = str(prop)
    if address.lower().startswith("mailto:"):
        address = address[7:]
    elif "EMAIL" in prop.params:  # Apple: ATTENDEE;EMAIL=x@y:urn:uuid:...
        address = str(prop.params["EMAIL"])
    address = address.strip().lower()
    if "@" not in address:
        raise NotItip("malformed", f"the ATTENDEE {str(prop)!r} is not a mail address")
    partstat = str(prop.params.get("PARTSTAT", "NEEDS-ACTION")).upper()
    return address, partstat


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError as error:
        raise NotItip("malformed", f"SEQUENCE {value!r} is not a number") from error


def _utc(prop: object) -> datetime | None:
    if prop is None:
        return None
    value = getattr(prop, "dt", None)
    if not isinstance(value, datetime):
        raise NotItip("malformed", f"{value!r} is not a date-time")
    return value.astimezone(UTC)


def _end(event: Component) -> datetime | None:
    start = _utc(event.get("DTSTART"))
    if "DTEND" in event:
        return _utc(event["DTEND"])
    duration = getattr(event.get("DURATION"), "dt", None)
    if start is None or not isinstance(duration, timedelta):
        return None
    return start + duration
