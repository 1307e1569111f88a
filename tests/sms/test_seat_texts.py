"""A client who chose texts and is taken off a group session, a series or one occurrence
of it is told by text, alone."""

from __future__ import annotations

from sqlalchemy import select

from book_helpers import plan, plan_one
from calbridge.book import Book, series_seats, session_edit
from calbridge.book.requests import FieldEdit
from calbridge.core.model import SeriesSpec
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


def _new_rows(book: Book, before: set[int]) -> list[tuple[str, str, str]]:
    with book.transaction() as db:
        rows = [r for r in db.scalars(select(OutboxRow)) if r.id not in before]
    return [(r.channel, r.recipient, r.kind) for r in rows]


def _ids(book: Book) -> set[int]:
    with book.transaction() as db:
        return {r.id for r in db.scalars(select(OutboxRow))}


def test_taken_off_a_series_or_one_occurrence_by_text(sms_book: Book, twilio: FakeTwilio) -> None:
    weekly = SeriesSpec(repeat="weekly", weekdays=(1,), count=3)
    rows = plan(sms_book, "2026-11-24T10:00", clients=("ana", "ben"), series=weekly)
    before = _ids(sms_book)
    session_edit.edit(sms_book, rows[0].id or 0, FieldEdit(remove_clients=["ana"]))
    assert _new_rows(sms_book, before) == [("sms", ANA, "cancel")]
    before = _ids(sms_book)
    series_seats.edit_series(sms_book, rows[0].id or 0, FieldEdit(remove_clients=["ana"]))
    assert _new_rows(sms_book, before) == [("sms", ANA, "cancel")], "one text for the series"
    send(sms_book)
    first, series = twilio.bodies()
    assert first.startswith("Cancelled: ") and "Tue 24 Nov" in first
    assert series.startswith("Cancelled (this and all following): ") and "Tue 1 Dec" in series
