"""The waitlist as the admin sees it: add a client's wish, list who waits (and what they
were offered), remove one. Offering freed times is book/waitlist_offers.py."""

from __future__ import annotations

from typing import Any

from calbridge.book import checks
from calbridge.book.context import Book
from calbridge.book.waitlist_offers import withdraw
from calbridge.core import waitlist
from calbridge.core.model import Actor
from calbridge.errors import NotFound, Refused
from calbridge.store import repo, repo_waitlist
from calbridge.store.db import Db, lock
from calbridge.store.tables_offers import OfferRow
from calbridge.store.tables_waitlist import WaitlistRow


def add(
    book: Book, client_id: str, coach_id: str, days: str | None, between: str | None
) -> dict[str, Any]:
    """Put ``client_id`` on ``coach_id``'s waitlist (after every wish already there)."""
    coach = book.coach(coach_id)
    day_set = waitlist.parse_days(days) if days is not None else frozenset()
    window = waitlist.parse_window(between) if between is not None else None
    with book.transaction() as db:
        lock(db, [f"coach:{coach.id}", f"client:{client_id}"])
        repo.client(db, client_id)
        checks.not_archived(db, [client_id])
        already = [e for e in repo_waitlist.entries(db, coach.id) if e.client_id == client_id]
        shown_days, shown_window = waitlist.show_days(day_set), waitlist.show_window(window)
        for entry in already:
            if (entry.days, entry.window) == (shown_days, shown_window):
                raise Refused(
                    "already_waiting",
                    f"client {client_id} is already on coach {coach.id}'s waitlist with these"
                    f" wishes (#{entry.id}); `calbridge waitlist remove {entry.id}` first",
                    entry=entry.id,
                )
        now = book.clock()
        entry_id = repo_waitlist.add(db, client_id, coach.id, shown_days, shown_window, now)
        fields = {"client": client_id, "coach": coach.id, "on": shown_days, "between": shown_window}
        repo.audit(db, now, "waitlist", entry_id, "added", Actor.ADMIN, book.origin, fields)
        found = repo_waitlist.entry(db, entry_id)
        assert found is not None
        return _json(book, found, [])


def list_entries(
    book: Book, coach_id: str | None = None, everyone: bool = False
) -> list[dict[str, Any]]:
    """Who waits, oldest first, each with the offers made to them (``everyone``: also
    those who booked a time or were removed)."""
    if coach_id is not None:
        book.coach(coach_id)
    with book.transaction() as db:
        rows = repo_waitlist.entries(db, coach_id, waiting_only=not everyone)
        offers = repo_waitlist.offers_of(db, [r.id for r in rows])
        return [_json(book, r, [o for o in offers if o.waitlist_id == r.id]) for r in rows]


def remove(book: Book, entry_id: int) -> dict[str, Any]:
    """Take a wish off the waitlist; an open offer made from it is withdrawn (told)."""
    with book.transaction() as db:
        entry = _waiting(db, entry_id)
        lock(db, [f"coach:{entry.coach_id}", f"client:{entry.client_id}"])
        entry = _waiting(db, entry_id, for_update=True)
        now = book.clock()
        for offer in repo_waitlist.offers_of(db, [entry.id]):
            if offer.state == "open":
                withdraw(
                    book, db, offer, now, "you were taken off the waitlist", "withdrawn", False
                )
        entry.state, entry.left_at = "removed", now
        repo.audit(db, now, "waitlist", entry.id, "removed", Actor.ADMIN, book.origin, {})
        offers = repo_waitlist.offers_of(db, [entry.id])
        return _json(book, entry, offers)


def _waiting(db: Db, entry_id: int, for_update: bool = False) -> WaitlistRow:
    entry = repo_waitlist.entry(db, entry_id, for_update)
    if entry is None:
        raise NotFound(f"no waitlist entry #{entry_id} (see `calbridge waitlist list`)")
    if entry.state != repo_waitlist.WAITING:
        raise Refused(
            "not_waiting",
            f"waitlist entry #{entry_id} is {entry.state}, not waiting: nothing to remove",
            entry=entry_id,
            state=entry.state,
        )
    return entry


def _json(book: Book, row: WaitlistRow, offers: list[OfferRow]) -> dict[str, Any]:
    zone = book.zone(row.coach_id)
    return {
        "id": row.id,
        "client": row.client_id,
        "coach": row.coach_id,
        "on": row.days,
        "between": row.window,
        "added": row.added_at.astimezone(zone).isoformat(),
        "state": row.state,
        "session": row.session_id,
        "offers": [
            {
                "offer": o.id,
                "state": o.state,
                "start": o.holds[0].start.astimezone(zone).isoformat() if o.holds else None,
                "end": o.holds[0].end.astimezone(zone).isoformat() if o.holds else None,
                "deadline": o.deadline.astimezone(zone).isoformat(),
            }
            for o in offers
        ],
    }
