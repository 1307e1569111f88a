"""The sender against a real SMTP server: refusals, outages, give-up, 5xx, two instances."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from book_helpers import plan_one
from calbridge.book import Book
from calbridge.mail.sender import SendReport, backoff, send_due
from calbridge.mail.transport import eml_name
from calbridge.store.tables import OutboxRow
from conftest import Clock

from .conftest import add_people
from .smtp_helpers import Recorder, free_port, send, smtp_config, smtp_server


def _rows(book: Book) -> list[OutboxRow]:
    with book.transaction() as db:
        return list(db.scalars(select(OutboxRow).order_by(OutboxRow.id)))


def _three(book: Book) -> None:
    plan_one(book, "2026-11-23T10:00", clients=("ana", "ben"), third_parties=["doc"])


def test_refused_for_a_while_then_everything_once(
    mail_book: Book, recorder: Recorder, clock: Clock
) -> None:
    _three(mail_book)
    recorder.refuse_data = 4  # 451 for the first four DATA commands
    report = send(mail_book)
    assert len(report.retried) == 3 and not report.sent
    assert {r.state for r in _rows(mail_book)} == {"queued"}
    assert all(r.not_before == clock.now + backoff(1) for r in _rows(mail_book))
    assert send(mail_book).sent == []  # not due yet: nobody hammers the server
    clock.now += backoff(1)
    report = send(mail_book)
    assert len(report.sent) == 2 and len(report.retried) == 1
    clock.now += backoff(2)
    assert len(send(mail_book).sent) == 1
    counts = Counter(recorder.ids())
    assert len(counts) == 3 and set(counts.values()) == {1}
    assert {r.state for r in _rows(mail_book)} == {"sent"}


def test_server_down_then_up(make_book: Callable[..., Book], clock: Clock) -> None:
    port = free_port()
    book = make_book(mail=smtp_config(port), state_dir="state")
    add_people(book)
    _three(book)
    report = send(book)
    assert len(report.retried) == 1 and report.error and "cannot reach" in report.error
    with smtp_server(port) as (recorder, _):
        for _ in range(6):
            clock.now += timedelta(hours=1)
            send(book)
        counts = Counter(recorder.ids())
    assert len(counts) == 3 and set(counts.values()) == {1}


def test_gives_up_after_the_configured_time_with_a_log_line(
    make_book: Callable[..., Book], clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    mail = smtp_config(free_port()) | {"give_up_after_hours": 2}
    book = make_book(mail=mail, state_dir="state")
    add_people(book)
    plan_one(book, "2026-11-23T10:00")
    send(book)
    clock.now += timedelta(hours=1)
    send(book)
    assert _rows(book)[0].state == "queued" and _rows(book)[0].attempts == 2
    clock.now += timedelta(hours=1, minutes=1)
    with caplog.at_level(logging.ERROR, logger="calbridge.mail.sender"):
        report = send(book)
    assert report.failed and _rows(book)[0].state == "failed"
    assert "gave up on message" in caplog.text and "ana@example.org" in caplog.text


def test_a_5xx_recipient_fails_alone(
    mail_book: Book, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    _three(mail_book)
    recorder.unknown = {"ben@example.org"}
    with caplog.at_level(logging.ERROR, logger="calbridge.mail.sender"):
        report = send(mail_book)
    assert len(report.sent) == 2 and len(report.failed) == 1
    states = {r.recipient: r.state for r in _rows(mail_book)}
    assert states == {
        "ana@example.org": "sent",
        "ben@example.org": "failed",
        "third@example.org": "sent",
    }
    assert "550" in caplog.text
    assert send(mail_book).sent == []  # failed stays failed


def test_two_instances_never_send_one_message_twice(mail_book: Book, recorder: Recorder) -> None:
    for day in ("2026-11-23", "2026-11-24", "2026-12-01"):
        plan_one(mail_book, f"{day}T10:00", clients=("ana", "ben"), third_parties=["doc"])
    assert len(_rows(mail_book)) == 9
    reports: list[SendReport] = []
    start = threading.Barrier(2)

    def run(owner: str) -> None:
        start.wait()
        reports.append(asyncio.run(send_due(mail_book, owner=owner)))

    threads = [threading.Thread(target=run, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    sent = [m for r in reports for m in r.sent]
    assert len(sent) == len(set(sent)) == 9
    counts = Counter(recorder.ids())
    assert len(counts) == 9 and set(counts.values()) == {1}


def test_folder_transport_writes_eml_named_by_message_id(
    make_book: Callable[..., Book], clock: Clock
) -> None:
    book = make_book(mail={"transport": "folder", "folder": "outgoing"}, state_dir="state")
    add_people(book)
    session = plan_one(book, "2026-11-23T10:00")
    report = send(book)
    (message_id,) = report.sent
    path = book.settings.mail.folder / eml_name(message_id)
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["To"] == "Ana Lopez <ana@example.org>"
    assert message.get_content_type() == "multipart/mixed"
    assert session.uid.encode() in path.read_bytes() or "base64" in path.read_text()
    # The same row sent again (a crash before recording) replaces the file.
    with book.transaction() as db:
        row = db.scalars(select(OutboxRow)).one()
        row.state, row.claimed_until = "sending", clock.now
    clock.now += timedelta(seconds=1)
    assert send(book).sent == [message_id]
    assert len(list(book.settings.mail.folder.iterdir())) == 1


def test_a_reminder_the_server_took_before_a_crash_is_recorded_not_dropped(
    make_book: Callable[..., Book], smtp: tuple[Recorder, int], clock: Clock
) -> None:
    from calbridge.mail.reminders import queue_due_reminders
    from calbridge.mail.sender import Journal, journal_path

    book = make_book(mail=smtp_config(smtp[1]), state_dir="state")
    add_people(book)
    session = plan_one(book, "2026-11-23T10:00", remind=True)
    send(book)
    clock.now = session.start - timedelta(hours=2)
    assert queue_due_reminders(book) == 1
    with book.transaction() as db:  # a sender claimed it, the server took it, then it died
        row = db.scalars(select(OutboxRow).where(OutboxRow.kind == "reminder")).one()
        row.state, row.claimed_by, row.claimed_until = "sending", "dead", clock.now
        message_id = row.message_id
    Journal(journal_path(book)).add(message_id)
    clock.now = session.start + timedelta(minutes=5)  # restarted after the session began
    report = send(book)
    assert report.recovered == [message_id] and report.dropped == []
    assert [r.state for r in _rows(book) if r.kind == "reminder"] == ["sent"]
