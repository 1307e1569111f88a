"""Closures (PRODUCT rule 5): preview the sessions a date range hits, then act on them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from calbridge.book import checks
from calbridge.book.context import Book
from calbridge.book.planning import cancel_row
from calbridge.book.waitlist_offers import freed
from calbridge.core.availability import free_slots
from calbridge.core.model import ACTIVE, Actor, Closure, Session
from calbridge.core.timeutil import day_start
from calbridge.errors import UserError
from calbridge.events import changes
from calbridge.progress import track
from calbridge.store import repo, repo_sessions, repo_waitlist
from calbridge.store.db import lock
from calbridge.store.tables import ClosureRow, SessionRow


class ClosureMode(StrEnum):
    DRY_RUN = "dry-run"
    NOTIFY_AND_CANCEL = "notify-and-cancel"
    CANCEL_ONLY = "cancel-only"
    NOTIFY_ONLY = "notify-only"


@dataclass
class ClosureResult:
    closure: Closure
    affected: list[Session]
    mode: ClosureMode


def add_closure(
    book: Book, first: date, last: date, reason: str, coach_id: str | None, mode: ClosureMode
) -> ClosureResult:
    if last < first:
        raise UserError(f"--to {last} is before --from {first}")
    if not reason.strip():
        raise UserError("--reason must say why (it is shown in calendars)")
    coaches = [book.coach(coach_id)] if coach_id else book.settings.coaches
    closure = Closure(first, last, reason.strip(), coach_id)
    with book.transaction() as db:
        lock(db, [f"coach:{c.id}" for c in coaches])
        rows: list[SessionRow] = []
        for coach in coaches:
            zone = coach.zone()
            begin, end = day_start(first, zone), day_start(last + timedelta(days=1), zone)
            states = [s.value for s in ACTIVE]
            rows += repo_sessions.overlapping(db, coach.id, begin, end, states)
        affected = [repo.to_session(r) for r in rows]
        if mode is ClosureMode.DRY_RUN:
            return ClosureResult(closure, affected, mode)
        now = book.clock()
        closure_id = repo.add_closure(db, closure, now)
        repo.audit(
            db,
            now,
            "closure",
            closure_id,
            "added",
            Actor.ADMIN,
            book.origin,
            {"from": str(first), "to": str(last), "coach": coach_id, "mode": mode.value},
        )
        repo.record_change(db, now, "closure.added", None, {"closure": closure_id})
        notify = mode is not ClosureMode.CANCEL_ONLY
        if mode is ClosureMode.NOTIFY_ONLY:
            notice = changes.ClosureNoticed(affected, str(first), str(last), closure.reason)
            book.emit(db, notice)
            for session in affected:
                repo.record_change(
                    db,
                    now,
                    "session.closure-notice",
                    session.id,
                    {"uid": session.uid, "closure": closure_id, "reason": reason},
                )
        else:
            steps = track(rows, "cancelling sessions", len(rows))
            affected = [cancel_row(book, db, r, Actor.ADMIN, reason, notify) for r in steps]
            if notify:
                book.emit(db, changes.Cancelled(affected, False, closure.reason))
        closure = Closure(first, last, closure.reason, coach_id, closure_id)
        return ClosureResult(closure, affected, mode)


def list_closures(book: Book, coach_id: str | None = None) -> list[Closure]:
    """Every closure, oldest first; with ``coach_id``, those that close that coach."""
    if coach_id:
        book.coach(coach_id)
    with book.transaction() as db:
        return repo.closures(db, coach_id, date.min, date.max)


def remove_closure(book: Book, closure_id: int) -> Closure:
    """Free a closure's days; the next sync takes its all-day events out of the calendars.
    Sessions it cancelled stay cancelled (plan them again if wanted)."""
    with book.transaction() as db:
        row = db.get(ClosureRow, closure_id)
        if row is None:
            raise UserError(f"no closure #{closure_id} (see `calbridge closure list`)")
        closure = repo.closure_from_row(row)
        coaches = [closure.coach_id] if closure.coach_id else [c.id for c in book.settings.coaches]
        lock(db, [f"coach:{c}" for c in coaches])
        db.delete(row)
        now = book.clock()
        fields = {"from": str(closure.start), "to": str(closure.end), "coach": closure.coach_id}
        repo.audit(
            db,
            now,
            "closure",
            closure_id,
            "removed",
            Actor.ADMIN,
            book.origin,
            fields | {"reason": closure.reason},
        )
        repo.record_change(db, now, "closure.removed", None, {"closure": closure_id})
        for coach_id in coaches:  # the freed days' free times go to the waitlist
            coach = book.coach(coach_id)
            zone = coach.zone()
            begin = max(now, day_start(closure.start, zone))
            end = day_start(closure.end + timedelta(days=1), zone)
            if begin < end and repo_waitlist.entries(db, coach_id):
                busy = checks.coach_busy(book, db, coach, begin, end)
                length = timedelta(minutes=book.settings.book.default_duration_minutes)
                step = timedelta(minutes=book.settings.book.slot_minutes)
                spans = free_slots((begin, end), coach.hours(), zone, busy, length, step)
                freed(book, db, coach_id, spans)
        return closure
