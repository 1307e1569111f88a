"""End to end through the fake Twilio: the client who chose texts gets the reminder and
the cancellation as texts, once each, and the provider's message id is recorded."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from book_helpers import at, plan_one
from calbridge.book import Book, planning
from calbridge.core.model import Actor
from calbridge.mail.reminders import queue_due_reminders
from calbridge.store.tables import OutboxRow
from conftest import Clock
from servers.twilio_fake import FakeTwilio

from .conftest import ANA, DOC, send


def _rows(book: Book) -> list[OutboxRow]:
    with book.transaction() as db:
        return list(db.scalars(select(OutboxRow).order_by(OutboxRow.id)))


def test_reminder_and_cancellation_reach_the_phone_once_each(
    sms_book: Book, twilio: FakeTwilio, clock: Clock
) -> None:
    session = plan_one(
        sms_book, "2026-11-24T10:00", clients=("ana", "ben"), third_parties=["doc"], remind=True
    )
    clock.now = at("2026-11-24T10:00") - timedelta(hours=23)
    assert queue_due_reminders(sms_book) == 3
    for _ in range(2):  # a second pass sends nothing again
        send(sms_book)
        send(sms_book, "mail")
    planning.cancel(sms_book, session.id or 0, Actor.COACH, reason="coach is ill")
    for _ in range(2):
        send(sms_book)
        send(sms_book, "mail")

    assert Counter(twilio.to()) == {ANA: 2, DOC: 2}
    reminder, cancel = [b for m, b in zip(twilio.to(), twilio.bodies(), strict=True) if m == ANA]
    assert reminder.startswith("Reminder: Group session")
    assert "Tue 24 Nov 10:00 (Europe/London)" in reminder
    assert cancel.startswith("Cancelled: ") and "Reason: coach is ill" in cancel
    texts = [r for r in _rows(sms_book) if r.channel == "sms"]
    assert {r.state for r in texts} == {"sent"}
    accepted = {m["sid"] for m in twilio.accepted}
    assert {r.provider_id for r in texts} == accepted, "the provider's id is recorded"
    mails = [r for r in _rows(sms_book) if r.channel == "mail"]
    # Ana chose texts only: no mail for her; Ben mail only; the third party both.
    recipients = Counter(r.recipient for r in mails if r.kind in ("reminder", "cancel"))
    assert recipients == {"ben@example.org": 2, "third@example.org": 2}
