"""Signed notes: editable for 24 hours after signing, then locked; comments are kept."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from book_helpers import at, plan_one
from calbridge.book import Book, notes
from calbridge.core.model import Actor
from calbridge.errors import Refused, UserError
from calbridge.store import repo
from conftest import Clock
from outcome_helpers import outcome_book


@pytest.fixture
def book(make_book: Callable[..., Book]) -> Book:
    return outcome_book(make_book)


def test_signed_note_is_editable_for_24_hours_then_locked(book: Book, clock: Clock) -> None:
    s = plan_one(book, "2026-12-07T10:00")
    sid = s.id or 0
    clock.now = at("2026-12-07T11:00")
    data = notes.write_note(book, sid, "first draft", sign=False)
    assert data["note"]["signed_at"] is None and not data["note"]["locked"]
    clock.now = at("2026-12-08T11:00")  # unsigned notes stay editable
    notes.write_note(book, sid, "final text", sign=True, by=Actor.COACH)
    signed_at = at("2026-12-08T11:00")
    clock.now = signed_at + timedelta(hours=23, minutes=59)
    data = notes.write_note(book, sid, "final text, typo fixed", sign=False)
    assert data["note"]["text"] == "final text, typo fixed"
    assert data["note"]["signed_at"] == signed_at.isoformat()  # the window does not restart
    clock.now = signed_at + timedelta(hours=24)
    with pytest.raises(Refused) as info:
        notes.write_note(book, sid, "too late", sign=True)
    err = info.value
    assert err.code == "note_locked" and err.exit_code == 1
    assert "locked" in err.message and f"session comment {sid}" in err.message
    assert err.details["locked_at"] == (signed_at + timedelta(hours=24)).isoformat()
    notes.comment(book, sid, "client called to add context", by=Actor.COACH)
    clock.now += timedelta(days=30)
    data = notes.comment(book, sid, "reviewed")
    assert data["note"]["text"] == "final text, typo fixed" and data["note"]["locked"]
    assert [c["text"] for c in data["comments"]] == ["client called to add context", "reviewed"]
    with book.transaction() as db:
        actions = [a.action for a in repo.audit_trail(db, "session", sid)]
    assert actions.count("note edited") == 2 and actions.count("commented") == 2


def test_signing_at_once_and_the_window_from_config(
    make_book: Callable[..., Book], clock: Clock
) -> None:
    book = outcome_book(make_book, outcomes={"note_edit_hours": 2})
    s = plan_one(book, "2026-12-07T10:00")
    clock.now = at("2026-12-07T11:00")
    notes.write_note(book, s.id or 0, "signed straight away", sign=True)
    clock.now = at("2026-12-07T12:59")
    notes.write_note(book, s.id or 0, "still in time", sign=True)
    clock.now = at("2026-12-07T13:00")
    with pytest.raises(Refused, match="locked"):
        notes.write_note(book, s.id or 0, "no longer", sign=False)


def test_empty_text_and_unknown_session(book: Book) -> None:
    s = plan_one(book, "2026-12-07T10:00")
    with pytest.raises(UserError, match="empty"):
        notes.write_note(book, s.id or 0, "  ", sign=True)
    with pytest.raises(UserError, match="unknown session 424242"):
        notes.comment(book, 424242, "x")
