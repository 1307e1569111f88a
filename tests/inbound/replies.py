"""Answers shaped the way Gmail, Outlook and Apple Mail send them (RFC 6047 REPLY, COUNTER,
REFRESH), written from what their real messages look like (not copied from any):

- Gmail: ``multipart/mixed`` holding ``multipart/alternative`` (text/plain, text/html,
  ``text/calendar; method=REPLY``) and the same object again as ``application/ics``
  ``invite.ics`` in base64; times in UTC; ``X-NUM-GUESTS`` on the ATTENDEE; subject
  "Declined: <title> @ <when>".
- Outlook (Exchange): ``multipart/alternative`` with a base64 ``text/calendar`` in UTF-8,
  a VTIMEZONE under a Windows name ("GMT Standard Time"), ``COMMENT;LANGUAGE=``, and
  ``X-MICROSOFT-CDO-*`` properties; ATTENDEE value in upper-case ``MAILTO:``.
- Apple Mail (Calendar.app): ``multipart/mixed`` with text/plain and an ``iCal-*.ics``
  attachment ``text/calendar; method=REPLY`` in quoted-printable; ``EMAIL=`` on the
  ATTENDEE and an IANA TZID with its VTIMEZONE.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from zoneinfo import ZoneInfo

CLIENTS = ("gmail", "outlook", "apple")


@dataclass
class Answer:
    uid: str
    attendee: str
    partstat: str = "ACCEPTED"
    sequence: int = 0
    dtstamp: datetime = datetime(2026, 11, 21, 12, 5, tzinfo=UTC)
    start: datetime = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    end: datetime | None = None
    recurrence_id: datetime | None = None
    method: str = "REPLY"
    organizer: str = "maia@practice.example"
    sender: str | None = None  # From; default the attendee
    name: str = "Ana Lopez"
    comment: str = ""
    summary: str = "Session with Maia Jones"


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _local(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y%m%dT%H%M%S")


LONDON_VTIMEZONE = [
    "BEGIN:STANDARD", "DTSTART:16010101T020000", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0000",
    "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10", "END:STANDARD",
    "BEGIN:DAYLIGHT", "DTSTART:16010101T010000", "TZOFFSETFROM:+0000", "TZOFFSETTO:+0100",
    "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3", "END:DAYLIGHT",
]  # fmt: skip


def _ics(a: Answer, client: str) -> str:
    end = a.end or a.start + timedelta(hours=1)
    lines = ["BEGIN:VCALENDAR"]
    if client == "gmail":
        lines += ["PRODID:-//Google Inc//Google Calendar 70.9054//EN", "VERSION:2.0",
                  "CALSCALE:GREGORIAN", f"METHOD:{a.method}", "BEGIN:VEVENT",
                  f"DTSTART:{_utc(a.start)}", f"DTEND:{_utc(end)}", f"DTSTAMP:{_utc(a.dtstamp)}",
                  f"ORGANIZER;CN=Maia Jones:mailto:{a.organizer}", f"UID:{a.uid}",
                  "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT="
                  f"{a.partstat};CN={a.name};X-NUM-GUESTS=0:mailto:{a.attendee}"]  # fmt: skip
        if a.recurrence_id:
            lines.append(f"RECURRENCE-ID:{_utc(a.recurrence_id)}")
        lines += [f"SEQUENCE:{a.sequence}", "STATUS:CONFIRMED", f"SUMMARY:{a.summary}",
                  "TRANSP:OPAQUE"]  # fmt: skip
    elif client == "outlook":
        zone = "GMT Standard Time"
        lines += ["METHOD:" + a.method, "PRODID:Microsoft Exchange Server 2010", "VERSION:2.0",
                  "BEGIN:VTIMEZONE", f"TZID:{zone}", *LONDON_VTIMEZONE, "END:VTIMEZONE",
                  "BEGIN:VEVENT",
                  f"ATTENDEE;PARTSTAT={a.partstat};CN={a.name}:MAILTO:{a.attendee}",
                  f"COMMENT;LANGUAGE=en-GB:{a.comment}", f"UID:{a.uid}",
                  f"SUMMARY;LANGUAGE=en-GB:Accepted: {a.summary}",
                  f"DTSTART;TZID={zone}:{_local(a.start, 'Europe/London')}",
                  f"DTEND;TZID={zone}:{_local(end, 'Europe/London')}", "CLASS:PUBLIC",
                  "PRIORITY:5", f"DTSTAMP:{_utc(a.dtstamp)}", "TRANSP:OPAQUE", "STATUS:CONFIRMED",
                  f"SEQUENCE:{a.sequence}"]  # fmt: skip
        if a.recurrence_id:
            lines.append(f"RECURRENCE-ID;TZID={zone}:{_local(a.recurrence_id, 'Europe/London')}")
        lines += ["LOCATION:", "X-MICROSOFT-CDO-APPT-SEQUENCE:" + str(a.sequence),
                  "X-MICROSOFT-CDO-OWNERAPPTID:-1", "X-MICROSOFT-CDO-BUSYSTATUS:BUSY",
                  "X-MICROSOFT-CDO-ALLDAYEVENT:FALSE"]  # fmt: skip
    else:  # apple
        zone = "Europe/London"
        lines += ["VERSION:2.0", f"METHOD:{a.method}", "PRODID:-//Apple Inc.//macOS 14.5//EN",
                  "CALSCALE:GREGORIAN", "BEGIN:VTIMEZONE", f"TZID:{zone}",
                  *LONDON_VTIMEZONE, "END:VTIMEZONE", "BEGIN:VEVENT",
                  f"ATTENDEE;CN={a.name};CUTYPE=INDIVIDUAL;EMAIL={a.attendee};PARTSTAT="
                  f"{a.partstat}:mailto:{a.attendee}",
                  f"DTEND;TZID={zone}:{_local(end, zone)}",
                  f"DTSTART;TZID={zone}:{_local(a.start, zone)}",
                  f"DTSTAMP:{_utc(a.dtstamp)}", f"ORGANIZER;CN=Maia Jones:mailto:{a.organizer}",
                  f"SEQUENCE:{a.sequence}", f"SUMMARY:{a.summary}", f"UID:{a.uid}"]  # fmt: skip
        if a.recurrence_id:
            lines.append(f"RECURRENCE-ID;TZID={zone}:{_local(a.recurrence_id, zone)}")
    if a.comment and client != "outlook":
        lines.append(f"COMMENT:{a.comment}")
    lines += ["END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(lines)


def mail(a: Answer, client: str = "gmail", message_id: str | None = None) -> bytes:
    """The whole message as the client's mail server would deliver it."""
    ics = _ics(a, client)
    verb = {"ACCEPTED": "Accepted", "DECLINED": "Declined", "TENTATIVE": "Tentative"}
    subject = f"{verb.get(a.partstat, 'Updated')}: {a.summary}"
    if a.method == "COUNTER":
        subject = f"New time proposed: {a.summary}"
    msg = EmailMessage()
    msg["From"] = f"{a.name} <{a.sender or a.attendee}>"
    msg["To"] = f"Maia Jones <{a.organizer}>"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(a.dtstamp)
    msg["Message-ID"] = message_id or make_msgid(domain="client.example")
    text = f"{a.name} has {verb.get(a.partstat, 'answered').lower()} this invitation."
    method = a.method
    if client == "gmail":
        msg.set_content(text)
        msg.add_alternative(f"<p>{text}</p>", subtype="html")
        msg.add_alternative(ics, subtype="calendar", params={"method": method}, cte="7bit")
        msg.make_mixed()
        msg.add_attachment(ics.encode(), maintype="application", subtype="ics",
                           filename="invite.ics")  # fmt: skip
    elif client == "outlook":
        msg.set_content(text)
        msg.add_alternative(f"<html><body>{text}</body></html>", subtype="html")
        msg.add_alternative(ics, subtype="calendar", params={"method": method}, cte="base64")
        msg["Thread-Topic"] = a.summary
        msg["X-MS-Has-Attach"] = ""
    else:
        msg.set_content(text)
        msg.add_attachment(ics, subtype="calendar", params={"method": method},
                           filename="iCal-20261121-120500.ics", cte="quoted-printable")  # fmt: skip
    return msg.as_bytes()
