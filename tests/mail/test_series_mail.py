"""A series in mail after cancellations: a CANCEL with RECURRENCE-ID per occurrence,
later REQUESTs with the master open and the EXDATE, a CANCEL of the whole at the end;
answers and agreed moves are each client's own."""

from __future__ import annotations

from typing import Any

from icalendar import Calendar

from book_helpers import at, move, plan
from calbridge.book import Book, planning
from calbridge.book.requests import EditRequest
from calbridge.core.model import Actor, SeriesSpec, Session
from calbridge.sync.desired import wanted_sessions
from validate_helpers import assert_valid

from .smtp_helpers import Recorder, calendar_part, send, vevents


def _sent(book: Book, recorder: Recorder) -> list[tuple[str, str, bytes]]:
    """(recipient, METHOD, calendar) of each message sent since the last call, validated."""
    before = len(recorder.received)
    report = send(book)
    assert not report.failed and not report.retried, report
    out = []
    for item in recorder.received[before:]:
        data, method = calendar_part(item.message)
        assert_valid(data)
        out.append((item.rcpt_tos[0], method, data))
    return out


def _copy(book: Book, uid: str) -> bytes | None:
    with book.transaction() as db:
        wanted = wanted_sessions(db, book.settings, book.coach("maia"), [uid], book.clock())
    data = wanted[uid].data
    if data is not None:
        assert_valid(data, caldav=True)
    return data


def _series(book: Book, count: int = 3) -> list[Session]:
    return plan(
        book, "2026-11-23T10:00", series=SeriesSpec("weekly", (0,), count=count), remind=False
    )


def _master(data: bytes) -> Any:
    return next(e for e in vevents(data) if "RECURRENCE-ID" not in e)


def _exdates(event: Any) -> list[Any]:
    found = event.get("EXDATE", [])
    return [d.dt for prop in (found if isinstance(found, list) else [found]) for d in prop.dts]


def test_cancelling_the_first_keeps_the_series_open(mail_book: Book, recorder: Recorder) -> None:
    rows = _series(mail_book)
    _sent(mail_book, recorder)
    planning.cancel(mail_book, rows[0].id or 0, Actor.ADMIN, "ill")
    ((_, method, data),) = _sent(mail_book, recorder)
    (event,) = vevents(data)
    assert method == "CANCEL" and event.decoded("RECURRENCE-ID") == rows[0].start
    copy = _copy(mail_book, rows[0].uid)
    assert copy is not None and b"STATUS:CANCELLED" not in copy
    assert _exdates(_master(copy)) == [rows[0].start]
    assert str(_master(copy)["STATUS"]) == "TENTATIVE"

    move(mail_book, rows[1].id or 0, "2026-12-01T14:00")  # a later change of the series
    ((_, method, data),) = _sent(mail_book, recorder)
    master = _master(data)
    assert method == "REQUEST" and str(master["STATUS"]) == "TENTATIVE"
    assert master.decoded("DTSTART") == rows[0].start and _exdates(master) == [rows[0].start]
    assert b"STATUS:CANCELLED" not in data


def test_cancelling_each_occurrence_ends_in_a_cancel_of_the_whole(
    mail_book: Book, recorder: Recorder
) -> None:
    rows = _series(mail_book)
    _sent(mail_book, recorder)
    for row in (rows[1], rows[2]):  # the middle one, then the last
        planning.cancel(mail_book, row.id or 0, Actor.ADMIN)
        ((_, method, data),) = _sent(mail_book, recorder)
        (event,) = vevents(data)
        assert method == "CANCEL" and event.decoded("RECURRENCE-ID") == row.start
    copy = _copy(mail_book, rows[0].uid)
    assert copy is not None and _exdates(_master(copy)) == [rows[1].start, rows[2].start]
    assert str(_master(copy)["STATUS"]) == "TENTATIVE"
    planning.cancel(mail_book, rows[0].id or 0, Actor.ADMIN)
    ((_, method, data),) = _sent(mail_book, recorder)
    (event,) = vevents(data)
    assert method == "CANCEL" and "RECURRENCE-ID" not in event
    assert str(event["UID"]) == rows[0].uid and int(event["SEQUENCE"]) == 3
    assert _copy(mail_book, rows[0].uid) is None


def test_this_and_all_following_from_the_first_cancels_the_whole(
    mail_book: Book, recorder: Recorder
) -> None:
    rows = _series(mail_book)
    _sent(mail_book, recorder)
    planning.cancel(mail_book, rows[1].id or 0, Actor.ADMIN, following=True)
    ((_, method, data),) = _sent(mail_book, recorder)
    master = _master(data)
    assert method == "REQUEST" and str(master["STATUS"]) == "TENTATIVE"
    assert "UNTIL" in master["RRULE"] and b"STATUS:CANCELLED" not in data
    planning.cancel(mail_book, rows[0].id or 0, Actor.ADMIN, following=True)
    ((_, method, data),) = _sent(mail_book, recorder)
    assert method == "CANCEL" and "RECURRENCE-ID" not in vevents(data)[0]
    assert _copy(mail_book, rows[0].uid) is None


def test_a_group_answer_and_an_agreed_move_are_per_client(
    mail_book: Book, recorder: Recorder
) -> None:
    (session,) = plan(mail_book, "2026-11-23T10:00", clients=("ana", "ben"))
    _sent(mail_book, recorder)
    planning.answer(mail_book, session.id or 0, Actor.CLIENT, True, "ana")
    got = _sent(mail_book, recorder)  # TENTATIVE -> CONFIRMED: the update to everyone
    assert sorted(r for r, _, _ in got) == ["ana@example.org", "ben@example.org"]
    people = _attendees(got[0][2])
    assert people["ana@example.org"] == ("ACCEPTED", None)
    assert people["ben@example.org"] == ("NEEDS-ACTION", "TRUE")

    planning.edit(mail_book, session.id or 0, _agreed("2026-11-25T11:00"))
    got = _sent(mail_book, recorder)
    for _, method, data in got:
        assert method == "REQUEST" and str(vevents(data)[0]["STATUS"]) == "CONFIRMED"
        assert set(_attendees(data).values()) == {("ACCEPTED", None)}
    copy = _copy(mail_book, session.uid)
    assert copy is not None and set(_attendees(copy).values()) == {("ACCEPTED", None)}


def _agreed(start: str) -> EditRequest:
    """A move agreed with the clients (``--client-requested``)."""
    return EditRequest(start=at(start), client_requested=True)


def _attendees(data: bytes) -> dict[str, tuple[str, str | None]]:
    (event,) = Calendar.from_ical(data).walk("VEVENT")
    found = event["ATTENDEE"]
    found = found if isinstance(found, list) else [found]
    return {
        str(a).removeprefix("mailto:"): (str(a.params["PARTSTAT"]), a.params.get("RSVP"))
        for a in found
        if a.params.get("ROLE") == "REQ-PARTICIPANT"
    }


def test_a_series_accepted_occurrence_by_occurrence_sends_one_confirmation(
    mail_book: Book, recorder: Recorder
) -> None:
    rows = _series(mail_book)
    _sent(mail_book, recorder)
    for row in rows:  # as the sync applies an ACCEPTED on the series' master
        planning.answer(mail_book, row.id or 0, Actor.CLIENT, True, "ana")
    ((rcpt, method, data),) = _sent(mail_book, recorder)
    assert (rcpt, method) == ("ana@example.org", "REQUEST")
    events = vevents(data)
    assert [str(e["STATUS"]) for e in events] == ["CONFIRMED"]  # no override left
    assert int(events[0]["SEQUENCE"]) == 3
