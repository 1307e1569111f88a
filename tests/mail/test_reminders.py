"""Reminders (rule 6) with the injectable clock: due by one query, once, following moves."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from book_helpers import at, move, plan_one
from calbridge.book import Book, planning
from calbridge.book.requests import EditRequest
from calbridge.core.model import Actor
from calbridge.mail.reminders import queue_due_reminders
from calbridge.store.tables import OutboxRow
from calbridge.store.tables_mail import ReminderRow
from conftest import Clock

from .conftest import add_people
from .smtp_helpers import Recorder, send, smtp_config


def _reminders(book: Book) -> list[OutboxRow]:
    with book.transaction() as db:
        query = select(OutboxRow).where(OutboxRow.kind == "reminder").order_by(OutboxRow.id)
        return list(db.scalars(query))


def _text(raw: bytes) -> str:
    from email import message_from_bytes, policy

    message = message_from_bytes(raw, policy=policy.default)
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def test_due_once_at_each_lead_and_sent_before_the_session(
    make_book: Callable[..., Book], smtp: tuple[Recorder, int], clock: Clock
) -> None:
    book = make_book(
        mail=smtp_config(smtp[1]), state_dir="state", reminders={"lead_times": ["24h", "1h"]}
    )
    add_people(book)
    session = plan_one(book, "2026-11-24T10:00", third_parties=["doc"], remind=True)
    start = at("2026-11-24T10:00")
    clock.now = start - timedelta(hours=24, minutes=1)
    assert queue_due_reminders(book) == 0
    clock.now = start - timedelta(hours=24)
    assert queue_due_reminders(book, dry_run=True) == 2
    assert queue_due_reminders(book, dry_run=True) == 2  # the dry run wrote nothing
    assert queue_due_reminders(book) == 2  # ana and the third party
    assert queue_due_reminders(book) == 0  # idempotent
    clock.now = start - timedelta(hours=2)
    assert queue_due_reminders(book) == 0
    clock.now = start - timedelta(minutes=59)
    assert queue_due_reminders(book) == 2
    send(book)
    rows = _reminders(book)
    assert [r.state for r in rows] == ["sent"] * 4
    assert {r.session_id for r in rows} == {session.id}
    texts = [_text(r.raw) for r in rows]
    assert sum("starts in 24 hours" in t for t in texts) == 2
    assert sum("starts in 1 hour" in t for t in texts) == 2
    assert len(smtp[0].received) == 1 + 1 + 4  # invitations, then reminders


def test_moves_are_followed_and_cancels_dropped(book_with_smtp: Book, clock: Clock) -> None:
    book = book_with_smtp
    session = plan_one(book, "2026-11-24T10:00", remind=True)
    clock.now = at("2026-11-23T10:00")
    assert queue_due_reminders(book) == 1
    move(book, session.id or 0, "2026-11-26T10:00")  # before it went out
    assert [r.state for r in _reminders(book)] == ["dropped"]
    assert queue_due_reminders(book) == 0
    clock.now = at("2026-11-25T10:00")
    assert queue_due_reminders(book) == 1  # for the new time
    planning.cancel(book, session.id or 0, Actor.ADMIN, "ill")
    assert [r.state for r in _reminders(book)] == ["dropped", "dropped"]
    clock.now = at("2026-11-25T11:00")
    assert queue_due_reminders(book) == 0


def test_opt_in_per_session(book_with_smtp: Book, clock: Clock) -> None:
    quiet = plan_one(book_with_smtp, "2026-11-24T10:00")  # opt-in: none by default
    clock.now = at("2026-11-23T10:30")
    assert queue_due_reminders(book_with_smtp) == 0
    planning.edit(book_with_smtp, quiet.id or 0, EditRequest(remind=True))
    assert queue_due_reminders(book_with_smtp) == 1
    planning.edit(book_with_smtp, quiet.id or 0, EditRequest(remind=False))
    assert [r.state for r in _reminders(book_with_smtp)] == ["dropped"]


def test_too_late_is_dropped_and_logged(
    book_with_smtp: Book, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    book = book_with_smtp
    plan_one(book, "2026-11-24T10:00", remind=True)
    late = plan_one(book, "2026-11-24T12:00", remind=True)
    clock.now = at("2026-11-24T11:00")  # nobody ran while the first one's reminder was due
    with caplog.at_level(logging.WARNING):
        assert queue_due_reminders(book) == 1  # only the second: it has not begun
        clock.now = at("2026-11-24T12:30")  # queued, but the sender was down till now
        report = send(book)
    assert len(report.dropped) == 1
    assert "dropped: the session began" in caplog.text
    assert "could not be sent before the session began" in caplog.text
    with book.transaction() as db:
        states = {(r.session_id, r.state) for r in db.scalars(select(ReminderRow))}
    assert (late.id, "queued") in states and len(states) == 2


def test_two_instances_queue_each_reminder_once(book_with_smtp: Book, clock: Clock) -> None:
    for day in ("2026-11-24", "2026-11-25"):
        plan_one(book_with_smtp, f"{day}T10:00", clients=("ana", "ben"), remind=True)
    clock.now = at("2026-11-24T09:30")
    counts: list[int] = []
    barrier = threading.Barrier(3)

    def run() -> None:
        barrier.wait()
        counts.append(queue_due_reminders(book_with_smtp))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(counts) == [0, 0, 2]
    assert len(_reminders(book_with_smtp)) == 2


@pytest.fixture
def book_with_smtp(make_book: Callable[..., Book], smtp: tuple[Recorder, int]) -> Book:
    book = make_book(mail=smtp_config(smtp[1]), state_dir="state")
    add_people(book)
    return book
