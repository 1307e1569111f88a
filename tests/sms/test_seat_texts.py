"""A client who chose texts and is taken off a group session is told by text, alone."""

from __future__ import annotations

from sqlalchemy import select

from book_helpers import plan_one
from calbridge.book import Book, session_edit
from calbridge.book.requests import FieldEdit
from calbridge.store.tables import OutboxRow
from servers.twilio_fake import FakeTwilio

from .conftest import ANA, send


def test_taken_off_by_text(sms_book: Book, twilio: FakeTwilio) -> None:
    session = plan_one(sms_book, "2026-11-24T10:00", clients=("ana", "ben"))
    with sms_book.transaction() as db:
        planned = {r.id for r in db.scalars(select(OutboxRow))}
    session_edit.edit(sms_book, session.id or 0, FieldEdit(remove_clients=["ana"]))
    with sms_book.transaction() as db:
        new = [r for r in db.scalars(select(OutboxRow)) if r.id not in planned]
    assert [(r.channel, r.recipient, r.kind) for r in new] == [("sms", ANA, "cancel")]
    send(sms_book)
    (body,) = twilio.bodies()
    assert body.startswith("Cancelled: ")
