"""Closures, the coach's revert notice, and header injection, through a real SMTP server."""

from __future__ import annotations

from collections.abc import Callable
from email import message_from_bytes, policy

from book_helpers import plan_one
from calbridge.book import Book
from calbridge.book.closures import ClosureMode, add_closure
from calbridge.core.model import Kind
from calbridge.core.timeutil import parse_date
from calbridge.mail import envelope
from calbridge.mail.bodies import Body
from calbridge.store.tables import ClientRow
from calbridge.sync import importer
from calbridge.sync.desired import wanted_sessions
from conftest import NOW, base_config

from .conftest import add_people
from .smtp_helpers import Recorder, calendar_part, send, smtp_config, vevents


def _plain(raw: bytes) -> str:
    message = message_from_bytes(raw, policy=policy.default)
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def test_closure_modes(mail_book: Book, recorder: Recorder) -> None:
    first = plan_one(mail_book, "2026-11-23T10:00", clients=("ana",))
    plan_one(mail_book, "2026-11-25T10:00", clients=("ben",))
    send(mail_book)
    recorder.received.clear()
    day = parse_date("2026-11-23")
    add_closure(mail_book, day, day, "snow", "maia", ClosureMode.NOTIFY_ONLY)
    send(mail_book)
    (item,) = recorder.received
    assert item.rcpt_tos == ["ana@example.org"]
    text = _plain(item.raw)
    assert "closed 2026-11-23: snow" in text
    assert "text/calendar" not in item.raw.decode()
    recorder.received.clear()

    add_closure(mail_book, day, day, "snow again", "maia", ClosureMode.NOTIFY_AND_CANCEL)
    send(mail_book)
    (item,) = recorder.received
    data, method = calendar_part(item.message)
    (event,) = vevents(data)
    assert method == "CANCEL" and str(event["UID"]) == first.uid
    assert "snow again" in _plain(item.raw)
    recorder.received.clear()

    friday = parse_date("2026-11-25")
    add_closure(mail_book, friday, friday, "quietly", "maia", ClosureMode.CANCEL_ONLY)
    send(mail_book)
    assert recorder.received == []


def test_a_reverted_calendar_edit_tells_the_coach_why(mail_book: Book, recorder: Recorder) -> None:
    session = plan_one(mail_book, "2026-11-23T10:00")
    send(mail_book)
    recorder.received.clear()
    coach = mail_book.coach("maia")
    with mail_book.transaction() as db:
        wanted = wanted_sessions(db, mail_book.settings, coach, [session.uid], NOW)
    data = wanted[session.uid].data
    assert data is not None
    # The coach drags the session to last two days in their calendar: no session is that long.
    edited = data.replace(
        b"DTEND;TZID=Europe/London:20261123T110000", b"DTEND;TZID=Europe/London:20261125T110000"
    )
    assert edited != data
    outcome = importer.import_event(mail_book, coach, [session], edited)
    assert outcome.refused
    send(mail_book)
    (item,) = recorder.received
    assert item.rcpt_tos == ["maia@practice.example"]
    message = item.message
    assert str(message["Subject"]).startswith("Your calendar edit was reverted")
    text = _plain(item.raw)
    assert f"session {session.id} was reverted because" in text and "24 hours" in text


def test_cr_lf_in_names_and_summaries_never_make_headers(
    make_book: Callable[..., Book], smtp: tuple[Recorder, int]
) -> None:
    recorder, port = smtp
    config = base_config("unused")
    coaches = config["coaches"]
    coaches[0]["name"] = "Maia\r\nBcc: victim@evil.example"
    book = make_book(mail=smtp_config(port), state_dir="state", coaches=coaches)
    add_people(book)
    with book.transaction() as db:  # a name written around the CLI's checks
        row = db.get(ClientRow, "ana")
        assert row is not None
        row.name = "Ana\r\nBcc: victim@evil.example\r\nSubject: pwned"
    plan_one(book, "2026-11-23T10:00", third_parties=["doc"])
    plan_one(
        book,
        "2026-11-24T10:00",
        clients=(),
        kind=Kind.TEAM,
        third_parties=["doc"],
        note="Team\r\nBcc: victim@evil.example",
    )
    report = send(book)
    assert len(report.sent) == 3
    for item in recorder.received:
        head = item.raw.split(b"\r\n\r\n", 1)[0].decode()
        names = [
            line.split(":", 1)[0].lower() for line in head.split("\r\n") if line[:1] not in " \t"
        ]
        assert "bcc" not in names and names.count("subject") == 1 and names.count("to") == 1
        assert "victim@evil.example" not in item.rcpt_tos
        data, _ = calendar_part(item.message)
        for line in data.split(b"\r\n"):
            assert not line.startswith((b"Bcc", b"Subject")), line
    assert sorted(r for item in recorder.received for r in item.rcpt_tos) == [
        "ana@example.org",
        "third@example.org",
        "third@example.org",
    ]


def test_envelope_is_pure_and_refuses_a_broken_address() -> None:
    body = Body("Hi\nthere", ("hello",))
    message = envelope.build(
        sender=envelope.Party("Practice", "sessions@practice.example"),
        reply_to=envelope.Party("Coach\r\nX-Evil: 1", "maia@practice.example"),
        to=envelope.Party("Ana", "ana@example.org"),
        body=body,
        date=NOW,
    )
    assert message["X-Evil"] is None and message["Subject"] == "Hi there"
    try:
        envelope.build(
            sender=envelope.Party("P", "sessions@practice.example"),
            reply_to=envelope.Party("C", "maia@practice.example"),
            to=envelope.Party("A", "ana@example.org\r\nBcc: x@y.z"),
            body=body,
            date=NOW,
        )
    except ValueError as exc:
        assert "not an e-mail address" in str(exc)
    else:
        raise AssertionError("a CR/LF address was accepted")
