"""Helpers for the offer tests: making offers, reading the outbox and the holds."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select

from book_helpers import at
from calbridge.book import Book
from calbridge.book.offers import Offered, make_offer
from calbridge.store.tables import OutboxRow
from calbridge.store.tables_offers import HoldRow, OfferRow


def offer(book: Book, session_id: int, *times: str, **kw: Any) -> Offered:
    return make_offer(book, session_id, [at(t) for t in times], **kw)


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def outbox(book: Book, kind: str = "offer") -> list[OutboxRow]:
    """The outbox's messages of one kind (plans and moves queue invitations too)."""
    with book.transaction() as db:
        query = select(OutboxRow).where(OutboxRow.kind == kind)
        return list(db.scalars(query.order_by(OutboxRow.id)))


def parsed(row: OutboxRow) -> EmailMessage:
    message = email.message_from_bytes(row.raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def holds(book: Book) -> list[HoldRow]:
    with book.transaction() as db:
        return list(db.scalars(select(HoldRow).order_by(HoldRow.id)))


def live_holds(book: Book) -> list[HoldRow]:
    return [h for h in holds(book) if h.released_at is None]


def offer_state(book: Book, offer_id: int) -> str:
    with book.transaction() as db:
        row = db.get(OfferRow, offer_id)
        assert row is not None
        return row.state


def http(url: str, method: str = "GET") -> tuple[int, str, dict[str, str]]:
    """One real HTTP request (no redirects followed); returns (status, body, headers)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode(), dict(error.headers)
