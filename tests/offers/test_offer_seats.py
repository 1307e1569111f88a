"""Participants of a session with an open offer do not change under it."""

from __future__ import annotations

import pytest

from book_helpers import plan_one, snapshot
from calbridge.book import Book, session_edit
from calbridge.book.requests import FieldEdit
from calbridge.errors import Refused

from .helpers import offer


def test_no_seat_changes_while_an_offer_is_open(book: Book) -> None:
    session = plan_one(book, "2026-11-23T10:00", clients=("ana",))
    made = offer(book, session.id or 0, "2026-11-24T10:00", "2026-11-25T10:00")
    before = snapshot(book)
    with pytest.raises(Refused) as info:
        session_edit.edit(book, session.id or 0, FieldEdit(add_clients=["ben"]))
    assert info.value.code == "offer_open" and f"offer cancel {made.offer_id}" in str(info.value)
    assert snapshot(book) == before
    note = session_edit.edit(book, session.id or 0, FieldEdit(note="still fine"))
    assert note.note == "still fine"
