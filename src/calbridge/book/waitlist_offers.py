"""Freed times go to the waitlist through the offers (PRODUCT rule 4): each time is held
as a tentative event for each client offered it, who gets the offer mail (and a text if
they chose texts); the first to accept gets it (book/offer_answers.py), the others are
told it's gone. Runs inside the transaction that freed the time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from calbridge.book import checks
from calbridge.book.context import Book
from calbridge.book.offers import close, hold_offer
from calbridge.config.schema import Coach
from calbridge.core import waitlist
from calbridge.core.availability import conflicts
from calbridge.core.model import CLIENT_KINDS, Actor, Client, Session
from calbridge.core.timeutil import month_of
from calbridge.events import changes
from calbridge.store import repo, repo_waitlist
from calbridge.store.db import Db
from calbridge.store.tables_offers import OfferRow
from calbridge.store.tables_waitlist import WaitlistRow

Span = tuple[datetime, datetime]
#: A hold ends this long before its time at the latest, so a late yes can still be met.
_MARGIN = timedelta(minutes=30)


def booked(book: Book, db: Db, session: Session) -> list[int]:
    """A new session with the coach (planned by the admin, booked on the client's page,
    taken from an offer) takes each of its clients off that coach's waitlist: their
    waiting wishes are booked, an open offer of a freed time is withdrawn (told). Indirect
    work and non-client events take nobody off."""
    if session.kind not in CLIENT_KINDS or not session.direct or session.id is None:
        return []
    now = book.clock()
    left = []
    for client_id in session.clients:
        entries = repo_waitlist.leave(db, client_id, session.coach_id, session.id, now)
        if not entries:
            continue
        coach = book.coach(session.coach_id).name
        why = f"you now have a session booked with {coach}"
        for offer in repo_waitlist.open_offers(db, session.coach_id):
            if offer.client_id == client_id:
                withdraw(book, db, offer, now, why, "withdrawn", still_waiting=False)
        for entry in entries:
            fields = {"session": session.id}
            repo.audit(db, now, "waitlist", entry, "booked", Actor.ADMIN, book.origin, fields)
        left += entries
    return left


def wish(row: WaitlistRow) -> waitlist.Wish:
    days = waitlist.parse_days(row.days) if row.days else frozenset()
    window = waitlist.parse_window(row.window) if row.window else None
    return waitlist.Wish(row.id, row.client_id, row.coach_id, row.added_at, days, window)


def freed(book: Book, db: Db, coach_id: str, spans: Sequence[Span]) -> list[int]:
    """Offer each free, future span to the first fitting waitlisted clients; returns the
    new offers' ids. A span still busy (another hold, a session) is left alone."""
    now = book.clock()
    future = sorted(s for s in spans if s[0] > now + _MARGIN)
    if not future:
        return []
    rows = repo_waitlist.entries(db, coach_id)
    if not rows:
        return []
    coach = book.coach(coach_id)
    zone = coach.zone()
    first, last = future[0][0], max(e for _, e in future)
    busy = checks.coach_busy(book, db, coach, first, last)
    free = [s for s in future if not conflicts(*s, coach.hours(), zone, busy)]
    wishes = [wish(r) for r in rows]
    ids = sorted({w.client_id for w in wishes})
    clients = {c: repo.client(db, c) for c in ids}
    waiting = {o.client_id for o in repo_waitlist.open_offers(db, coach_id)}
    waiting |= set(repo.archived_ids(db, "client", ids))
    before = repo_waitlist.offered_before(db, coach_id, first, last)
    full = _full(book, db, list(clients.values()), free, zone)
    made = []
    for span, picked in waitlist.assign(
        wishes, coach_id, free, zone, full, waiting, waitlist.OFFER_TO, before
    ):
        made += [_offer(book, db, coach, clients[w.client_id], w.id, span, now) for w in picked]
    return made


def _full(
    book: Book, db: Db, clients: list[Client], spans: Sequence[Span], zone: ZoneInfo
) -> set[tuple[str, str]]:
    """(client, month) pairs among the spans' months with no room left."""
    months = sorted({month_of(s, zone) for s, _ in spans})
    out = set()
    for client in clients:
        for month in months:
            booked = checks.client_months(book, db, client, month)
            if booked.count(month) >= booked.limit:
                out.add((client.id, month))
    return out


def _offer(
    book: Book, db: Db, coach: Coach, client: Client, entry_id: int, span: Span, now: datetime
) -> int:
    left = (span[0] - _MARGIN - now).total_seconds() / 3600
    hours = min(book.settings.offers.hold_hours, left)
    offer, urls = hold_offer(book, db, coach, client.id, [span], now, hours, waitlist_id=entry_id)
    offer.message_id = book.emit(db, changes.WaitlistOffered(offer, client, urls, span[0]))[0]
    held = [h.id for h in offer.holds]
    fields = {"offer": offer.id, "start": span[0].isoformat(), "client": client.id}
    repo.audit(db, now, "waitlist", entry_id, "offered", Actor.ADMIN, book.origin, fields)
    repo.record_change(db, now, "offer.created", None, {"offer": offer.id, "holds": held})
    return offer.id


def withdraw(
    book: Book,
    db: Db,
    offer: OfferRow,
    now: datetime,
    reason: str = "",
    state: str = "taken",
    still_waiting: bool = True,
) -> str:
    """Close an open waitlist offer (``taken``: another client accepted first; or withdrawn
    with ``reason``), release its hold and tell the client by mail (and text). Returns the
    mail's Message-ID."""
    close(book, db, offer, now, state)
    client = repo.client(db, offer.client_id)
    return book.emit(db, changes.WaitlistGone(offer, client, reason, still_waiting))[0]
