"""The book's typed change events (events/changes.py): each operation emits them in its
transaction, every installed consumer gets them there, and a consumer's failure rolls
the change back with its messages (issue 12: change events drive side effects)."""

from __future__ import annotations

import pytest

from book_helpers import at, count, move, plan_one
from calbridge.book import Book, planning
from calbridge.core.model import Actor
from calbridge.events.changes import Cancelled, Change, Moved, Planned
from calbridge.store import repo
from calbridge.store.db import Db
from calbridge.store.tables import OutboxRow, SessionRow


class Recorder:
    """A second channel: it only writes down what it was handed, and when."""

    def __init__(self) -> None:
        self.seen: list[tuple[Change, int]] = []

    def __call__(self, book: Book, db: Db, change: Change) -> list[str]:
        self.seen.append((change, len(book.changes())))
        return []


def test_an_added_consumer_gets_every_change_and_the_mail_still_goes(book: Book) -> None:
    recorder = Recorder()
    book.consumers = (*book.consumers, recorder)
    session = plan_one(book, "2026-12-01T10:00")
    mailed = count(book, OutboxRow)
    move(book, session.id or 0, "2026-12-02T10:00")
    planning.cancel(book, session.id or 0, Actor.COACH, reason="ill")
    kinds = [type(change) for change, _ in recorder.seen]
    assert kinds == [Planned, Moved, Cancelled]
    assert [n for _, n in recorder.seen] == [1, 1, 1]  # each its own transaction's first
    moved = recorder.seen[1][0]
    assert isinstance(moved, Moved)
    assert (moved.old.start, moved.new.start) == (at("2026-12-01T10:00"), at("2026-12-02T10:00"))
    assert mailed == 1  # the invitation, queued by the mail consumer beside the recorder
    assert count(book, OutboxRow) == 3  # and the update and the cancellation


def test_a_consumer_that_fails_rolls_the_change_and_its_mail_back(book: Book) -> None:
    session = plan_one(book, "2026-12-01T10:00")
    before = count(book, OutboxRow)

    def refuses(book: Book, db: Db, change: Change) -> list[str]:
        if isinstance(change, Moved):
            raise RuntimeError("the channel is down")
        return []

    book.consumers = (*book.consumers, refuses)  # after the mail consumer has queued
    with pytest.raises(RuntimeError, match="the channel is down"):
        move(book, session.id or 0, "2026-12-02T10:00")
    with book.transaction() as db:
        kept = repo.to_session(repo.session_row(db, session.id or 0))
    assert kept.start == at("2026-12-01T10:00") and kept.sequence == session.sequence
    assert count(book, OutboxRow) == before  # the update's mail went with the move


def test_the_transaction_collects_its_changes_and_forgets_them_after(book: Book) -> None:
    with book.transaction():
        first = plan_one(book, "2026-12-01T10:00")  # joins this transaction
        second = plan_one(book, "2026-12-08T10:00")
        collected = book.changes()
    assert [type(c) for c in collected] == [Planned, Planned]
    assert [c.sessions[0].id for c in collected if isinstance(c, Planned)] == [first.id, second.id]
    assert book.changes() == []


def test_a_book_with_no_consumer_refuses_to_change_silently(book: Book) -> None:
    book.consumers = ()
    with pytest.raises(RuntimeError, match="no change consumers installed"):
        plan_one(book, "2026-12-01T10:00")
    assert count(book, SessionRow) == 0 and count(book, OutboxRow) == 0
