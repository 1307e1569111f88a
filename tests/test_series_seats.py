"""A series' participants in and out (`session edit --series`), by the book's rules:
each occurrence an added client joins counts in its month, archived clients are refused,
the last client stays, completed occurrences keep theirs, reminders follow the seat,
a disabled series waits; one transaction, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from book_helpers import at, plan, plan_one, snapshot
from calbridge.book import Book, archive, planning, series_admin, series_seats, session_edit, views
from calbridge.book.requests import FieldEdit
from calbridge.core.model import Actor, SeriesSpec, Session
from calbridge.errors import Refused, UserError
from calbridge.mail.reminders import queue_due_reminders
from calbridge.store.tables import OutboxRow
from outcome_helpers import complete, outcome_book

WEEKLY = SeriesSpec(repeat="weekly", weekdays=(0,), count=4)


def _series(book: Book, clients: tuple[str, ...] = ("dee",), **kw: Any) -> list[Session]:
    return plan(book, "2026-11-23T10:00", clients=clients, series=WEEKLY, **kw)


def _edit(book: Book, session: Session, **kw: Any) -> list[Session]:
    return series_seats.edit_series(book, session.id or 0, FieldEdit(**kw))


def _clients(book: Book, rows: list[Session]) -> list[list[str]]:
    return [views.show(book, r.id or 0)["clients"] for r in rows]


def _outbox(book: Book) -> list[tuple[str, str, str]]:
    with book.transaction() as db:
        rows = db.scalars(select(OutboxRow).order_by(OutboxRow.id))
        return [(r.recipient, r.kind, r.state) for r in rows]


def test_every_occurrence_joined_counts_in_its_month(book: Book) -> None:
    rows = _series(book)  # Mondays 23 and 30 November, 7 and 14 December
    plan_one(book, "2026-12-02T10:00", clients=("ben",))  # ben's first of December
    before, mail = snapshot(book), _outbox(book)
    with pytest.raises(Refused) as info:
        _edit(book, rows[0], add_clients=["ben"])
    assert info.value.code == "monthly_limit" and info.value.details["month"] == "2026-12"
    assert "month 2026-12 is full" in info.value.message and "Mon 2026-12-14" in info.value.message
    assert snapshot(book) == before and _outbox(book) == mail
    assert _clients(book, rows) == [["dee"]] * 4
    edited = _edit(book, rows[0], add_clients=["ana"])  # two in each month: room
    assert [sorted(e.clients) for e in edited] == [["ana", "dee"]] * 4


def test_archived_clients_are_refused(book: Book) -> None:
    rows = _series(book)
    archive.set_archived(book, "client", "ana", True)
    before = snapshot(book)
    with pytest.raises(Refused) as info:
        _edit(book, rows[0], add_clients=["ana"])
    assert info.value.code == "archived" and snapshot(book) == before


def test_the_last_client_of_an_occurrence_stays(book: Book) -> None:
    rows = _series(book)
    _edit(book, rows[0], add_clients=["ana"])
    # ana leaves the third occurrence alone: dee is then its only client
    session_edit.edit(book, rows[2].id or 0, FieldEdit(remove_clients=["ana"]))
    before = snapshot(book)
    with pytest.raises(UserError, match=rf"occurrence {rows[2].id} .*no client left"):
        _edit(book, rows[0], remove_clients=["dee"])
    assert snapshot(book) == before
    with pytest.raises(UserError, match="no client left"):
        session_edit.edit(book, rows[2].id or 0, FieldEdit(remove_clients=["dee"]))


def test_completed_and_cancelled_occurrences_keep_their_participants(make_book: Any) -> None:
    book = outcome_book(make_book)
    rows = _series(book)
    book.clock.now = rows[0].end  # type: ignore[attr-defined]
    complete(book, rows[0].id)
    planning.cancel(book, rows[1].id or 0, Actor.ADMIN, "ill", False)
    edited = _edit(book, rows[0], add_clients=["ana"])
    assert [e.id for e in edited] == [rows[2].id, rows[3].id]
    assert _clients(book, rows) == [["dee"], ["dee"], ["ana", "dee"], ["ana", "dee"]]
    with pytest.raises(UserError, match="is not a client of any occurrence still to come"):
        _edit(book, rows[0], remove_clients=["ben"])


def test_reminders_follow_the_seat(book: Book) -> None:
    rows = _series(book, clients=("dee", "ben"), remind=True)
    book.clock.now = at("2026-11-22T12:00")  # type: ignore[attr-defined]
    assert queue_due_reminders(book) == 2  # the first occurrence's, to dee and ben
    _edit(book, rows[0], remove_clients=["ben"])
    reminders = [o for o in _outbox(book) if o[1] == "reminder"]
    assert ("ben@example.org", "reminder", "dropped") in reminders
    _edit(book, rows[0], add_clients=["ana"])  # joins after the others were reminded
    reminders = [o for o in _outbox(book) if o[1] == "reminder"]
    assert ("ana@example.org", "reminder", "queued") in reminders
    assert queue_due_reminders(book) == 0, "never twice"
    book.clock.now += timedelta(days=7)  # type: ignore[attr-defined]
    assert queue_due_reminders(book) == 2  # the second occurrence: dee and ana, not ben
    queued = [o[0] for o in _outbox(book) if o[1:] == ("reminder", "queued")]
    assert sorted(queued) == [f"{p}@example.org" for p in ("ana", "ana", "dee", "dee")]


def test_a_disabled_series_waits(book: Book) -> None:
    rows = _series(book)
    series_admin.set_enabled(book, rows[0].series_id or 0, False)
    before = snapshot(book)
    with pytest.raises(Refused, match=r"series #\d+ is disabled.*series enable"):
        _edit(book, rows[0], add_clients=["ana"])
    with pytest.raises(Refused, match="is disabled"):
        session_edit.edit(book, rows[1].id or 0, FieldEdit(add_clients=["ana"]))
    assert snapshot(book) == before


def test_a_single_session_has_no_series(book: Book) -> None:
    session = plan_one(book, "2026-11-23T10:00", clients=("ana",))
    with pytest.raises(UserError, match="not part of a series; drop --series"):
        _edit(book, session, add_clients=["ben"])


def test_joining_more_occurrences_never_repeats_a_reminder(book: Book) -> None:
    rows = _series(book, remind=True)
    session_edit.edit(book, rows[0].id or 0, FieldEdit(add_clients=["ana"]))
    book.clock.now = at("2026-11-22T12:00")  # type: ignore[attr-defined]
    assert queue_due_reminders(book) == 2  # the first occurrence's, to dee and ana
    session_edit.edit(book, rows[0].id or 0, FieldEdit(add_third_parties=["doc"]))
    edited = _edit(book, rows[0], add_clients=["ana"])
    assert [e.id for e in edited] == [r.id for r in rows[1:]]
    reminders = [o[0] for o in _outbox(book) if o[1] == "reminder"]
    assert sorted(reminders) == ["ana@example.org", "dee@example.org", "third@example.org"]
