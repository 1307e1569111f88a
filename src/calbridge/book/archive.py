"""Archiving clients and third parties: they keep their history and stay in reports, but
cannot be planned or offered times until unarchived."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from calbridge.book.context import Book
from calbridge.core.model import ACTIVE, Actor
from calbridge.errors import NotFound, UserError
from calbridge.store import repo, repo_sessions
from calbridge.store.db import lock
from calbridge.store.tables import ClientRow, ThirdPartyRow


@dataclass
class Archived:
    kind: str
    id: str
    archived_at: datetime | None
    #: Their sessions still to come (kept: cancel them with `session cancel` if wanted).
    upcoming: list[int]


def set_archived(book: Book, kind: str, party_id: str, archived: bool) -> Archived:
    what = kind.replace("-", " ")
    with book.transaction() as db:
        if kind == "client":  # planning holds this lock while it checks the client
            lock(db, [f"client:{party_id}"])
        row: ClientRow | ThirdPartyRow | None = (
            db.get(ClientRow, party_id) if kind == "client" else db.get(ThirdPartyRow, party_id)
        )
        if row is None:
            raise NotFound(f"unknown {what} {party_id!r} (see `calbridge {kind} list --all`)")
        if (row.archived_at is not None) == archived:
            state = "archived" if archived else "not archived"
            raise UserError(f"{what} {party_id!r} is already {state}")
        now = book.clock()
        row.archived_at = now if archived else None
        action = "archived" if archived else "unarchived"
        repo.audit(db, now, kind, party_id, action, Actor.ADMIN, book.origin, {})
        states = [s.value for s in ACTIVE]
        upcoming = repo_sessions.upcoming_ids(db, party_id, now, states)
        return Archived(kind, party_id, row.archived_at, upcoming)


def archived_at(book: Book, kind: str) -> dict[str, datetime]:
    """When each archived client (or third party) was archived."""
    with book.transaction() as db:
        return repo_sessions.archived(db, kind)
