"""`session edit` of participants, per seat: only the added one is invited, only the one
taken off gets a CANCEL naming them alone (RFC 5546 §3.2.5); received by aiosmtpd."""

from __future__ import annotations

from sqlalchemy import select

from book_helpers import plan_one
from calbridge.book import Book, session_edit
from calbridge.book.requests import FieldEdit
from calbridge.core.model import Kind
from calbridge.mail.outbox import put
from calbridge.store.tables import OutboxRow

from .smtp_helpers import Recorder, by_recipient, calendar_part, send, vevents


def _sent(book: Book, recorder: Recorder) -> dict[str, list[bytes]]:
    before = len(recorder.received)
    report = send(book)
    assert not report.failed and not report.retried, report
    got = by_recipient(recorder.received[before:])
    return {who: [calendar_part(m.message)[0] for m in items] for who, items in got.items()}


def _attendees(event: object) -> list[str]:
    found = event["ATTENDEE"]  # type: ignore[index]
    found = found if isinstance(found, list) else [found]
    return sorted(str(a).removeprefix("mailto:") for a in found)


def _method(data: bytes) -> str:
    return "CANCEL" if b"METHOD:CANCEL" in data else "REQUEST"


def test_an_added_client_alone_is_invited(mail_book: Book, recorder: Recorder) -> None:
    session = plan_one(mail_book, "2026-11-23T10:00", clients=("ana",))
    _sent(mail_book, recorder)  # the first invitation
    edited = session_edit.edit(mail_book, session.id or 0, FieldEdit(add_clients=["ben"]))
    assert edited.clients == ["ana", "ben"] and edited.sequence == session.sequence
    got = _sent(mail_book, recorder)
    assert list(got) == ["ben@example.org"], "ana gets nothing new"
    (data,) = got["ben@example.org"]
    assert _method(data) == "REQUEST"
    (event,) = vevents(data)
    assert str(event["UID"]) == session.uid and int(event["SEQUENCE"]) == session.sequence
    assert _attendees(event) == ["ana@example.org", "ben@example.org"]


def test_a_removed_client_alone_gets_a_cancel_naming_them(
    mail_book: Book, recorder: Recorder
) -> None:
    session = plan_one(mail_book, "2026-11-23T10:00", clients=("ana", "ben"), third_parties=["doc"])
    _sent(mail_book, recorder)
    edited = session_edit.edit(mail_book, session.id or 0, FieldEdit(remove_clients=["ben"]))
    assert edited.clients == ["ana"] and edited.third_parties == ["doc"]
    assert edited.sequence == session.sequence, "the others' copies and answers still match"
    got = _sent(mail_book, recorder)
    assert list(got) == ["ben@example.org"], "a per-seat CANCEL, never a whole-event one"
    (data,) = got["ben@example.org"]
    assert _method(data) == "CANCEL"
    (event,) = vevents(data)
    assert str(event["UID"]) == session.uid
    assert int(event["SEQUENCE"]) == session.sequence + 1
    assert str(event["STATUS"]) == "CANCELLED"
    assert _attendees(event) == ["ben@example.org"]
    assert "RECURRENCE-ID" not in event


def test_third_parties_in_and_out(mail_book: Book, recorder: Recorder) -> None:
    session = plan_one(mail_book, "2026-11-23T10:00", clients=("ana",))
    _sent(mail_book, recorder)
    session_edit.edit(mail_book, session.id or 0, FieldEdit(add_third_parties=["doc"]))
    got = _sent(mail_book, recorder)
    assert list(got) == ["third@example.org"] and _method(got["third@example.org"][0]) == "REQUEST"
    session_edit.edit(mail_book, session.id or 0, FieldEdit(remove_third_parties=["doc"]))
    got = _sent(mail_book, recorder)
    assert list(got) == ["third@example.org"] and _method(got["third@example.org"][0]) == "CANCEL"
    (event,) = vevents(got["third@example.org"][0])
    assert _attendees(event) == ["third@example.org"]


def test_field_edits_mail_nothing(mail_book: Book, recorder: Recorder) -> None:
    """IMIP.md: notes, kind, service and direct/indirect are not significant changes."""
    session = plan_one(mail_book, "2026-11-23T10:00", clients=("ana",))
    _sent(mail_book, recorder)
    req = FieldEdit(note="Bring the workbook", kind=Kind.VIDEO, direct=False)
    edited = session_edit.edit(mail_book, session.id or 0, req)
    assert edited.note == "Bring the workbook" and not edited.direct
    assert _sent(mail_book, recorder) == {}


def test_a_removed_clients_queued_reminder_is_dropped(mail_book: Book) -> None:
    session = plan_one(mail_book, "2026-11-23T10:00", clients=("ana", "ben"))
    with mail_book.transaction() as db:
        for who in ("ana@example.org", "ben@example.org"):
            now = mail_book.clock()
            put(db, "mail", f"<r.{who}>", who, b"", "reminder", now, session.id, None, None)
    session_edit.edit(mail_book, session.id or 0, FieldEdit(remove_clients=["ben"]))
    with mail_book.transaction() as db:
        rows = db.scalars(select(OutboxRow).where(OutboxRow.kind == "reminder"))
        states = {r.recipient: r.state for r in rows}
    assert states == {"ana@example.org": "queued", "ben@example.org": "dropped"}


def test_a_client_added_back_gets_a_request_above_their_cancel(
    mail_book: Book, recorder: Recorder
) -> None:
    """Their calendar holds the CANCEL at SEQUENCE+1: a REQUEST below it would be ignored."""
    session = plan_one(mail_book, "2026-11-23T10:00", clients=("ana", "ben"))
    _sent(mail_book, recorder)
    session_edit.edit(mail_book, session.id or 0, FieldEdit(remove_clients=["ben"]))
    (cancel,) = _sent(mail_book, recorder)["ben@example.org"]
    session_edit.edit(mail_book, session.id or 0, FieldEdit(add_clients=["ben"]))
    got = _sent(mail_book, recorder)
    assert list(got) == ["ben@example.org"]
    (event,) = vevents(got["ben@example.org"][0])
    (gone,) = vevents(cancel)
    assert _method(got["ben@example.org"][0]) == "REQUEST"
    assert int(event["SEQUENCE"]) >= int(gone["SEQUENCE"]) > session.sequence
    assert _attendees(event) == ["ana@example.org", "ben@example.org"]
