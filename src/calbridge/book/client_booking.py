"""Booking a new session from the client's page, where their program allows it
(``[programs.X] self_booking``): with a coach they already see, at a free slot of the
first month with room (the ``slots`` finder), planned by the client as ``session plan``
would: the coach then accepts it, or (``[policies] page_booking = "accept"``, per service
too) it is confirmed at once."""

from __future__ import annotations

from datetime import datetime, timedelta

from calbridge.book import planning, views
from calbridge.book.client_page import SLOTS_SHOWN, Visitor, refusal
from calbridge.book.context import Book
from calbridge.book.offer_answers import LinkError
from calbridge.book.requests import PlanRequest
from calbridge.core.model import Actor, Session
from calbridge.core.policies import ACCEPT
from calbridge.core.timeutil import month_of
from calbridge.errors import CalbridgeError
from calbridge.store import repo, repo_clientpage


def coaches(book: Book, v: Visitor) -> list[tuple[str, str]]:
    """(id, name) of the coaches the client may book with; none if their program does
    not allow self-booking."""
    with book.transaction() as db:
        program = repo.client(db, v.client_id).program
        if not book.settings.program(program).self_booking:
            return []
        known = {c.id for c in book.settings.coaches}
        found = [c for c in repo_clientpage.coaches_of(db, v.client_id) if c in known]
    return [(c, book.coach(c).name) for c in found]


def _coach(book: Book, v: Visitor, coach_id: str) -> None:
    if coach_id not in dict(coaches(book, v)):
        raise LinkError(403, "Booking is not open", "Please ask your coach for a session.")


def times(
    book: Book, v: Visitor, coach_id: str, month: str | None, after: datetime | None
) -> tuple[str, list[tuple[datetime, datetime]], bool]:
    """(month, up to SLOTS_SHOWN free slots, more?) for a new session with the coach."""
    _coach(book, v, coach_id)
    try:
        found = views.slots(book, coach_id, v.client_id, month, None)
    except CalbridgeError as exc:
        raise refusal(exc, "booked") from None
    slots = [
        (datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"]))
        for s in found["slots"]
    ]
    slots = [s for s in slots if after is None or s[0] > after]
    return str(found["month"]), slots[:SLOTS_SHOWN], len(slots) > SLOTS_SHOWN


def book_session(book: Book, v: Visitor, coach_id: str, start: datetime) -> Session:
    """Plan a session at ``start`` if it is one of the free times; the coach accepts it
    (or, per ``page_booking``, it is confirmed at once)."""
    zone = book.zone(coach_id)
    with book.transaction():
        _, slots, _ = times(book, v, coach_id, month_of(start, zone), start - timedelta(seconds=1))
        if not slots or slots[0][0] != start:
            raise LinkError(409, "This time is not free", "Please pick another time from the list.")
        at_once = book.settings.policy(None).page_booking == ACCEPT
        request = PlanRequest(
            coach_id=coach_id,
            clients=[v.client_id],
            start=start,
            by=Actor.CLIENT,
            client_requested=at_once,
        )
        try:
            (session,) = planning.plan(book, request)
        except CalbridgeError as exc:
            raise refusal(exc, "booked") from None
        return session
