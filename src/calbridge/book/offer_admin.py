"""Offers seen and undone by the admin: list them, show one with its links again (for a
client who lost the mail), cancel one (holds released, the client told)."""

from __future__ import annotations

from typing import Any

from calbridge.book.context import Book
from calbridge.book.offers import close, freed_up, links
from calbridge.book.waitlist_offers import withdraw
from calbridge.config.secret import load_secret
from calbridge.core.model import Actor
from calbridge.errors import NotFound, Refused
from calbridge.events import changes
from calbridge.store import repo, repo_offers
from calbridge.store.db import Db, lock
from calbridge.store.tables_offers import OfferRow


def _found(db: Db, offer_id: int, for_update: bool = False) -> OfferRow:
    row = repo_offers.offer(db, offer_id, for_update)
    if row is None:
        raise NotFound(f"no offer #{offer_id} (see `calbridge offer list`)")
    return row


def _json(book: Book, row: OfferRow) -> dict[str, Any]:
    zone = book.zone(row.coach_id)
    return {
        "id": row.id,
        "session": row.session_id,
        "coach": row.coach_id,
        "client": row.client_id,
        "waitlist": row.waitlist_id,
        "state": row.state,
        "created": row.created_at.astimezone(zone).isoformat(),
        "deadline": row.deadline.astimezone(zone).isoformat(),
        "answer": row.answer,
        "holds": [
            {
                "choice": str(h.position),
                "start": h.start.astimezone(zone).isoformat(),
                "end": h.end.astimezone(zone).isoformat(),
                "released": h.release_reason,
            }
            for h in row.holds
        ],
    }


def list_offers(
    book: Book, state: str | None = None, session_id: int | None = None
) -> list[dict[str, Any]]:
    with book.transaction() as db:
        return [_json(book, r) for r in repo_offers.listing(db, state, session_id)]


def show_offer(book: Book, offer_id: int) -> dict[str, Any]:
    """The offer with its links, signed again exactly as mailed (open offers only: closed
    ones' links no longer work)."""
    with book.transaction() as db:
        row = _found(db, offer_id)
        data = _json(book, row)
        usable = row.state == repo_offers.OPEN and row.deadline > book.clock()
        secret = load_secret(book.settings)
        data["links"] = (
            links(book.settings, secret, row.id, len(row.holds), row.deadline) if usable else {}
        )
        return data


def cancel_offer(book: Book, offer_id: int, reason: str | None = None) -> dict[str, Any]:
    """Close an open offer as ``cancelled``: holds released (they leave the coach's
    calendar on the next sync), links dead, the client emailed; the session is unchanged."""
    with book.transaction() as db:
        row = _found(db, offer_id)
        lock(db, [f"coach:{row.coach_id}", f"client:{row.client_id}"])
        row = _found(db, offer_id, for_update=True)
        if row.state != repo_offers.OPEN:
            raise Refused(
                "offer_closed",
                f"offer #{offer_id} is {row.state}, not open: nothing to cancel",
                offer=offer_id,
                state=row.state,
            )
        now = book.clock()
        if row.session_id is None:  # a waitlist offer: the client is told it's withdrawn
            why = reason or "the coach withdrew it"
            sent = withdraw(book, db, row, now, why, state="cancelled")
            freed_up(book, db, row, [h.id for h in row.holds])
            return _json(book, row) | {"message_id": sent}
        session = repo.to_session(repo.session_row(db, row.session_id))
        client = repo.client(db, row.client_id)
        urls = links(
            book.settings, load_secret(book.settings), row.id, len(row.holds), row.deadline
        )
        held = close(book, db, row, now, "cancelled")
        cancelled = changes.OfferCancelled(row, session, client, urls, reason or "")
        sent = book.emit(db, cancelled)[0]
        if reason:
            repo.audit(
                db, now, "session", session.id, "offer-cancel-reason", Actor.ADMIN, book.origin,
                {"offer": offer_id, "reason": reason},
            )  # fmt: skip
        freed_up(book, db, row, held)
        return _json(book, row) | {"message_id": sent}
