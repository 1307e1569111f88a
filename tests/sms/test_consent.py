"""Replies through calbridge's HTTP server: STOP stops texts (signature checked),
START brings them back, and delivery status callbacks are recorded."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from book_helpers import plan_one
from calbridge.book import Book, contacts, planning
from calbridge.core.model import Actor
from calbridge.mail.reminders import queue_due_reminders
from calbridge.store.tables import OutboxRow
from conftest import Clock
from servers.twilio_fake import FakeTwilio

from .conftest import ANA, DOC, send, serving_sms


@pytest.fixture
def base(sms_book: Book, twilio: FakeTwilio) -> Iterator[str]:
    with serving_sms(sms_book, twilio) as url:
        yield url


def _rows(book: Book) -> list[OutboxRow]:
    with book.transaction() as db:
        return list(db.scalars(select(OutboxRow).order_by(OutboxRow.id)))


def _texts_show(book: Book, party: str = "ana") -> str:
    with book.transaction() as db:
        return str(contacts.described(db, "client", party)["texts"])


def test_stop_stops_texts_and_start_brings_them_back(
    sms_book: Book, twilio: FakeTwilio, base: str, clock: Clock
) -> None:
    inbound = f"{base}/sms/inbound"
    assert twilio.inbound(inbound, ANA, "STOP", token="forged") == 403
    assert _texts_show(sms_book) == "allowed", "a forged reply changes nothing"

    first = plan_one(sms_book, "2026-11-24T10:00", clients=("ana",), third_parties=["doc"])
    planning.cancel(sms_book, first.id or 0, Actor.COACH)  # queued before the STOP
    assert twilio.inbound(inbound, ANA, " Stop ") == 200
    assert _texts_show(sms_book).startswith("opted out (STOP ")
    second = plan_one(sms_book, "2026-11-25T10:00", clients=("ana",), third_parties=["doc"])
    planning.cancel(sms_book, second.id or 0, Actor.COACH)
    send(sms_book)
    assert twilio.to() == [DOC, DOC], "nothing is texted to Ana once she said STOP"
    mailed = [r.recipient for r in _rows(sms_book) if r.channel == "mail" and r.kind == "cancel"]
    assert mailed.count("ana@example.org") == 1, "the later cancellation is mailed instead"
    dropped = [r for r in _rows(sms_book) if r.channel == "sms" and r.state == "dropped"]
    assert [r.last_error for r in dropped] == ["opted out (STOP)"]

    assert twilio.inbound(inbound, ANA, "start") == 200
    assert _texts_show(sms_book) == "allowed"
    third = plan_one(
        sms_book, "2026-11-26T10:00", clients=("ana",), remind=True, third_parties=["doc"]
    )
    clock.now = third.start - timedelta(hours=1)
    queue_due_reminders(sms_book)
    send(sms_book)
    assert twilio.to().count(ANA) == 1


def test_delivery_status_callbacks_are_recorded(
    sms_book: Book, twilio: FakeTwilio, base: str
) -> None:
    session = plan_one(sms_book, "2026-11-24T10:00", clients=("ana",))
    planning.cancel(sms_book, session.id or 0, Actor.COACH)
    send(sms_book)
    assert twilio.accepted[0]["StatusCallback"].startswith(f"{base}/sms/status?id=%3Csms.")
    deadline = time.monotonic() + 10
    while len(twilio.callbacks) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert twilio.callbacks == [("sent", 204), ("delivered", 204)]
    (text,) = [r for r in _rows(sms_book) if r.channel == "sms"]
    assert text.delivery_status == "delivered" and text.provider_id == twilio.accepted[0]["sid"]
