"""The mail consumer: the book's change events become mail and texts in the outbox,
inside the change's transaction (``events.changes``; installed by ``service.wiring``).

Each event maps to the pure notices that tell its people (``notices`` through
``notify``, ``seat_notices`` through ``seat_mail``, ``offer_notices`` here), which are
then queued; which of them also gets a text is the channel's choice (``channels``)."""

from __future__ import annotations

from datetime import datetime

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
from calbridge.events.links import client_url
from calbridge.mail import channels, counter_mail, notify, offer_notices, seat_mail
from calbridge.mail.channels import texts
from calbridge.mail.offer_notices import OfferChange
from calbridge.mail.outbox import enqueue
from calbridge.store import repo_sms
from calbridge.store.db import Db


def consume(book: BookContext, db: Db, change: Change) -> list[str]:
    """Queue what ``change`` tells its people; returns the Message-IDs of the mail."""
    match change:
        case Offered() | OfferCancelled() | WaitlistOffered() | WaitlistGone():
            return [_offer(book, db, change)]
    _session_notice(book, db, change)
    return []


def _session_notice(book: BookContext, db: Db, change: Change) -> None:
    match change:
        case MoveAsked(session, party, start, end, ref):
            counter_mail.waiting(book, db, session, party, start, end, ref, page=True)
        case SeatsAdded():
            seat_mail.added(book, db, change)
        case SeatsRemoved():
            seat_mail.removed(book, db, change)
        case _:
            notify.consume(book, db, change)


def _offer(book: BookContext, db: Db, change: OfferChange) -> str:
    """The offer's mail to its client, then the text if they chose texts."""
    page = ""
    if isinstance(change, Offered | OfferCancelled):
        page = client_url(book.settings, db, change.client.id) or ""
    notice = offer_notices.notice(change, book.settings, page, texts)
    now, domain = book.clock(), book.settings.mail.from_.rpartition("@")[2]
    sent = enqueue(
        db, notice.message, kind=notice.kind, now=now, domain=domain, session_id=notice.session_id
    )
    text_client(db, notice.client, notice.text, notice.kind, now, notice.session_id)
    return sent


def text_client(
    db: Db,
    client_id: str,
    said: str | None,
    kind: str,
    now: datetime,
    session_id: int | None = None,
) -> bool:
    """Also by text to a client who chose texts and did not opt out (mail always goes)."""
    contact = repo_sms.contact(db, "client", client_id)
    return channels.text(db, contact, said, kind, now, session_id, None)
