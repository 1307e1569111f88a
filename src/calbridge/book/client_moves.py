"""Another time picked on the client's page (issue 15 item 2). Per ``[policies] page_move``
(per service too) it is moved at once as a client-requested move (``accept``, the default)
or asked for (``coach``): stored as an open request beside the COUNTERs from mail apps,
shown on the client's page, told to the coach and the practice, and answered with
`calbridge counter accept|decline` (inbound/counter.py), checked again then.

``check_move`` is the one check both kinds of request use: every rule of a
client-requested move (``planning.edit``: the monthly limit, availability, closures,
booking policies) inside a savepoint, so a check that fails leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from calbridge.book import planning
from calbridge.book.client_page import Visitor, free_times, mine, refusal
from calbridge.book.context import Book
from calbridge.book.offer_answers import LinkError
from calbridge.book.requests import EditRequest
from calbridge.core.model import Actor, Session
from calbridge.core.policies import COACH
from calbridge.core.timeutil import month_of
from calbridge.errors import CalbridgeError
from calbridge.events.changes import MoveAsked
from calbridge.store import repo, repo_clientpage
from calbridge.store.db import Db, lock

Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class Asked:
    """A time asked for, left for the coach (``[policies] page_move = "coach"``)."""

    request_id: int
    coach_id: str
    start: datetime
    end: datetime


def check_move(book: Book, db: Db, session_id: int, span: Span, keep: bool) -> Session:
    """Move the session to ``span`` as the client asked (kept only when ``keep``); a
    rule's refusal raises and leaves nothing behind either way."""
    nested = db.begin_nested()
    try:
        request = EditRequest(start=span[0], end=span[1], client_requested=True, by=Actor.CLIENT)
        moved = planning.edit(book, session_id, request)
    except CalbridgeError:
        nested.rollback()
        raise
    if keep:
        nested.commit()
    else:
        nested.rollback()
    return moved


def move(book: Book, v: Visitor, session_id: int, start: datetime) -> Session | Asked:
    """Move to ``start`` if it is one of the free times: at once (client-requested), or
    asked for, as the session's ``page_move`` policy says."""
    session, _ = mine(book, v, session_id)
    zone = book.zone(session.coach_id)
    with book.transaction() as db:
        _, _, slots, _ = free_times(
            book, v, session_id, month_of(start, zone), start - timedelta(seconds=1)
        )
        if not slots or slots[0][0] != start:
            raise LinkError(409, "This time is not free", "Please pick another time from the list.")
        span = slots[0]
        asking = book.settings.policy(session.service).page_move == COACH
        try:
            if asking:
                return _ask(book, db, v, session, span)
            return check_move(book, db, session_id, span, keep=True)
        except LinkError:
            raise
        except CalbridgeError as exc:
            raise refusal(exc, "moved") from None


def _ask(book: Book, db: Db, v: Visitor, session: Session, span: Span) -> Asked:
    assert session.id is not None
    lock(db, [f"coach:{session.coach_id}", f"client:{v.client_id}"])
    found = repo_clientpage.requests_of(db, [session.id]).get(session.id)
    if found is not None and found.state == "open":
        raise LinkError(
            409,
            "You already asked for another time",
            "Your coach has not answered your last request yet; you will hear by email.",
        )
    check_move(book, db, session.id, span, keep=False)
    now = book.clock()
    row = repo.session_row(db, session.id)
    asked = repo_clientpage.add_request(db, row, v.client_id, v.email, span, now)
    changes = {"request": asked.id, "start": span[0].isoformat(), "end": span[1].isoformat()}
    repo.audit(db, now, "session", session.id, "move-asked", Actor.CLIENT, book.origin, changes)
    book.emit(db, MoveAsked(session, v.client_id, *span, asked.id))
    return Asked(asked.id, session.coach_id, *span)
