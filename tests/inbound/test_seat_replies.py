"""After `session edit --remove-client`, the one taken off can no longer answer, and the
others' answers to the invitation they hold (its SEQUENCE unchanged) still apply."""

from __future__ import annotations

from book_helpers import plan_one
from calbridge.book import Book, session_edit, views
from calbridge.book.requests import FieldEdit
from calbridge.inbound.apply import process
from inbound.replies import Answer, mail


def test_answers_after_a_seat_is_taken_off(book: Book) -> None:
    s = plan_one(book, "2026-12-01T10:00", clients=("ana", "ben"))
    session_edit.edit(book, s.id or 0, FieldEdit(remove_clients=["ben"]))
    ben = Answer(uid=s.uid, attendee="ben@example.org", name="Ben Ng", sequence=s.sequence)
    got = process(book, mail(ben, "gmail"))
    assert (got.outcome, got.code) == ("rejected", "not-participant")
    ana = Answer(uid=s.uid, attendee="ana@example.org", sequence=s.sequence)
    got = process(book, mail(ana, "apple"))
    assert got.outcome == "applied", got
    assert views.show(book, s.id or 0)["partstat"] == {"ana": "ACCEPTED"}
