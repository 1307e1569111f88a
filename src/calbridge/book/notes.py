"""A session's note, which can be signed, and the comments added to it (PRODUCT rule 8).

A signed note can be edited for ``outcomes.note_edit_hours`` (24 h) after it was first
signed; after that it is locked and only comments can be added. Comments are kept.
"""

from __future__ import annotations

from typing import Any

from calbridge.book.context import Book
from calbridge.core.model import Actor
from calbridge.core.timeutil import show
from calbridge.errors import Refused, UserError
from calbridge.store import repo
from calbridge.store import repo_outcomes as store
from calbridge.store.db import Db
from calbridge.store.tables_outcomes import SessionNoteRow


def _check_text(text: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise UserError("the note is empty: give --text with what to record")
    return cleaned


def write_note(
    book: Book, session_id: int, text: str, sign: bool, by: Actor = Actor.ADMIN
) -> dict[str, Any]:
    """Create or edit the session's note (and sign it with ``sign``)."""
    body = _check_text(text)
    with book.transaction() as db:
        session = repo.session_row(db, session_id)
        now = book.clock()
        zone = book.zone(session.coach_id)
        note = store.note_of(db, session_id)
        if note is None:
            note = store.add_note(
                db, session_id, "note", body, by.value, book.origin, now, now if sign else None
            )
            repo.audit(db, now, "session", session_id, "note", by, book.origin, {"signed": sign})
            return note_json(db, book, session_id)
        if note.signed_at is not None:
            closes = note.signed_at + book.settings.outcomes.edit_window()
            if now >= closes:
                raise Refused(
                    "note_locked",
                    f"session {session_id}'s note was signed {show(note.signed_at, zone)} and"
                    f" could be edited until {show(closes, zone)}; it is locked now. Add a"
                    f" comment instead: calbridge session comment {session_id} --text ...",
                    session=session_id,
                    signed_at=note.signed_at.isoformat(),
                    locked_at=closes.isoformat(),
                )
        changes = {"before": note.text, "signed": sign or note.signed_at is not None}
        note.text, note.updated_at = body, now
        if sign and note.signed_at is None:
            note.signed_at = now
        repo.audit(db, now, "session", session_id, "note edited", by, book.origin, changes)
        return note_json(db, book, session_id)


def comment(book: Book, session_id: int, text: str, by: Actor = Actor.ADMIN) -> dict[str, Any]:
    body = _check_text(text)
    with book.transaction() as db:
        repo.session_row(db, session_id)
        now = book.clock()
        store.add_note(db, session_id, "comment", body, by.value, book.origin, now)
        repo.audit(db, now, "session", session_id, "commented", by, book.origin, {})
        return note_json(db, book, session_id)


def _entry(row: SessionNoteRow) -> dict[str, Any]:
    return {
        "text": row.text,
        "author": row.author,
        "origin": row.origin,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


def note_json(db: Db, book: Book, session_id: int) -> dict[str, Any]:
    note = store.note_of(db, session_id)
    out: dict[str, Any] = {"session": session_id, "note": None, "comments": []}
    if note is not None:
        entry = _entry(note)
        entry["signed_at"] = note.signed_at.isoformat() if note.signed_at else None
        if note.signed_at is not None:
            closes = note.signed_at + book.settings.outcomes.edit_window()
            entry["editable_until"] = closes.isoformat()
            entry["locked"] = book.clock() >= closes
        else:
            entry["locked"] = False
        out["note"] = entry
    out["comments"] = [_entry(c) for c in store.comments(db, session_id)]
    return out
