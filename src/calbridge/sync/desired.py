"""Read what the book wants a coach's calendar to hold, for a set of UIDs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from calbridge.config.schema import Coach, Settings
from calbridge.core.model import Role, Session
from calbridge.ical.build import fingerprint, render_all_day, render_with_fingerprint
from calbridge.ical.model import EventSpec, Person
from calbridge.store import repo, repo_offers
from calbridge.store.db import Db
from calbridge.store.tables import ClientRow, ClosureRow, SeriesRow, SessionRow, ThirdPartyRow
from calbridge.sync.planner import Wanted
from calbridge.sync.spec import (
    HOLD_PREFIX,
    Hold,
    closure_spec,
    closure_uid,
    hold_spec,
    session_spec,
)


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


def _series(db: Db, sessions: Iterable[Session]) -> dict[int, SeriesRow]:
    ids = {s.series_id for s in sessions if s.series_id is not None}
    if not ids:
        return {}
    return {r.id: r for r in db.scalars(select(SeriesRow).where(SeriesRow.id.in_(ids)))}


def session_specs(
    db: Db, settings: Settings, coach: Coach, uids: Iterable[str]
) -> dict[str, EventSpec | None]:
    """The resource each UID should be (None: none, all cancelled or declined); a UID of
    a disabled series is left out (the calendar's copy is left alone)."""
    grouped = sessions_by_uid(db, coach.id, uids)
    every = [s for rows in grouped.values() for s in rows]
    people, series = _people(db, every), _series(db, every)
    organizer = Person(coach.name, coach.email)
    colors = settings.event_colors()
    out: dict[str, EventSpec | None] = {}
    for uid, rows in grouped.items():
        found = series.get(rows[0].series_id or 0)
        if found is not None and not found.enabled:
            continue  # `series disable`: the calendar keeps what it has, nothing new goes
        rrule = found.rrule if found is not None else None
        out[uid] = session_spec(rows, organizer, people, colors, rrule, coach.video_url)
    return out


def _rendered(uid: str, spec: EventSpec | None, now: datetime) -> Wanted:
    if spec is None:
        return Wanted(uid, None, None)
    data, fp = render_with_fingerprint(spec, now)
    return Wanted(uid, data, fp)


def wanted_sessions(
    db: Db, settings: Settings, coach: Coach, uids: Iterable[str], now: datetime
) -> dict[str, Wanted]:
    specs = session_specs(db, settings, coach, uids)
    return {uid: _rendered(uid, spec, now) for uid, spec in specs.items()}


def hold_specs(
    db: Db, settings: Settings, coach: Coach, uids: Iterable[str], now: datetime
) -> dict[str, EventSpec | None]:
    """Holds among ``uids``: a TENTATIVE event while held; None once released or expired."""
    rows = repo_offers.holds_by_uid(db, coach.id, uids)
    ids = {h.offer.client_id for h in rows}
    names = {c.id: c.name for c in db.scalars(select(ClientRow).where(ClientRow.id.in_(ids)))}
    organizer = Person(coach.name, coach.email)
    color = settings.sync.colors.get("hold")
    out: dict[str, EventSpec | None] = {}
    for h in rows:
        if h.released_at is not None or h.until <= now:
            out[h.uid] = None
            continue
        hold = Hold(h.uid, h.offer_id, h.start, h.end, h.tzid, names.get(h.offer.client_id, ""))
        out[h.uid] = hold_spec(hold, organizer, color)
    return out


def wanted_holds(
    db: Db, settings: Settings, coach: Coach, uids: Iterable[str], now: datetime
) -> dict[str, Wanted]:
    specs = hold_specs(db, settings, coach, uids, now)
    return {uid: _rendered(uid, spec, now) for uid, spec in specs.items()}


def wanted_book_owned(
    db: Db, settings: Settings, coach: Coach, uid: str, now: datetime
) -> Wanted | None:
    """A closure or hold the book owns (the book's version stands against calendar edits);
    None when ``uid`` is neither."""
    if uid.startswith(HOLD_PREFIX):
        return wanted_holds(db, settings, coach, [uid], now).get(uid)
    if uid.startswith(closure_uid(0)[:-1]) and uid.rsplit("-", 1)[-1].isdigit():
        ids = [int(uid.rsplit("-", 1)[-1])]
        return wanted_closures(db, settings, coach, ids, now).get(uid, Wanted(uid, None, None))
    return None


def wanted_closures(
    db: Db, settings: Settings, coach: Coach, ids: Iterable[int], now: datetime
) -> dict[str, Wanted]:
    out: dict[str, Wanted] = {}
    asked = list(ids)
    rows = db.scalars(select(ClosureRow).where(ClosureRow.id.in_(asked)))
    for closure in (repo.closure_from_row(r) for r in rows):
        if closure.covers(coach.id):
            data = render_all_day(closure_spec(closure, settings.sync.colors), now)
            out[closure_uid(closure.id or 0)] = Wanted(
                closure_uid(closure.id or 0), data, fingerprint(data)
            )
    for gone in asked:  # removed (`closure remove`): its all-day event leaves the calendar
        out.setdefault(closure_uid(gone), Wanted(closure_uid(gone), None, None))
    return out
