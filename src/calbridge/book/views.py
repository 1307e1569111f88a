"""Read-only views of the book: one session, lists, agenda, free slots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from calbridge.book import booking, checks
from calbridge.book.context import Book
from calbridge.core import limits, session_shape
from calbridge.core.model import ACTIVE, Session
from calbridge.core.timeutil import day_start, month_bounds, month_of
from calbridge.errors import Refused, UserError
from calbridge.store import repo, repo_sessions
from calbridge.store.db import Db


def session_json(book: Book, db: Db, session: Session) -> dict[str, Any]:
    """The JSON shape of a session (core.session_shape), its clients' months read here."""

    def months(client_id: str, month: str) -> limits.ClientMonths:
        return checks.client_months(book, db, repo.client(db, client_id), month)

    return session_shape.session_json(session, book.zone(session.coach_id), months)


def show(book: Book, session_id: int) -> dict[str, Any]:
    with book.transaction() as db:
        session = repo.to_session(repo.session_row(db, session_id))
        out = session_json(book, db, session)
        out["audit"] = [
            {
                "at": a.at.isoformat(),
                "action": a.action,
                "actor": a.actor,
                "origin": a.origin,
                "changes": a.changes,
            }
            for a in repo.audit_trail(db, "session", session_id)
        ]
        return out


@dataclass
class Filter:
    coach_id: str | None = None
    client_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    active_only: bool = False
    limit: int | None = None


def sessions(book: Book, flt: Filter) -> list[dict[str, Any]]:
    if flt.coach_id:
        book.coach(flt.coach_id)
    with book.transaction() as db:
        if flt.client_id:
            repo.client(db, flt.client_id)
        states = [s.value for s in ACTIVE] if flt.active_only else None
        rows = repo_sessions.matching(
            db, flt.coach_id, flt.client_id, flt.start, flt.end, states, flt.limit
        )
        return [session_json(book, db, repo.to_session(r)) for r in rows]


def day_range(
    book: Book, coach_id: str | None, first: date, last: date
) -> tuple[datetime, datetime]:
    zone = book.zone(coach_id) if coach_id else UTC
    return day_start(first, zone), day_start(last + timedelta(days=1), zone)


def slots(
    book: Book,
    coach_id: str,
    client_id: str,
    month: str | None,
    duration: timedelta | None,
    service: str | None = None,
    moving: Session | None = None,
) -> dict[str, Any]:
    """Free slots for ``coach_id`` in the client's month (default: the first with room)
    that the booking policies of ``service`` allow (default: the moving session's).
    ``moving``: slots to move that session to (itself not busy, the limit counts it as
    moved from its month; default month: its own)."""
    coach = book.coach(coach_id)
    if service is not None and service not in book.settings.services:
        known = ", ".join(sorted(book.settings.services)) or "none configured in [services]"
        raise UserError(f"unknown service {service!r} (known: {known})")
    zone = coach.zone()
    now = book.clock()
    length = duration or timedelta(minutes=book.settings.book.default_duration_minutes)
    with book.transaction() as db:
        client = repo.client(db, client_id)
        if month is None and moving is not None:
            month = month_of(moving.start, zone)
        if month is None:
            month = checks.first_month_with_room(book, db, [client], month_of(now, zone))
            if month is None:
                raise Refused("monthly_limit", f"client {client_id} has no month with room")
        else:
            found = checks.client_months(book, db, client, month)
            start = max(month_bounds(month, zone)[0], now)
            was = (moving.id, month_of(moving.start, zone)) if moving else (None, None)
            limits.check(found, [limits.Placement(month, start, *was)], zone)
        begin, finish = month_bounds(month, zone)
        window = (max(begin, now), finish)
        if window[0] >= window[1]:
            return {"coach": coach_id, "client": client_id, "month": month, "slots": []}
        ignore = [moving.id] if moving is not None and moving.id is not None else []
        if service is None and moving is not None:
            service = moving.service
        found_slots = booking.slots(book, db, coach, window, length, service, ignore)
    return {
        "coach": coach_id,
        "client": client_id,
        "month": month,
        "duration_minutes": int(length.total_seconds() // 60),
        "slots": [
            {"start": s.astimezone(zone).isoformat(), "end": e.astimezone(zone).isoformat()}
            for s, e in found_slots
        ],
    }
