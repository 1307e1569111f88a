"""What the event mapping (events/) reads from the book: a coach's sessions by UID, the
people and series they name, client names, closures. One loader for the calendar side
and the mail side alike."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from calbridge.core.model import Closure, Role, Session
from calbridge.ical.model import Person
from calbridge.store import repo
from calbridge.store.db import Db
from calbridge.store.tables import ClientRow, ClosureRow, SeriesRow, SessionRow, ThirdPartyRow


def sessions_by_uid(db: Db, coach_id: str, uids: Iterable[str]) -> dict[str, list[Session]]:
    """The coach's sessions of each UID (a series: every occurrence)."""
    found = session_rows_by_uid(db, coach_id, uids)
    return {uid: [repo.to_session(row) for row in rows] for uid, rows in found.items()}


def session_rows_by_uid(db: Db, coach_id: str, uids: Iterable[str]) -> dict[str, list[SessionRow]]:
    """``sessions_by_uid`` as rows. While the caller holds them they stay in the
    transaction's identity map, so the book's later reads of them by id cost no query."""
    found: dict[str, list[SessionRow]] = {}
    wanted = list(uids)
    for start in range(0, len(wanted), 500):
        query = select(SessionRow).where(
            SessionRow.coach_id == coach_id, SessionRow.uid.in_(wanted[start : start + 500])
        )
        for row in db.scalars(query):
            found.setdefault(row.uid, []).append(row)
    return found


def people_of(db: Db, sessions: Iterable[Session]) -> dict[str, Person]:
    """Each participant's name and address, by party id."""
    return {party: Person(row.name, row.email) for party, row in _parties(db, sessions)}


def people_and_zones(
    db: Db, sessions: Iterable[Session]
) -> tuple[dict[str, Person], dict[str, str | None]]:
    """``people_of`` and each participant's own timezone (None: their coach's), read
    together (what a message to them needs)."""
    found = _parties(db, sessions)
    people = {party: Person(row.name, row.email) for party, row in found}
    return people, {party: row.timezone for party, row in found}


def _parties(db: Db, sessions: Iterable[Session]) -> list[tuple[str, ClientRow | ThirdPartyRow]]:
    ids = {p.party_id: p.role for s in sessions for p in s.participants}
    clients = [i for i, r in ids.items() if r is Role.CLIENT]
    others = [i for i, r in ids.items() if r is not Role.CLIENT]
    found: list[tuple[str, ClientRow | ThirdPartyRow]] = []
    if clients:  # no query for an empty IN list (most sessions have no third party)
        query = select(ClientRow).where(ClientRow.id.in_(clients))
        found += [(row.id, row) for row in db.scalars(query)]
    if others:
        query3 = select(ThirdPartyRow).where(ThirdPartyRow.id.in_(others))
        found += [(row.id, row) for row in db.scalars(query3)]
    return found


def series_of(db: Db, sessions: Iterable[Session]) -> dict[int, SeriesRow]:
    ids = {s.series_id for s in sessions if s.series_id is not None}
    if not ids:
        return {}
    return {r.id: r for r in db.scalars(select(SeriesRow).where(SeriesRow.id.in_(ids)))}


def client_names(db: Db, ids: Iterable[str]) -> dict[str, str]:
    query = select(ClientRow).where(ClientRow.id.in_(list(ids)))
    return {c.id: c.name for c in db.scalars(query)}


def closures(db: Db, ids: Iterable[int]) -> list[Closure]:
    rows = db.scalars(select(ClosureRow).where(ClosureRow.id.in_(list(ids))))
    return [repo.closure_from_row(r) for r in rows]
