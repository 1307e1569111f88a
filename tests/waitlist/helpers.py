"""Reading what the waitlist did: its offers, the outbox, answering a link."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from calbridge.book import Book
from calbridge.book.offer_admin import show_offer
from calbridge.book.offer_answers import Proposal, act
from calbridge.config.secret import load_secret
from calbridge.store.tables import OutboxRow
from calbridge.store.tables_offers import OfferRow


def offers(book: Book) -> list[OfferRow]:
    with book.transaction() as db:
        query = select(OfferRow).options(selectinload(OfferRow.holds)).order_by(OfferRow.id)
        return list(db.scalars(query))


def waitlist_offers(book: Book, state: str | None = None) -> dict[str, OfferRow]:
    """Waitlist offers by client (the newest of each), optionally of one state."""
    found = [o for o in offers(book) if o.waitlist_id is not None]
    return {o.client_id: o for o in found if state is None or o.state == state}


def outbox(book: Book, kind: str, channel: str = "mail") -> list[OutboxRow]:
    with book.transaction() as db:
        query = select(OutboxRow).where(OutboxRow.kind == kind, OutboxRow.channel == channel)
        return list(db.scalars(query.order_by(OutboxRow.id)))


def link(book: Book, offer_id: int, choice: str = "1") -> str:
    """The link of an open offer, as it was mailed."""
    url: str = show_offer(book, offer_id)["links"][choice]
    return url


def use(book: Book, url: str) -> Proposal:
    """Use a link as the client would (the POST)."""
    return act(book, load_secret(book.settings), url.rsplit("/", 1)[-1])


def answer(book: Book, offer_id: int, choice: str = "1") -> Proposal:
    return use(book, link(book, offer_id, choice))
