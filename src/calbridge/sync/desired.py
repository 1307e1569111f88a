"""Read what the book wants a coach's calendar to hold, for a set of UIDs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session as Db

from calbridge.config.schema import Coach, Settings
from calbridge.core.model import Role, Session
from calbridge.ical.build import fingerprint, render_all_day, render_event
from calbridge.ical.model import Person
from calbridge.store import repo
from calbridge.store.tables import ClientRow, ClosureRow, SeriesRow, SessionRow, ThirdPartyRow
from calbridge.sync.planner import Wanted
from calbridge.sync.spec import closure_spec, closure_uid, session_spec


def sessions_by_uid(db: Db, coach_id: str, uids: Iterable[str]) -> dict[str, list[Session]]:
    found: dict[str, list[Session]] = {}
    wanted = list(uids)
    for start in range(0, len(wanted), 500):
        query = select(SessionRow).where(
            SessionRow.coach_id == coach_id, SessionRow.uid.in_(wanted[start : start + 500])
        )
        for row in db.scalars(query):
            found.setdefault(row.uid, []).append(repo.to_session(row))
    return found


def _people(db: Db, sessions: Iterable[Session]) -> dict[str, Person]:
    ids = {p.party_id: p.role for s in sessions for p in s.participants}
    clients = [i for i, r in ids.items() if r is Role.CLIENT]
    others = [i for i, r in ids.items() if r is not Role.CLIENT]
    people: dict[str, Person] = {}
    for row in db.scalars(select(ClientRow).where(ClientRow.id.in_(clients))):
        people[row.id] = Person(row.name, row.email)
    for third in db.scalars(select(ThirdPartyRow).where(ThirdPartyRow.id.in_(others))):
        people[third.id] = Person(third.name, third.email)
    return people


def _rrules(db: Db, sessions: Iterable[Session]) -> dict[int, str]:
    ids = {s.series_id for s in sessions if s.series_id is not None}
    if not ids:
        return {}
    return {r.id: r.rrule for r in db.scalars(select(SeriesRow).where(SeriesRow.id.in_(ids)))}


def wanted_sessions(
    db: Db, settings: Settings, coach: Coach, uids: Iterable[str], now: datetime
) -> dict[str, Wanted]:
    grouped = sessions_by_uid(db, coach.id, uids)
    every = [s for rows in grouped.values() for s in rows]
    people, rrules = _people(db, every), _rrules(db, every)
    organizer = Person(coach.name, coach.email)
    colors = {**settings.sync.colors, "done": settings.outcomes.done_color}
    out: dict[str, Wanted] = {}
    for uid, rows in grouped.items():
        series_id = rows[0].series_id
        spec = session_spec(
            rows,
            organizer,
            people,
            colors,
            rrules.get(series_id) if series_id is not None else None,
        )
        if spec is None:
            out[uid] = Wanted(uid, None, None)
            continue
        data = render_event(spec, now)
        out[uid] = Wanted(uid, data, fingerprint(data))
    return out


def wanted_closures(db: Db, coach: Coach, ids: Iterable[int], now: datetime) -> dict[str, Wanted]:
    out: dict[str, Wanted] = {}
    rows = db.scalars(select(ClosureRow).where(ClosureRow.id.in_(list(ids))))
    for closure in (repo.closure_from_row(r) for r in rows):
        if closure.covers(coach.id):
            data = render_all_day(closure_spec(closure), now)
            out[closure_uid(closure.id or 0)] = Wanted(
                closure_uid(closure.id or 0), data, fingerprint(data)
            )
    return out
