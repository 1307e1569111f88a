"""The client's answer to an offer, from a signed link (PRODUCT rule 4).

``look`` says what a link would do (the confirmation page a GET shows: mail scanners
fetch links, so reading one never acts); ``act`` does it (the POST): accept one time or
reject them all, in one transaction with recording that the link was used. A forged,
expired or used link raises ``LinkError`` and changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from calbridge.book import planning
from calbridge.book.context import Book
from calbridge.book.offers import freed_up, release
from calbridge.book.requests import EditRequest, PlanRequest
from calbridge.book.waitlist_offers import withdraw
from calbridge.core.model import Actor
from calbridge.core.tokens import REJECT, BadToken, ExpiredToken, OfferToken, verify_offer
from calbridge.errors import CalbridgeError, NotFound, Refused
from calbridge.store import repo, repo_offers, repo_waitlist
from calbridge.store.db import Db, lock
from calbridge.store.tables_offers import HoldRow, OfferRow

log = logging.getLogger(__name__)
_CLOSED = {
    "accepted": "You already picked a time from this offer.",
    "rejected": "You already rejected this offer.",
    "expired": "This offer has expired and its times were released.",
    "withdrawn": "This offer was withdrawn: the session was cancelled or declined.",
    "cancelled": "This offer was cancelled: its times are no longer held.",
    "taken": "Someone on the waitlist took this time first. You stay on the waitlist.",
}


class LinkError(CalbridgeError):
    """A link that cannot act: ``status`` is the HTTP status its page gets."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


@dataclass(frozen=True)
class Proposal:
    """What a link does, for its confirmation page and its result page."""

    offer_id: int
    choice: str
    coach_name: str
    zone: str
    start: datetime | None  # None for the reject link
    end: datetime | None
    done: bool = False


def _token(book: Book, secret: bytes, token: str) -> OfferToken:
    try:
        return verify_offer(secret, token, book.clock())
    except BadToken:
        raise LinkError(
            400, "This link is not valid", "Please use the link exactly as it came in the email."
        ) from None
    except ExpiredToken:
        raise LinkError(410, "This offer has expired", _CLOSED["expired"]) from None


def _open(offer: OfferRow | None, parsed: OfferToken, now: datetime) -> OfferRow:
    if offer is None:
        raise LinkError(404, "Offer not found", "This offer no longer exists.")
    if offer.state != repo_offers.OPEN:
        raise LinkError(410, "This link was already used", _CLOSED.get(offer.state, offer.state))
    if offer.deadline <= now:
        raise LinkError(410, "This offer has expired", _CLOSED["expired"])
    return offer


def _hold(offer: OfferRow, choice: str, now: datetime) -> HoldRow | None:
    if choice == REJECT:
        return None
    found = [h for h in offer.holds if str(h.position) == choice]
    if not found:
        raise LinkError(404, "Offer not found", "This offer has no such time.")
    if found[0].start <= now:
        raise LinkError(410, "This time has passed", "The offered time has already begun.")
    return found[0]


def _proposal(book: Book, db: Db, offer: OfferRow, choice: str, hold: HoldRow | None) -> Proposal:
    """The page's words: times in the client's own zone (else their coach's)."""
    coach = book.coach(offer.coach_id)
    return Proposal(
        offer.id,
        choice,
        coach.name,
        repo.client(db, offer.client_id).timezone or coach.timezone,
        hold.start if hold else None,
        hold.end if hold else None,
    )


def look(book: Book, secret: bytes, token: str) -> Proposal:
    """What the link would do; LinkError if it cannot. Changes nothing."""
    parsed = _token(book, secret, token)
    now = book.clock()
    with book.transaction() as db:
        offer = _open(repo_offers.offer(db, parsed.offer_id), parsed, now)
        return _proposal(book, db, offer, parsed.choice, _hold(offer, parsed.choice, now))


def act(book: Book, secret: bytes, token: str) -> Proposal:
    """Accept the link's time or reject all, recording the link's use in the same
    transaction; a refusal (the time is no longer free, the month is now full) rolls
    everything back and the offer stays open."""
    parsed = _token(book, secret, token)
    now = book.clock()
    try:
        with book.transaction() as db:
            found = repo_offers.offer(db, parsed.offer_id)
            if found is not None:  # the coach first: rival waitlist offers are closed too
                lock(db, [f"coach:{found.coach_id}", f"client:{found.client_id}"])
            offer = _open(repo_offers.offer(db, parsed.offer_id, for_update=True), parsed, now)
            hold = _hold(offer, parsed.choice, now)
            state = "rejected" if hold is None else "accepted"
            held = release(offer, now, state, kept=hold.position if hold else None)
            offer.answered_at, offer.answer = now, parsed.choice
            if hold is not None and offer.waitlist_id is not None:
                _take(book, db, offer, hold, now)
            elif hold is not None and offer.session_id is not None:
                move = EditRequest(  # held: the booking policies were met when offered
                    start=hold.start, end=hold.end, client_requested=True, by=Actor.CLIENT,
                    held=True,
                )  # fmt: skip
                planning.edit(book, offer.session_id, move)
                planning.answer(book, offer.session_id, Actor.CLIENT, True, offer.client_id)
            changes = {"offer": offer.id, "choice": parsed.choice}
            entity, ident = (
                ("session", offer.session_id)
                if offer.session_id is not None
                else ("waitlist", offer.waitlist_id)
            )
            repo.audit(db, now, entity, ident, f"offer-{state}", Actor.CLIENT, book.origin, changes)
            repo.record_change(
                db, now, f"offer.{state}", offer.session_id, {**changes, "holds": held}
            )
            unchosen = [h.id for h in offer.holds if h.id in held and h is not hold]
            freed_up(book, db, offer, unchosen)  # the times let go go to the waitlist
            proposal = _proposal(book, db, offer, parsed.choice, hold)
    except (Refused, NotFound) as exc:
        log.info("offer %s, choice %s refused: %s", parsed.offer_id, parsed.choice, exc)
        raise LinkError(
            409,
            "This time can no longer be booked",
            "Something else took this time since the offer was made. Please pick another"
            " time from the email, or reply to it to reach your coach.",
        ) from None
    return replace(proposal, done=True)


def _take(book: Book, db: Db, offer: OfferRow, hold: HoldRow, now: datetime) -> None:
    """A waitlisted client takes the freed time: rival offers of it are closed (their
    clients told it's gone), the session is planned and accepted (planning takes the
    client off the coach's waitlist)."""
    for rival in repo_waitlist.rivals(db, offer, hold.start, hold.end):
        withdraw(book, db, rival, now)
    request = PlanRequest(
        coach_id=offer.coach_id, clients=[offer.client_id], start=hold.start, end=hold.end
    )
    session = planning.plan(book, request)[0]
    assert session.id is not None
    planning.answer(book, session.id, Actor.CLIENT, True, offer.client_id)
    offer.session_id = session.id
    for h in offer.holds:
        h.session_id = session.id
