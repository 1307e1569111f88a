"""What real recipients get: iMIP per IMIP.md, received by a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import re
from datetime import datetime

from icalendar import Calendar

from book_helpers import at, move, plan, plan_one
from calbridge.book import Book, planning
from calbridge.book.requests import EditRequest
from calbridge.core.model import Actor, Kind, SeriesSpec
from calbridge.sync.desired import wanted_sessions
from conftest import Clock

from .smtp_helpers import Received, Recorder, by_recipient, calendar_part, send, vevents


def _sent(book: Book, recorder: Recorder) -> list[Received]:
    before = len(recorder.received)
    report = send(book)
    assert not report.failed and not report.retried, report
    return recorder.received[before:]


def _caldav_copy(book: Book, coach: str, uid: str) -> bytes:
    with book.transaction() as db:
        wanted = wanted_sessions(db, book.settings, book.coach(coach), [uid], book.clock())
    data = wanted[uid].data
    assert data is not None
    return data


def _check_shape(item: Received) -> tuple[bytes, str]:
    """IMIP.md's message shape, on the bytes the server received."""
    assert re.search(rb"(?<!\r)\n", item.raw) is None, "every line ends with CRLF"
    message = item.message
    assert message.get_content_type() == "multipart/mixed"
    assert message["MIME-Version"] == "1.0"
    assert item.raw.split(b"\r\n\r\n", 1)[0].count(b"MIME-Version:") == 1
    parts = list(message.iter_parts())
    assert parts[0].get_content_type() == "multipart/alternative"
    inner = [p.get_content_type() for p in parts[0].iter_parts()]
    assert inner == ["text/plain", "text/html", "text/calendar"]
    data, method = calendar_part(message)
    cal_part = list(parts[0].iter_parts())[2]
    assert str(cal_part.get_param("charset")).upper() == "UTF-8"
    assert Calendar.from_ical(data)["METHOD"] == method == method.upper()
    attachment = parts[1]
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_payload(decode=True) == data
    lines = data.split(b"\r\n")
    assert lines[-1] == b"" and all(b"\n" not in line for line in lines)
    assert all(len(line) <= 75 for line in lines), "folded at 75 octets"
    assert b"SCHEDULE-AGENT" not in data
    assert b"X-CALBRIDGE" not in data
    calendar = Calendar.from_ical(data)
    tzids = {
        str(prop.params["TZID"])
        for event in calendar.walk("VEVENT")
        for name in ("DTSTART", "DTEND", "RECURRENCE-ID")
        for prop in ([event[name]] if name in event else [])
        if "TZID" in prop.params
    }
    zones = {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")}
    assert tzids and tzids <= zones, "a VTIMEZONE for every TZID"
    assert message["From"].addresses[0].addr_spec == "sessions@practice.example"
    assert message["Reply-To"].addresses[0].addr_spec == "maia@practice.example"
    assert len(message["To"].addresses) == 1 and item.rcpt_tos == [
        message["To"].addresses[0].addr_spec
    ]
    return data, method


def _attendees(event: object) -> dict[str, dict[str, str]]:
    found = event["ATTENDEE"]  # type: ignore[index]
    found = found if isinstance(found, list) else [found]
    return {str(a).removeprefix("mailto:"): dict(a.params) for a in found}


def _text(item: Received) -> str:
    alternative = next(iter(item.message.iter_parts()))
    plain = next(iter(alternative.iter_parts()))
    return str(plain.get_content())


def test_plan_move_cancel_sequence_and_shape(mail_book: Book, recorder: Recorder) -> None:
    session = plan_one(
        mail_book,
        "2026-11-23T10:00",
        clients=("ana",),
        third_parties=["doc"],
        note="Bring the workbook. " + "Grüße aus Köln – " * 8,
        private_note="SECRET-ONLY-FOR-THE-BOOK",
    )
    got = by_recipient(_sent(mail_book, recorder))
    assert sorted(got) == ["ana@example.org", "third@example.org"]
    data, method = _check_shape(got["ana@example.org"][0])
    assert method == "REQUEST"
    (event,) = vevents(data)
    assert str(event["UID"]) == session.uid and int(event["SEQUENCE"]) == 0
    assert str(event["STATUS"]) == "TENTATIVE"  # awaits the client's acceptance
    assert str(event["TRANSP"]) == "OPAQUE"
    assert str(event["ORGANIZER"]) == "mailto:maia@practice.example"
    people = _attendees(event)
    assert people["ana@example.org"] == {
        "CN": "Ana Lopez",
        "ROLE": "REQ-PARTICIPANT",
        "PARTSTAT": "NEEDS-ACTION",
        "RSVP": "TRUE",
    }
    assert people["third@example.org"]["ROLE"] == "OPT-PARTICIPANT"
    assert b"\r\n " in data, "the long DESCRIPTION is folded"
    assert str(event["DESCRIPTION"]) == session.note  # folding kept every UTF-8 character
    text = _text(got["ana@example.org"][0])
    assert "Monday 23 November 2026, 10:00\u201311:00 (Europe/London time" in text
    assert "your coach's timezone" in text and "Bring the workbook" in text
    for (item,) in got.values():
        decoded = [p.get_payload(decode=True) or b"" for p in item.message.walk()]
        assert not any(b"SECRET-ONLY-FOR-THE-BOOK" in d for d in [item.raw, *decoded])
        assert any(b"Bring the workbook" in d for d in decoded)
    copy = _caldav_copy(mail_book, "maia", session.uid)
    assert b"SCHEDULE-AGENT=CLIENT" in copy and b"METHOD" not in copy
    (stored,) = vevents(copy)
    assert str(stored["UID"]) == session.uid and int(stored["SEQUENCE"]) == 0

    moved = move(mail_book, session.id or 0, "2026-11-24T14:00")
    got = by_recipient(_sent(mail_book, recorder))
    data, method = _check_shape(got["ana@example.org"][0])
    (event,) = vevents(data)
    assert method == "REQUEST" and int(event["SEQUENCE"]) == 1 == moved.sequence
    assert event.decoded("DTSTART") == at("2026-11-24T14:00")
    assert str(event["STATUS"]) == "TENTATIVE"  # the change waits for the client's answer
    assert "Was:" in _text(got["ana@example.org"][0])
    (stored,) = vevents(_caldav_copy(mail_book, "maia", session.uid))
    assert int(stored["SEQUENCE"]) == 1

    planning.cancel(mail_book, session.id or 0, Actor.ADMIN, "coach is ill")
    got = by_recipient(_sent(mail_book, recorder))
    assert sorted(got) == ["ana@example.org", "third@example.org"]
    data, method = _check_shape(got["third@example.org"][0])
    (event,) = vevents(data)
    assert method == "CANCEL" and int(event["SEQUENCE"]) == 2
    assert str(event["UID"]) == session.uid and str(event["STATUS"]) == "CANCELLED"
    assert "RECURRENCE-ID" not in event
    assert str(event["ORGANIZER"]) == "mailto:maia@practice.example"
    assert "coach is ill" in _text(got["third@example.org"][0])


def test_trivial_edit_and_sessions_over_send_nothing(
    mail_book: Book, recorder: Recorder, clock: Clock
) -> None:
    session = plan_one(mail_book, "2026-11-23T10:00")
    assert len(_sent(mail_book, recorder)) == 1
    same = move(mail_book, session.id or 0, "2026-11-23T10:00")
    assert same.sequence == 0 and _sent(mail_book, recorder) == []
    clock.now = datetime.fromisoformat("2026-11-23T12:00:00+00:00")  # the session is over
    planning.cancel(mail_book, session.id or 0, Actor.ADMIN, "late paperwork")
    assert _sent(mail_book, recorder) == []


def test_series_occurrence_cancel_and_this_and_following(
    mail_book: Book, recorder: Recorder
) -> None:
    rows = plan(
        mail_book,
        "2026-11-23T10:00",
        clients=("ana",),
        kind=Kind.CLIENT,
        series=SeriesSpec("weekly", (0,), count=4),
        remind=False,
    )
    data, method = _check_shape(_sent(mail_book, recorder)[0])
    (master,) = vevents(data)
    assert "RRULE" in master and int(master["SEQUENCE"]) == 0
    uid = rows[0].uid

    planning.cancel(mail_book, rows[1].id or 0, Actor.ADMIN, "holiday")
    (item,) = _sent(mail_book, recorder)
    data, method = _check_shape(item)
    (event,) = vevents(data)
    assert method == "CANCEL" and str(event["UID"]) == uid
    assert event.decoded("RECURRENCE-ID") == rows[1].start
    assert int(event["SEQUENCE"]) == 1
    copy = vevents(_caldav_copy(mail_book, "maia", uid))
    assert int(copy[0]["SEQUENCE"]) == 1 and "EXDATE" in copy[0]

    planning.cancel(mail_book, rows[2].id or 0, Actor.ADMIN, "moving away", following=True)
    (item,) = _sent(mail_book, recorder)
    data, method = _check_shape(item)
    events = vevents(data)
    assert method == "REQUEST" and len(events) == 1
    rule = events[0]["RRULE"]
    assert "UNTIL" in rule and "COUNT" not in rule
    assert rule["UNTIL"][0] < rows[2].start
    assert int(events[0]["SEQUENCE"]) == 2
    assert int(vevents(_caldav_copy(mail_book, "maia", uid))[0]["SEQUENCE"]) == 2
    assert "this and all following" in _text(item)

    planning.cancel(mail_book, rows[0].id or 0, Actor.ADMIN, "all off", following=True)
    (item,) = _sent(mail_book, recorder)
    data, method = _check_shape(item)
    (event,) = vevents(data)
    assert method == "CANCEL" and "RECURRENCE-ID" not in event and int(event["SEQUENCE"]) == 3


def test_client_requested_edit_is_a_confirmed_update(mail_book: Book, recorder: Recorder) -> None:
    session = plan_one(mail_book, "2026-11-23T10:00")
    _sent(mail_book, recorder)
    request = EditRequest(start=at("2026-11-25T11:00"), client_requested=True)
    planning.edit(mail_book, session.id or 0, request)
    (item,) = _sent(mail_book, recorder)
    data, _ = _check_shape(item)
    (event,) = vevents(data)
    assert str(event["STATUS"]) == "CONFIRMED" and int(event["SEQUENCE"]) == 1
    assert "as agreed with you" in _text(item)


def test_decline_tells_the_other_side(mail_book: Book, recorder: Recorder) -> None:
    session = plan_one(mail_book, "2026-11-23T10:00", clients=("ana", "ben"))
    _sent(mail_book, recorder)
    planning.answer(mail_book, session.id or 0, Actor.CLIENT, False, "ana")
    got = by_recipient(_sent(mail_book, recorder))
    assert sorted(got) == ["ben@example.org", "maia@practice.example"]
    assert "Ana Lopez declined" in _text(got["maia@practice.example"][0])
    _, method = _check_shape(got["ben@example.org"][0])
    assert method == "CANCEL"


def test_accepting_a_change_confirms_it_with_a_new_sequence(
    mail_book: Book, recorder: Recorder
) -> None:
    session = plan_one(mail_book, "2026-11-23T10:00")
    planning.answer(mail_book, session.id or 0, Actor.CLIENT, True, "ana")
    invitation, update = _sent(mail_book, recorder)  # TENTATIVE -> CONFIRMED is a change
    (event,) = vevents(_check_shape(invitation)[0])
    assert str(event["STATUS"]) == "TENTATIVE" and int(event["SEQUENCE"]) == 0
    (event,) = vevents(_check_shape(update)[0])
    assert str(event["STATUS"]) == "CONFIRMED" and int(event["SEQUENCE"]) == 1
    assert _attendees(event)["ana@example.org"]["PARTSTAT"] == "ACCEPTED"
    assert "RSVP" not in _attendees(event)["ana@example.org"]
    move(mail_book, session.id or 0, "2026-11-24T10:00")
    _sent(mail_book, recorder)
    accepted = planning.answer(mail_book, session.id or 0, Actor.CLIENT, True, "ana")
    (item,) = _sent(mail_book, recorder)
    (event,) = vevents(_check_shape(item)[0])
    assert str(event["STATUS"]) == "CONFIRMED" and int(event["SEQUENCE"]) == 3
    assert accepted.sequence == 3


def test_a_move_by_the_client_waits_for_the_coach(mail_book: Book, recorder: Recorder) -> None:
    session = plan_one(mail_book, "2026-11-23T10:00")
    _sent(mail_book, recorder)
    move(mail_book, session.id or 0, "2026-11-24T10:00", by=Actor.CLIENT)
    (item,) = _sent(mail_book, recorder)
    (event,) = vevents(_check_shape(item)[0])
    assert str(event["STATUS"]) == "TENTATIVE" and int(event["SEQUENCE"]) == 1
    assert "moved as the client asked" in _text(item)


def test_the_practice_accepting_a_client_request_tells_the_client(
    mail_book: Book, recorder: Recorder
) -> None:
    session = plan_one(mail_book, "2026-11-23T10:00", by=Actor.CLIENT)
    _sent(mail_book, recorder)
    planning.answer(mail_book, session.id or 0, Actor.COACH, True)
    (item,) = _sent(mail_book, recorder)
    assert item.rcpt_tos == ["ana@example.org"] and "the session is confirmed" in _text(item)
    planning.answer(mail_book, session.id or 0, Actor.COACH, False)
    (item,) = _sent(mail_book, recorder)
    _, method = _check_shape(item)
    assert method == "CANCEL" and "declined by Maia Jones" in _text(item)


def test_a_cancelled_occurrence_in_the_repeated_hour_keeps_its_instant() -> None:
    """A daily series at 01:30 London: on 31 October 2027 01:30 happens twice. Cancelling
    the second one (fold=1) must name that instant: RFC 5545 reads a TZID local time in
    the repeated hour as the first pass, so it is written in UTC."""
    from dataclasses import replace
    from datetime import UTC
    from zoneinfo import ZoneInfo

    from calbridge.ical.model import Attendee, EventSpec, Occurrence, Person
    from calbridge.mail.imip import cancel
    from validate_helpers import assert_valid

    london = ZoneInfo("Europe/London")
    second = datetime(2027, 10, 31, 1, 30, fold=1, tzinfo=london)
    assert second.astimezone(UTC) == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)
    ana = Person("Ana López", "ana@example.org")
    occurrence = Occurrence(second, second + (at("2027-01-01T11:00") - at("2027-01-01T10:00")))
    spec = EventSpec(
        uid="night@calbridge",
        sequence=2,
        tzid="Europe/London",
        organizer=Person("Maia Jones", "maia@practice.example"),
        master=replace(occurrence, attendees=(Attendee(ana),), summary="Coaching: Ana"),
    )
    data = cancel(spec, datetime(2027, 10, 1, tzinfo=UTC), recurrence_id=second)
    assert_valid(data)
    (event,) = Calendar.from_ical(data).walk("VEVENT")
    named = event.decoded("RECURRENCE-ID")
    assert named.astimezone(UTC) == datetime(2027, 10, 31, 1, 30, tzinfo=UTC), named
