"""The mail consumer: the book's change events become mail and texts in the outbox,
inside the change's transaction (``events.changes``; installed by ``service.wiring``).

Each event maps to the notice that tells its people (``notify``, ``seat_mail``,
``offer_notices``); which of them also gets a text is the channel's choice
(``channels``)."""

from __future__ import annotations

from calbridge.events.changes import (
    Change,
    MoveAsked,
    OfferCancelled,
    Offered,
    SeatsAdded,
    SeatsRemoved,
    WaitlistGone,
    WaitlistOffered,
)
from calbridge.events.context import BookContext
from calbridge.mail import counter_mail, notify, offer_notices, seat_mail
from calbridge.store.db import Db


def consume(book: BookContext, db: Db, change: Change) -> list[str]:
    """Queue what ``change`` tells its people; returns the Message-IDs of the mail."""
    match change:
        case Offered():
            return offer_notices.offered(book, db, change)
        case OfferCancelled():
            return offer_notices.offer_cancelled(book, db, change)
        case WaitlistOffered():
            return offer_notices.waitlist_offered(book, db, change)
        case WaitlistGone():
            return offer_notices.waitlist_gone(book, db, change)
    _session_notice(book, db, change)
    return []


def _session_notice(book: BookContext, db: Db, change: Change) -> None:
    match change:
        case MoveAsked(session, party, start, end, ref):
            counter_mail.waiting(book, db, session, party, start, end, ref, page=True)
        case SeatsAdded(sessions, parties, returning, one):
            seat_mail.added(book, db, sessions, parties, returning, one)
        case SeatsRemoved(before, parties, sequence, one):
            seat_mail.removed(book, db, before, parties, sequence, one)
        case _:
            notify.consume(book, db, change)
