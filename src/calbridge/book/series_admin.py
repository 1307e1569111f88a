"""A series seen and switched by the admin (PRODUCT: a series can be enabled or not).

A disabled series plans, mirrors and mails nothing new: its occurrences get no
reminders and the sync leaves their calendar event as it is, until it is enabled again
(then every occurrence is marked changed, so the next sync brings the calendars up to
date)."""

from __future__ import annotations

from typing import Any

from calbridge.book import views
from calbridge.book.context import Book
from calbridge.core.model import Actor
from calbridge.errors import NotFound, UserError
from calbridge.store import repo, repo_sessions
from calbridge.store.db import Db, lock
from calbridge.store.tables import SeriesRow


def _found(db: Db, series_id: int) -> SeriesRow:
    row = db.get(SeriesRow, series_id)
    if row is None:
        raise NotFound(f"no series #{series_id} (`session list` shows each session's series)")
    return row


def _json(book: Book, db: Db, row: SeriesRow) -> dict[str, Any]:
    occurrences = repo_sessions.of_series(db, row.id)
    sessions = [views.session_json(book, db, repo.to_session(s)) for s in occurrences]
    return {
        "id": row.id,
        "uid": row.uid,
        "coach": row.coach_id,
        "repeat": row.repeat,
        "weekdays": row.weekdays,
        "count": row.count,
        "until": str(row.until) if row.until else None,
        "rrule": row.rrule,
        "enabled": row.enabled,
        "sessions": sessions,
    }


def show_series(book: Book, series_id: int) -> dict[str, Any]:
    with book.transaction() as db:
        return _json(book, db, _found(db, series_id))


def set_enabled(book: Book, series_id: int, enabled: bool) -> dict[str, Any]:
    with book.transaction() as db:
        row = _found(db, series_id)
        lock(db, [f"coach:{row.coach_id}"])
        if row.enabled == enabled:
            raise UserError(
                f"series #{series_id} is already {'enabled' if enabled else 'disabled'}"
            )
        now = book.clock()
        row.enabled = enabled
        action = "enabled" if enabled else "disabled"
        repo.audit(db, now, "series", series_id, action, Actor.ADMIN, book.origin, {})
        if enabled:  # the sync brings each occurrence's event up to date
            for session_id in repo_sessions.series_session_ids(db, series_id):
                repo.record_change(db, now, "series.enabled", session_id, {"series": series_id})
        return _json(book, db, row)
